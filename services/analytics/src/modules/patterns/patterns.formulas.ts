import { kmeans } from 'ml-kmeans';
import type { ClusterRecord, ProductPairRecord } from './patterns.model.js';

/** A pair seen in fewer orders than this is noise, whatever its lift. */
export const MIN_PAIR_ORDERS = 2;
/** The snapshot keeps this many pairs (a document stays small). */
export const MAX_PAIRS = 2000;

const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

/**
 * Counts products and pairs of products over baskets (the distinct products of each order) and derives
 * support, confidence both ways and lift. This is the first two passes of Apriori: for pairs, counting
 * every pair of each basket is exact and linear in the orders, so no mining library is needed.
 */
export class PairCounter {
  baskets = 0;
  readonly products = new Map<string, number>();
  private readonly pairs = new Map<string, number>();

  add(productIds: readonly string[]): void {
    const items = [...new Set(productIds)].sort();
    if (!items.length) return;
    this.baskets += 1;
    for (const p of items) this.products.set(p, (this.products.get(p) ?? 0) + 1);
    for (let i = 0; i < items.length; i += 1) for (let j = i + 1; j < items.length; j += 1) {
      const key = `${items[i]}\u0000${items[j]}`;
      this.pairs.set(key, (this.pairs.get(key) ?? 0) + 1);
    }
  }

  result(minOrders = MIN_PAIR_ORDERS, max = MAX_PAIRS): ProductPairRecord[] {
    const n = this.baskets;
    const out: ProductPairRecord[] = [];
    for (const [key, both] of this.pairs) {
      if (both < minOrders) continue;
      const [a, b] = key.split('\u0000') as [string, string];
      const na = this.products.get(a)!;
      const nb = this.products.get(b)!;
      out.push({ a, b, orders: both, support: round4(both / n), confidenceAB: round4(both / na), confidenceBA: round4(both / nb), lift: round4((both * n) / (na * nb)) });
    }
    out.sort((x, y) => y.orders - x.orders || y.lift - x.lift || x.a.localeCompare(y.a) || x.b.localeCompare(y.b));
    return out.slice(0, max);
  }
}

export interface RfmPoint {
  customerId: string;
  recencyDays: number;
  orders: number;
  spendMinor: number;
}

/**
 * k-means (ml-kmeans: k-means++ seeding, a fixed seed so a run is repeatable) on log-scaled,
 * standardised recency, frequency and spend: spend and order counts are heavy-tailed, so without the
 * log one big customer would be a cluster of its own; standardising gives the three equal weight.
 * Clusters are numbered by average spend, highest first, and labelled against the overall means.
 */
export function clusterCustomers(points: readonly RfmPoint[], k: number, seed = 42): { clusters: ClusterRecord[]; assignment: Map<string, number> } {
  const assignment = new Map<string, number>();
  if (!points.length) return { clusters: [], assignment };
  const features = points.map((p) => [Math.log1p(p.recencyDays), Math.log1p(p.orders), Math.log1p(Math.max(0, p.spendMinor))]);
  const means = [0, 1, 2].map((d) => features.reduce((s, f) => s + f[d]!, 0) / features.length);
  const sds = [0, 1, 2].map((d) => Math.sqrt(features.reduce((s, f) => s + (f[d]! - means[d]!) ** 2, 0) / features.length) || 1);
  const scaled = features.map((f) => f.map((v, d) => (v - means[d]!) / sds[d]!));
  const distinct = new Set(scaled.map((f) => f.join(','))).size;
  const clusterCount = Math.max(1, Math.min(k, distinct));
  const raw = clusterCount === 1 ? points.map(() => 0) : kmeans(scaled, clusterCount, { seed, initialization: 'kmeans++', maxIterations: 100 }).clusters;

  const sums = new Map<number, { n: number; recency: number; orders: number; spend: number }>();
  raw.forEach((c, i) => {
    const s = sums.get(c) ?? { n: 0, recency: 0, orders: 0, spend: 0 };
    const p = points[i]!;
    s.n += 1;
    s.recency += p.recencyDays;
    s.orders += p.orders;
    s.spend += p.spendMinor;
    sums.set(c, s);
  });
  const overall = { recency: points.reduce((s, p) => s + p.recencyDays, 0) / points.length, orders: points.reduce((s, p) => s + p.orders, 0) / points.length, spend: points.reduce((s, p) => s + p.spendMinor, 0) / points.length };
  const ranked = [...sums.entries()].map(([raw, s]) => ({ raw, n: s.n, recency: s.recency / s.n, orders: s.orders / s.n, spend: s.spend / s.n })).sort((a, b) => b.spend - a.spend || a.recency - b.recency);
  const idOf = new Map(ranked.map((c, i) => [c.raw, i + 1]));
  const clusters: ClusterRecord[] = ranked.map((c, i) => ({
    id: i + 1,
    label: [c.recency <= overall.recency ? 'recent' : 'lapsed', c.orders >= overall.orders ? 'frequent' : 'occasional', c.spend >= overall.spend ? 'high spend' : 'low spend'].join(', '),
    customers: c.n,
    recencyDays: Math.round(c.recency * 10) / 10,
    orders: Math.round(c.orders * 100) / 100,
    spendMinor: Math.round(c.spend),
  }));
  raw.forEach((c, i) => assignment.set(points[i]!.customerId, idOf.get(c)!));
  return { clusters, assignment };
}
