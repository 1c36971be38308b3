import { requireRole, Role, type AuthUser } from '@crm/auth';
import { appendEvents } from '@crm/events';
import { minorUnitDigits } from '@crm/money';
import { findByIds, type PerKeySerializer } from '@crm/mongo';
import { ReportException } from '../report/report.errors.js';
import { boundedInt, currencyArg } from '../report/report.range.js';
import type { ServiceReportService } from '../service-report/service-report.service.js';
import { churnRiskRaised } from './customer-value.events.js';
import { churnRisk, CHURN_LEVELS, lifetimeValueMinor, quintileBounds, rfmRawOf, rfmScore, type ChurnRisk, type RfmScore } from './customer-value.formulas.js';
import type { ChurnLevel, CustomerChurnRecord, CustomerFactRecord, CustomerMonthsRecord, CustomerValueModels, CustomerValueRecord, RfmModelRecord } from './customer-value.model.js';

export const VALUE_READERS = [Role.ANALYST, Role.SALES_MANAGER, Role.SERVICE_MANAGER, Role.MARKETER] as const;
/** Customer.value is also shown to reps and agents next to a customer they can already see. */
export const CUSTOMER_VALUE_READERS = [...VALUE_READERS, Role.SALES_REP, Role.SERVICE_AGENT] as const;

export interface CustomerValueOptions {
  currency: string;
  lifespanYears: number;
}

export interface CustomerValueView {
  customerId: string;
  orders: number;
  revenue: Array<{ amountMinor: number; currency: string }>;
  firstOrderAt: Date | null;
  lastOrderAt: Date | null;
  recencyDays: number | null;
  rfm: (RfmScore & { computedAt: Date }) | null;
  lifetimeValue: { amountMinor: number; currency: string };
  churnRisk: ChurnRisk;
}

const GEO_LEVELS = { COUNTRY: 'country', PROVINCE: 'province', CITY: 'city' } as const;
/** Order-count bands and amount bands (major units) of the value distribution. */
export const ORDER_BANDS: Array<[string, number, number]> = [['1', 1, 1], ['2-3', 2, 3], ['4-9', 4, 9], ['10+', 10, Number.MAX_SAFE_INTEGER]];
export const AMOUNT_BANDS_MAJOR: Array<[string, number, number]> = [['<1k', 0, 999], ['1k-10k', 1000, 9999], ['10k-100k', 10_000, 99_999], ['100k+', 100_000, Number.MAX_SAFE_INTEGER]];

/** Customer reports (ANA-3, ANA-4, ANA-6) and `Customer.value`: the one facade the resolvers call. */
export class CustomerValueService {
  constructor(
    private readonly models: CustomerValueModels,
    private readonly service: ServiceReportService,
    private readonly options: CustomerValueOptions,
    readonly churnSerial: PerKeySerializer,
  ) {}

  private async model(currency: string): Promise<RfmModelRecord | null> {
    return this.models.rfmModels.findById(currency).lean<RfmModelRecord>().exec();
  }

  private view(value: CustomerValueRecord, model: RfmModelRecord | null, signals: { openComplaints: number; ratings: number; ratingSum: number } | undefined, now: Date): CustomerValueView {
    const currency = this.options.currency;
    const raw = rfmRawOf(value, currency, now);
    return {
      customerId: value._id,
      orders: value.orders ?? 0,
      revenue: Object.entries(value.amount ?? {}).filter(([, a]) => a !== 0).map(([c, amountMinor]) => ({ amountMinor, currency: c })).sort((a, b) => a.currency.localeCompare(b.currency)),
      firstOrderAt: value.firstOrderAt ?? null,
      lastOrderAt: value.lastOrderAt ?? null,
      recencyDays: raw?.recencyDays ?? null,
      rfm: raw && model ? { ...rfmScore(raw, model), computedAt: model.computedAt } : null,
      lifetimeValue: { amountMinor: lifetimeValueMinor(value, currency, now, this.options.lifespanYears), currency },
      churnRisk: churnRisk({ value, openComplaints: signals?.openComplaints ?? 0, ratings: signals?.ratings ?? 0, ratingSum: signals?.ratingSum ?? 0 }, now),
    };
  }

  /** `Customer.value`: figures as of now (RFM scores against the last computed quintiles). */
  async valueOf(user: AuthUser, customerId: string, now = new Date()): Promise<CustomerValueView> {
    requireRole(user, CUSTOMER_VALUE_READERS);
    const [value, months, model, signals] = await Promise.all([
      this.models.customerValues.findById(customerId).lean<CustomerValueRecord>().exec(),
      this.models.customerMonths.findById(customerId, { ops: 0 }).lean<CustomerMonthsRecord>().exec(),
      this.model(this.options.currency),
      this.service.signals([customerId]),
    ]);
    return this.view({ ...(value ?? { _id: customerId }), m: months?.m ?? {} }, model, signals.get(customerId), now);
  }

  /** The customers with the best RFM score (ties: more spent first, then id). */
  async rfmTop(user: AuthUser, args: { limit?: number | null }, now = new Date()): Promise<CustomerValueView[]> {
    requireRole(user, VALUE_READERS);
    const limit = boundedInt('limit', args.limit, 100, 1, 1000);
    const model = await this.model(this.options.currency);
    const currency = this.options.currency;
    const scored: Array<{ value: CustomerValueRecord; score: number; spent: number }> = [];
    for await (const value of this.models.customerValues.find({ orders: { $gt: 0 } }, { m: 0, ops: 0 }).lean<CustomerValueRecord[]>().cursor()) {
      const raw = rfmRawOf(value, currency, now);
      if (!raw || !model) continue;
      scored.push({ value, score: rfmScore(raw, model).score, spent: raw.monetaryMinor });
    }
    scored.sort((a, b) => b.score - a.score || b.spent - a.spent || a.value._id.localeCompare(b.value._id));
    const top = scored.slice(0, limit);
    // Months (for the churn risk's order trend) and service signals only for the customers shown.
    const ids = top.map(({ value }) => value._id);
    const [months, signals] = await Promise.all([findByIds<CustomerMonthsRecord>(this.models.customerMonths, ids, { ops: 0 }, { pointLookups: true }), this.service.signals(ids)]);
    const monthsOf = new Map(months.map((m) => [m._id, m.m ?? {}]));
    return top.map(({ value }) => this.view({ ...value, m: monthsOf.get(value._id) ?? {} }, model, signals.get(value._id), now));
  }

  /** Recomputes the RFM quintile bounds over every customer with an order (the scheduled part of RFM). */
  async computeRfmModel(now = new Date()): Promise<RfmModelRecord> {
    const currency = this.options.currency;
    const recency: number[] = [];
    const frequency: number[] = [];
    const monetary: number[] = [];
    for await (const value of this.models.customerValues.find({ orders: { $gt: 0 } }, { m: 0, ops: 0 }).lean<CustomerValueRecord[]>().cursor()) {
      const raw = rfmRawOf(value, currency, now);
      if (!raw) continue;
      recency.push(raw.recencyDays);
      frequency.push(raw.frequency);
      monetary.push(raw.monetaryMinor);
    }
    const model: RfmModelRecord = { _id: currency, computedAt: now, customers: recency.length, recencyDays: quintileBounds(recency), frequency: quintileBounds(frequency), monetaryMinor: quintileBounds(monetary) };
    await this.models.rfmModels.collection.replaceOne({ _id: currency } as never, model as never, { upsert: true });
    return model;
  }

  /**
   * Recomputes every customer's churn risk; stores it and, when a customer's level rose to HIGH,
   * queues `analytics.churn-risk-raised` in the same write. Returns how many customers changed level.
   */
  async computeChurn(now = new Date()): Promise<number> {
    const signals = await this.service.signals();
    const seen = new Set<string>();
    let changed = 0;
    const evaluate = async (customerId: string, value: CustomerValueRecord | null) => {
      seen.add(customerId);
      const s = signals.get(customerId);
      const risk = churnRisk({ value, openComplaints: s?.openComplaints ?? 0, ratings: s?.ratings ?? 0, ratingSum: s?.ratingSum ?? 0 }, now);
      if (await this.storeChurn(customerId, risk, now)) changed += 1;
    };
    const months = new Map<string, CustomerMonthsRecord['m']>();
    for await (const doc of this.models.customerMonths.find({}, { ops: 0 }).lean<CustomerMonthsRecord[]>().cursor()) months.set(doc._id, doc.m ?? {});
    for await (const value of this.models.customerValues.find({}, { ops: 0 }).lean<CustomerValueRecord[]>().cursor()) await evaluate(value._id, { ...value, m: months.get(value._id) ?? {} });
    for (const customerId of signals.keys()) if (!seen.has(customerId)) await evaluate(customerId, null);
    return changed;
  }

  private storeChurn(customerId: string, risk: ChurnRisk, now: Date): Promise<boolean> {
    return this.churnSerial.run(customerId, async () => {
      const churn = this.models.customerChurn;
      const current = await churn.findById(customerId, { pendingEvents: 0 }).lean<CustomerChurnRecord>().exec();
      if (current && current.level === risk.level && current.score === risk.score && current.reasons.join('\n') === risk.reasons.join('\n')) return false;
      const raised = risk.level === 'HIGH' && current?.level !== 'HIGH';
      const set = { score: risk.score, level: risk.level, reasons: risk.reasons, computedAt: now };
      const events = raised ? [churnRiskRaised({ customerId, ...risk, previousLevel: current?.level ?? null, computedAt: now.toISOString() })] : [];
      await churn.collection.updateOne({ _id: customerId } as never, { $set: set, ...(events.length ? appendEvents(events) : {}) } as never, { upsert: true });
      return current?.level !== risk.level;
    });
  }

  /** The warning list for managers: customers at `minLevel` or above, highest risk first. */
  async churnWarnings(user: AuthUser, args: { minLevel?: ChurnLevel | null; first?: number | null }) {
    requireRole(user, VALUE_READERS);
    const first = boundedInt('first', args.first, 50, 1, 500);
    const min = CHURN_LEVELS[args.minLevel ?? 'HIGH'];
    const rows = await this.models.customerChurn.find({ score: { $gte: min } }, { pendingEvents: 0 }).sort({ score: -1, _id: 1 }).limit(first).lean<CustomerChurnRecord[]>().exec();
    return rows.map((r) => ({ customerId: r._id, score: r.score, level: r.level, reasons: r.reasons, computedAt: r.computedAt }));
  }

  /** Customers by country, province or city (optionally within one country/province), with their orders and spend. */
  async geoDistribution(user: AuthUser, args: { level: keyof typeof GEO_LEVELS; country?: string | null; province?: string | null; currency?: string | null }) {
    requireRole(user, VALUE_READERS);
    const currency = currencyArg(args.currency, this.options.currency);
    const field = GEO_LEVELS[args.level];
    if (!field) throw new ReportException('REPORT_INVALID_INPUT', 'Invalid level', [{ field: 'level', message: 'COUNTRY, PROVINCE or CITY' }]);
    const groups = new Map<string, { key: string; customers: number; ids: string[] }>();
    for await (const fact of this.models.customerFacts.find({ deleted: { $ne: true } }, { country: 1, province: 1, city: 1 }).lean<CustomerFactRecord[]>().cursor()) {
      if (args.country && fact.country !== args.country) continue;
      if (args.province && fact.province !== args.province) continue;
      const key = fact[field] ?? '';
      const group = groups.get(key) ?? { key, customers: 0, ids: [] };
      group.customers += 1;
      group.ids.push(fact._id);
      groups.set(key, group);
    }
    const values = new Map<string, CustomerValueRecord>();
    for await (const v of this.models.customerValues.find({ orders: { $gt: 0 } }, { orders: 1, amount: 1 }).lean<CustomerValueRecord[]>().cursor()) values.set(v._id, v);
    const rows = [...groups.values()].map((g) => {
      let orders = 0;
      let amountMinor = 0;
      for (const id of g.ids) {
        const v = values.get(id);
        orders += v?.orders ?? 0;
        amountMinor += v?.amount?.[currency] ?? 0;
      }
      return { key: g.key, customers: g.customers, orders, amount: { amountMinor, currency } };
    });
    rows.sort((a, b) => b.customers - a.customers || a.key.localeCompare(b.key));
    return { level: args.level, country: args.country ?? null, province: args.province ?? null, total: rows.reduce((s, r) => s + r.customers, 0), rows };
  }

  /** Customers by number of orders and by amount spent (ANA-4 "value by transactions"). */
  async valueDistribution(user: AuthUser, args: { currency?: string | null }) {
    requireRole(user, VALUE_READERS);
    const currency = currencyArg(args.currency, this.options.currency);
    const byOrders = ORDER_BANDS.map(([band]) => ({ band, customers: 0, amount: { amountMinor: 0, currency } }));
    const byAmount = AMOUNT_BANDS_MAJOR.map(([band]) => ({ band, customers: 0, amount: { amountMinor: 0, currency } }));
    const minorPerMajor = 10 ** minorUnitDigits(currency);
    for await (const v of this.models.customerValues.find({ orders: { $gt: 0 } }, { orders: 1, amount: 1 }).lean<CustomerValueRecord[]>().cursor()) {
      const spent = v.amount?.[currency] ?? 0;
      const o = ORDER_BANDS.findIndex(([, lo, hi]) => v.orders! >= lo && v.orders! <= hi);
      if (o >= 0) {
        byOrders[o]!.customers += 1;
        byOrders[o]!.amount.amountMinor += spent;
      }
      const major = Math.floor(spent / minorPerMajor);
      const a = AMOUNT_BANDS_MAJOR.findIndex(([, lo, hi]) => major >= lo && major <= hi);
      if (a >= 0) {
        byAmount[a]!.customers += 1;
        byAmount[a]!.amount.amountMinor += spent;
      }
    }
    return { currency, byOrders, byAmount };
  }
}
