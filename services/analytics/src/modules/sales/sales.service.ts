import { requireRole, Role, type AuthUser } from '@crm/auth';
import { findByIds } from '@crm/mongo';
import { DAY_MS, instantOfSlot, periodOf, periodsBetween, utcSlotOf } from '../read-model/zoned-time.js';
import { boundedInt, currencyArg, parseRange, type RangeArgs } from '../report/report.range.js';
import type { OrderFactRecord, SalesDayRecord, SalesModels, SalesPeriodRecord } from './sales.model.js';

export const SALES_REPORT_READERS = [Role.ANALYST, Role.SALES_MANAGER, Role.MARKETER] as const;

export interface SalesPoint {
  period: string;
  amount: { amountMinor: number; currency: string };
  orders: number;
}

export type CompositionDimension = 'CUSTOMER' | 'PRODUCT';

/** Sales reports (ANA-1, ANA-2): the one facade the resolvers and the export route call. */
export class SalesReportService {
  constructor(
    private readonly models: SalesModels,
    private readonly defaultCurrency: string,
    /** Zones with ready sums per local day, month and year (ANALYTICS_TIME_ZONES). */
    private readonly zones: readonly string[] = [],
  ) {}

  /**
   * Sales amount and order count per local day, month or year, never from the orders themselves: in a
   * reporting zone one ready sum per period, in any other zone the 15-minute slots of each UTC day of the
   * range (plus one either side for the zone's offset). Either way the cost depends on the length of the
   * range, not on how many orders there are.
   */
  async trend(user: AuthUser, args: RangeArgs & { currency?: string | null }) {
    requireRole(user, SALES_REPORT_READERS);
    const range = parseRange(args, 'MONTH');
    const currency = currencyArg(args.currency, this.defaultCurrency);
    const points = new Map<string, SalesPoint>(periodsBetween(range.from, range.to, range.granularity).map((period) => [period, { period, amount: { amountMinor: 0, currency }, orders: 0 }]));
    if (this.zones.includes(range.timeZone)) {
      // One ready sum per period: the cost depends on the number of periods, not on the orders.
      const sums = await findByIds<SalesPeriodRecord>(this.models.salesPeriods, [...points.keys()].map((p) => `${currency}|${range.timeZone}|${p}`), { ops: 0 }, { pointLookups: true });
      for (const sum of sums) {
        const point = points.get(sum._id.slice(currency.length + range.timeZone.length + 2));
        if (!point) continue;
        point.amount.amountMinor += sum.a ?? 0;
        point.orders += sum.n ?? 0;
      }
    } else {
      const dayIds: string[] = [];
      for (let t = range.start.getTime() - DAY_MS; t <= range.end.getTime() + DAY_MS; t += DAY_MS) dayIds.push(`${currency}|${utcSlotOf(t).day}`);
      const days = await findByIds<SalesDayRecord>(this.models.salesDays, dayIds, { ops: 0 }, { pointLookups: true });
      const start = range.start.getTime();
      const end = range.end.getTime();
      for (const day of days) {
        const key = day._id.slice(currency.length + 1);
        for (const [slot, amount] of Object.entries(day.a ?? {})) {
          const instant = instantOfSlot(key, Number(slot));
          if (instant < start || instant >= end) continue;
          const point = points.get(periodOf(instant, range.timeZone, range.granularity));
          if (!point) continue;
          point.amount.amountMinor += amount;
          point.orders += day.n?.[slot] ?? 0;
        }
      }
    }
    const list = [...points.values()];
    return { ...range, currency, points: list, total: { amountMinor: list.reduce((s, p) => s + p.amount.amountMinor, 0), currency }, orders: list.reduce((s, p) => s + p.orders, 0) };
  }

  /** Counted orders placed in a range, in one currency. */
  countedOrders(start: Date, end: Date, currency: string): AsyncIterable<OrderFactRecord> {
    return this.models.orderFacts.find({ placedAt: { $gte: start, $lt: end }, counted: true, currency }, { pending: 0, contribution: 0 }).lean<OrderFactRecord[]>().cursor();
  }

  /** Sales by customer or by product in a range: the top N, the rest summed, and shares of the total. */
  async composition(user: AuthUser, args: RangeArgs & { by: CompositionDimension; top?: number | null; currency?: string | null }) {
    requireRole(user, SALES_REPORT_READERS);
    const range = parseRange(args, 'DAY');
    const currency = currencyArg(args.currency, this.defaultCurrency);
    const top = boundedInt('top', args.top, 10, 1, 100);
    const sums = new Map<string, { amountMinor: number; orders: number; quantity: number }>();
    let total = 0;
    let orders = 0;
    for await (const order of this.countedOrders(range.start, range.end, currency)) {
      orders += 1;
      total += order.totalMinor;
      const entries = args.by === 'CUSTOMER' ? [{ key: order.customerId, amount: order.totalMinor, quantity: 0 }] : order.lines.map((l) => ({ key: l.productId, amount: l.lineTotalMinor, quantity: l.quantity }));
      const seen = new Set<string>();
      for (const e of entries) {
        const sum = sums.get(e.key) ?? { amountMinor: 0, orders: 0, quantity: 0 };
        sum.amountMinor += e.amount;
        sum.quantity += e.quantity;
        if (!seen.has(e.key)) {
          sum.orders += 1;
          seen.add(e.key);
        }
        sums.set(e.key, sum);
      }
    }
    // By product the base is the sum of line totals (a document discount is not split onto products).
    const base = args.by === 'CUSTOMER' ? total : [...sums.values()].reduce((s, v) => s + v.amountMinor, 0);
    const share = (amount: number) => (base ? Math.round((amount / base) * 10_000) / 10_000 : 0);
    const sorted = [...sums.entries()].sort((a, b) => b[1].amountMinor - a[1].amountMinor || a[0].localeCompare(b[0]));
    const rows = sorted.slice(0, top).map(([key, s]) => ({ key, by: args.by, amount: { amountMinor: s.amountMinor, currency }, orders: s.orders, quantity: s.quantity, share: share(s.amountMinor) }));
    const restEntries = sorted.slice(top);
    const restAmount = restEntries.reduce((s, [, v]) => s + v.amountMinor, 0);
    return {
      ...range,
      by: args.by,
      currency,
      orders,
      total: { amountMinor: base, currency },
      rows,
      rest: { count: restEntries.length, amount: { amountMinor: restAmount, currency }, share: share(restAmount) },
    };
  }
}
