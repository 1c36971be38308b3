import { describe, expect, it } from 'vitest';
import { averageMinor, weightedMinor } from '../../opportunity/opportunity.amounts.js';
import { DEFAULT_STAGES, type PipelineRecord } from '../../pipeline/pipeline.model.js';
import { computeForecast, forecastArgs, type ForecastArgs } from '../forecast.service.js';
import { isTimeZone, periodAt, periodIndexOf, zonedMidnight } from '../forecast.periods.js';

const pipeline: PipelineRecord = { _id: 'default', stages: [...DEFAULT_STAGES], version: 1, updatedBy: null, createdAt: new Date(0), updatedAt: new Date(0) };
const probabilityIn = (o: { status: string; stage: string; probabilityOverride: number | null }, p: PipelineRecord) =>
  o.status === 'WON' ? 100 : o.status === 'LOST' ? 0 : (o.probabilityOverride ?? p.stages.find((s) => s.key === o.stage)!.probability);

type Row = Parameters<typeof computeForecast>[0][number];
const row = (o: Partial<Row> & Pick<Row, 'status' | 'amount'>): Row => ({
  stage: o.status === 'OPEN' ? 'QUALIFICATION' : o.status,
  probabilityOverride: null,
  expectedCloseDate: new Date('2030-01-01T00:00:00Z'),
  closedAt: null,
  ownerId: 'rep-1',
  ownerTeams: [],
  ...o,
});
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });
const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });

const data: Row[] = [
  // 2026-02-01 00:30 in Shanghai, still January in UTC. 75% of 100001 = 75000.75 → 75001.
  row({ status: 'OPEN', stage: 'NEGOTIATION', amount: cny(100_001), expectedCloseDate: new Date('2026-01-31T16:30:00Z') }),
  // 50% of 3 = 1.5 → 2.
  row({ status: 'OPEN', stage: 'PROPOSAL', amount: cny(3), expectedCloseDate: new Date('2026-03-10T04:00:00Z') }),
  // Another currency, an override of 33%.
  row({ status: 'OPEN', amount: usd(1_000), probabilityOverride: 33, expectedCloseDate: new Date('2026-02-10T00:00:00Z'), ownerId: 'rep-2', ownerTeams: ['east', 'west'] }),
  // Won on 2026-01-01 01:00 in Shanghai (still 2025 in UTC).
  row({ status: 'WON', amount: cny(600_000), closedAt: new Date('2025-12-31T17:00:00Z') }),
  row({ status: 'WON', amount: cny(300_000), closedAt: new Date('2025-11-15T03:00:00Z'), ownerId: 'rep-2', ownerTeams: ['east', 'west'] }),
  row({ status: 'WON', amount: cny(90_000), closedAt: new Date('2025-10-05T03:00:00Z') }),
  // Ignored: lost, and an open one after the range.
  row({ status: 'LOST', amount: cny(777), closedAt: new Date('2026-02-02T00:00:00Z') }),
  row({ status: 'OPEN', amount: cny(888), expectedCloseDate: new Date('2026-05-01T00:00:00Z') }),
];
const now = new Date('2026-02-15T00:00:00Z');
const args = (overrides: Partial<ForecastArgs> = {}): ForecastArgs => ({
  from: new Date('2025-12-31T16:00:00Z'),
  to: new Date('2026-03-31T16:00:00Z'),
  groupBy: 'MONTH',
  by: 'ALL',
  timeZone: 'Asia/Shanghai',
  historyPeriods: 3,
  ...overrides,
});
const summary = (forecast: ReturnType<typeof computeForecast>) =>
  forecast.periods.map((p) => ({
    label: p.label,
    lines: p.lines.map((l) => [l.key, l.currency, l.weightedPipeline.amountMinor, l.pipelineAmount.amountMinor, l.openCount, l.wonAmount.amountMinor, l.wonCount, l.projectedWon.amountMinor, l.expected.amountMinor]),
  }));

describe('forecast arithmetic (SAL-8)', () => {
  it('weights each open opportunity once, rounding half up in integer minor units', () => {
    expect(weightedMinor(100_001, 75)).toBe(75_001n);
    expect(weightedMinor(3, 50)).toBe(2n);
    expect(weightedMinor(5, 10)).toBe(1n);
    expect(weightedMinor(1, 49)).toBe(0n);
    expect(weightedMinor(Number.MAX_SAFE_INTEGER, 100)).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(weightedMinor(Number.MAX_SAFE_INTEGER, 33)).toBe((BigInt(Number.MAX_SAFE_INTEGER) * 33n + 50n) / 100n);
    expect([averageMinor(2n, 3), averageMinor(1n, 3), averageMinor(3n, 2), averageMinor(0n, 3)]).toEqual([1n, 0n, 2n, 0n]);
  });

  it('buckets by month in Asia/Shanghai: weighted pipeline, won, a 3-month moving average, per currency', () => {
    const forecast = computeForecast(data, pipeline, args(), now, probabilityIn);
    expect(forecast.periods.map((p) => [p.label, p.start.toISOString(), p.end.toISOString(), p.complete])).toEqual([
      ['2026-01', '2025-12-31T16:00:00.000Z', '2026-01-31T16:00:00.000Z', true],
      ['2026-02', '2026-01-31T16:00:00.000Z', '2026-02-28T16:00:00.000Z', false],
      ['2026-03', '2026-02-28T16:00:00.000Z', '2026-03-31T16:00:00.000Z', false],
    ]);
    // [key, currency, weighted, pipeline, open, won, wonCount, projected, expected]
    expect(summary(forecast)).toEqual([
      // Projection for January: (Oct 90000 + Nov 300000 + Dec 0) / 3.
      { label: '2026-01', lines: [['ALL', 'CNY', 0, 0, 0, 600_000, 1, 130_000, 600_000]] },
      // February is the current month: (Nov + Dec + Jan) / 3 = 300000; future months keep that.
      {
        label: '2026-02',
        lines: [
          ['ALL', 'CNY', 75_001, 100_001, 1, 0, 0, 300_000, 75_001],
          ['ALL', 'USD', 330, 1_000, 1, 0, 0, 0, 330],
        ],
      },
      { label: '2026-03', lines: [['ALL', 'CNY', 2, 3, 1, 0, 0, 300_000, 2]] },
    ]);
  });

  it('moves the same instants to other months in UTC', () => {
    const forecast = computeForecast(data, pipeline, args({ from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z'), timeZone: 'UTC' }), now, probabilityIn);
    expect(forecast.periods.map((p) => p.start.toISOString())).toEqual(['2026-01-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']);
    expect(summary(forecast)).toEqual([
      // The NEGOTIATION deal falls in January; the big win in December (history): Jan projection (90000 + 300000 + 600000) / 3.
      { label: '2026-01', lines: [['ALL', 'CNY', 75_001, 100_001, 1, 0, 0, 330_000, 75_001]] },
      { label: '2026-02', lines: [['ALL', 'CNY', 0, 0, 0, 0, 0, 300_000, 0], ['ALL', 'USD', 330, 1_000, 1, 0, 0, 0, 330]] },
      { label: '2026-03', lines: [['ALL', 'CNY', 2, 3, 1, 0, 0, 300_000, 2]] },
    ]);
  });

  it('buckets by quarter, across the year boundary, with a 2-quarter history', () => {
    const forecast = computeForecast(data, pipeline, args({ from: new Date('2025-09-30T16:00:00Z'), to: new Date('2026-06-30T16:00:00Z'), groupBy: 'QUARTER', historyPeriods: 2 }), now, probabilityIn);
    expect(forecast.periods.map((p) => [p.label, p.start.toISOString(), p.end.toISOString()])).toEqual([
      ['2025-Q4', '2025-09-30T16:00:00.000Z', '2025-12-31T16:00:00.000Z'],
      ['2026-Q1', '2025-12-31T16:00:00.000Z', '2026-03-31T16:00:00.000Z'],
      ['2026-Q2', '2026-03-31T16:00:00.000Z', '2026-06-30T16:00:00.000Z'],
    ]);
    expect(summary(forecast)).toEqual([
      { label: '2025-Q4', lines: [['ALL', 'CNY', 0, 0, 0, 390_000, 2, 0, 390_000]] },
      // Q1 is current: (Q3 0 + Q4 390000) / 2; Q2 keeps the last complete quarters' mean. The May deal is in Q2.
      { label: '2026-Q1', lines: [['ALL', 'CNY', 75_003, 100_004, 2, 600_000, 1, 195_000, 675_003], ['ALL', 'USD', 330, 1_000, 1, 0, 0, 0, 330]] },
      { label: '2026-Q2', lines: [['ALL', 'CNY', 89, 888, 1, 0, 0, 195_000, 89]] },
    ]);
  });

  it('groups by owner, and by team with an owner in two teams counted in each and owners in none under null', () => {
    const byOwner = computeForecast(data, pipeline, args(), now, probabilityIn);
    expect(byOwner.periods[1]!.lines.map((l) => l.key)).toEqual(['ALL', 'ALL']);
    const owners = computeForecast(data, pipeline, args({ by: 'OWNER' }), now, probabilityIn);
    expect(summary(owners)[1]).toEqual({
      label: '2026-02',
      lines: [
        // rep-1: (0 + 0 + 600000) / 3; rep-2: (300000 + 0 + 0) / 3.
        ['rep-1', 'CNY', 75_001, 100_001, 1, 0, 0, 200_000, 75_001],
        ['rep-2', 'CNY', 0, 0, 0, 0, 0, 100_000, 0],
        ['rep-2', 'USD', 330, 1_000, 1, 0, 0, 0, 330],
      ],
    });
    const teams = computeForecast(data, pipeline, args({ by: 'TEAM' }), now, probabilityIn);
    expect(summary(teams)[1]!.lines).toEqual([
      ['east', 'CNY', 0, 0, 0, 0, 0, 100_000, 0],
      ['east', 'USD', 330, 1_000, 1, 0, 0, 0, 330],
      ['west', 'CNY', 0, 0, 0, 0, 0, 100_000, 0],
      ['west', 'USD', 330, 1_000, 1, 0, 0, 0, 330],
      [null, 'CNY', 75_001, 100_001, 1, 0, 0, 200_000, 75_001],
    ]);
  });

  it('computes period boundaries in zones with daylight saving and validates its arguments', () => {
    expect(zonedMidnight(2026, 3, 1, 'America/New_York').toISOString()).toBe('2026-03-01T05:00:00.000Z');
    expect(zonedMidnight(2026, 4, 1, 'America/New_York').toISOString()).toBe('2026-04-01T04:00:00.000Z');
    expect(zonedMidnight(2026, 4, 1, 'Europe/Berlin').toISOString()).toBe('2026-03-31T22:00:00.000Z');
    const march = periodAt(periodIndexOf(new Date('2026-03-15T12:00:00Z'), 'MONTH', 'America/New_York'), 'MONTH', 'America/New_York');
    expect([march.label, march.start.toISOString(), march.end.toISOString()]).toEqual(['2026-03', '2026-03-01T05:00:00.000Z', '2026-04-01T04:00:00.000Z']);
    const december = periodIndexOf(new Date('2025-12-15T00:00:00Z'), 'MONTH', 'UTC');
    expect([periodAt(december, 'MONTH', 'UTC').label, periodAt(december + 1, 'MONTH', 'UTC').label]).toEqual(['2025-12', '2026-01']);
    expect(periodAt(periodIndexOf(new Date('2026-12-31T23:00:00Z'), 'QUARTER', 'Asia/Shanghai'), 'QUARTER', 'Asia/Shanghai').label).toBe('2027-Q1');
    expect([isTimeZone('Asia/Shanghai'), isTimeZone('UTC'), isTimeZone('Mars/Olympus'), isTimeZone('')]).toEqual([true, true, false, false]);

    const bad = forecastArgs.safeParse({ ...args(), timeZone: 'Mars/Olympus', to: new Date('2025-01-01T00:00:00Z'), historyPeriods: 0 });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['historyPeriods', 'timeZone', 'to']);
  });
});
