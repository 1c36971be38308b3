import { Schema, type Connection, type Model } from 'mongoose';
import type { PendingChange } from '../read-model/read-model.pending.js';

export const ORDER_FACTS = 'order_facts';
export const SALES_DAYS = 'sales_days';
export const SALES_PERIODS = 'sales_periods';

export interface OrderLineFact {
  productId: string;
  quantity: number;
  lineTotalMinor: number;
}

/**
 * The newest state analytics knows of one order (keyed by order id; `version` from the order's
 * events, so a redelivered or older event never overwrites a newer one), what the order currently
 * adds to the aggregates (`contribution`) and the aggregate changes not yet applied (`pending`).
 */
export interface OrderFactRecord {
  _id: string;
  version: number;
  customerId: string;
  ownerId: string;
  department: string | null;
  campaignCode: string | null;
  status: string;
  paymentStatus: string;
  currency: string;
  totalMinor: number;
  lines: OrderLineFact[];
  placedAt: Date;
  /** Counts in sales: not rejected, cancelled or refunded. */
  counted: boolean;
  contribution: Contribution | null;
  pending: PendingChange[];
  updatedAt: Date;
}

/** The increments one counted order makes to one aggregate document. */
export interface ContributionTarget {
  collection: string;
  key: string;
  /** Field paths with `/` between the parts, as in PendingChange. */
  inc: Record<string, number>;
}

/**
 * What a counted order adds: a 15-minute slot of a sales day, its local day, month and year in each
 * reporting zone, and its customer's value and months.
 */
export interface Contribution {
  customerId: string;
  targets: ContributionTarget[];
}

/** Sales of one local day, month or year in one reporting zone: amount `a` and orders `n`. */
export interface SalesPeriodRecord {
  _id: string; // `${currency}|${zone}|${period}`, period as in SalesPoint (2026-11-22, 2026-11, 2026)
  a?: number;
  n?: number;
  ops?: string[];
}

/**
 * One UTC day of sales in one currency: `a.<slot>` amount (minor units) and `n.<slot>` orders per
 * 15-minute slot (0–95), so any time zone's days, months and years can be summed from it.
 */
export interface SalesDayRecord {
  _id: string; // `${currency}|${YYYYMMDD}`
  a?: Record<string, number>;
  n?: Record<string, number>;
  ops?: string[];
}

const orderFactSchema = new Schema<OrderFactRecord>(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    customerId: { type: String, required: true, index: true },
    ownerId: String,
    department: { type: String, default: null },
    campaignCode: { type: String, default: null },
    status: String,
    paymentStatus: String,
    currency: String,
    totalMinor: Number,
    lines: [{ _id: false, productId: String, quantity: Number, lineTotalMinor: Number }],
    placedAt: { type: Date, required: true, index: true },
    counted: Boolean,
    contribution: { type: Schema.Types.Mixed, default: null },
    pending: { type: Schema.Types.Mixed, default: () => [] },
    updatedAt: Date,
  },
  { collection: ORDER_FACTS, versionKey: false },
);
orderFactSchema.index({ campaignCode: 1, placedAt: 1 });

const salesDaySchema = new Schema<SalesDayRecord>({ _id: String, a: Schema.Types.Mixed, n: Schema.Types.Mixed, ops: [String] }, { collection: SALES_DAYS, versionKey: false });

const salesPeriodSchema = new Schema<SalesPeriodRecord>({ _id: String, a: Number, n: Number, ops: [String] }, { collection: SALES_PERIODS, versionKey: false });

export function salesModels(connection: Connection) {
  return {
    salesPeriods: connection.model<SalesPeriodRecord>('SalesPeriod', salesPeriodSchema) as Model<SalesPeriodRecord>,
    orderFacts: connection.model<OrderFactRecord>('OrderFact', orderFactSchema) as Model<OrderFactRecord>,
    salesDays: connection.model<SalesDayRecord>('SalesDay', salesDaySchema) as Model<SalesDayRecord>,
  };
}
export type SalesModels = ReturnType<typeof salesModels>;
