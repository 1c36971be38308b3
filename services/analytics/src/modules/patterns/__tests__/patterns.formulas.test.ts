import { describe, expect, it } from 'vitest';
import { clusterCustomers, PairCounter } from '../patterns.formulas.js';

describe('products bought together', () => {
  it('gives support, confidence both ways and lift from the baskets', () => {
    const counter = new PairCounter();
    // 10 baskets: A in 5, B in 4, A+B in 3, C in 2 (once with A), D alone once, an empty order.
    const baskets = [['A', 'B'], ['A', 'B'], ['B', 'A', 'A'], ['A', 'C'], ['A'], ['B'], ['C'], ['D'], ['E', 'F'], ['E'], []];
    for (const b of baskets) counter.add(b);
    expect(counter.baskets).toBe(10);
    expect(counter.result()).toEqual([
      { a: 'A', b: 'B', orders: 3, support: 0.3, confidenceAB: 0.6, confidenceBA: 0.75, lift: 1.5 },
    ]);
    // With single co-occurrences allowed: A+C (lift 10·1/(5·2) = 1) and E+F (10·1/(2·1) = 5), by orders then lift.
    expect(counter.result(1).map((p) => [p.a, p.b, p.lift])).toEqual([['A', 'B', 1.5], ['E', 'F', 5], ['A', 'C', 1]]);
  });
});

describe('customer clusters', () => {
  it('separates clearly different groups, numbers them by spend and labels them against the averages', () => {
    const points = [
      ...Array.from({ length: 6 }, (_, i) => ({ customerId: `vip${i}`, recencyDays: 3 + i, orders: 20 + i, spendMinor: 5_000_000 + i * 1000 })),
      ...Array.from({ length: 6 }, (_, i) => ({ customerId: `gone${i}`, recencyDays: 300 + i * 5, orders: 1, spendMinor: 10_000 + i * 100 })),
    ];
    const { clusters, assignment } = clusterCustomers(points, 2);
    expect(clusters.map((c) => [c.id, c.customers, c.label])).toEqual([
      [1, 6, 'recent, frequent, high spend'],
      [2, 6, 'lapsed, occasional, low spend'],
    ]);
    expect(clusters[0]).toMatchObject({ recencyDays: 5.5, orders: 22.5, spendMinor: 5_002_500 });
    for (let i = 0; i < 6; i += 1) {
      expect(assignment.get(`vip${i}`)).toBe(1);
      expect(assignment.get(`gone${i}`)).toBe(2);
    }
  });

  it('gives the same clusters on every run and never more clusters than distinct customers', () => {
    const points = Array.from({ length: 40 }, (_, i) => ({ customerId: `c${i}`, recencyDays: (i * 37) % 365, orders: 1 + (i % 7), spendMinor: 1000 * ((i * 13) % 29) }));
    expect(clusterCustomers(points, 4)).toEqual(clusterCustomers(points, 4));
    const same = Array.from({ length: 5 }, (_, i) => ({ customerId: `s${i}`, recencyDays: 10, orders: 2, spendMinor: 500 }));
    const one = clusterCustomers(same, 4);
    expect(one.clusters).toHaveLength(1);
    expect(one.clusters[0]!.customers).toBe(5);
    expect(clusterCustomers([], 4).clusters).toEqual([]);
  });
});
