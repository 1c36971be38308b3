import { Schema, type Connection, type Model } from 'mongoose';
import type { CloudEvent } from '@crm/events';

export const CUSTOMER_FACTS = 'customer_facts';
export const CUSTOMER_VALUES = 'customer_values';
/** A customer's orders per month, apart from `customer_values` so RFM reads stay small (FerretDB reads whole documents). */
export const CUSTOMER_MONTHS = 'customer_months';
export const RFM_MODELS = 'rfm_models';

/** What analytics knows of a customer from `customer.*` (newest `version` wins; merges and deletes followed). */
export interface CustomerFactRecord {
  _id: string;
  version: number;
  name: string;
  lifecycleStage: string;
  organization: string | null;
  source: string | null;
  ownerId: string;
  department: string | null;
  country: string | null;
  province: string | null;
  city: string | null;
  customerCreatedAt: Date;
  deleted: boolean;
  mergedInto: string | null;
}

export const CUSTOMER_CHURN = 'customer_churn';

/** The churn risk last computed for a customer by the churn job, with its not yet published events. */
export interface CustomerChurnRecord {
  _id: string;
  score: number;
  level: ChurnLevel;
  reasons: string[];
  computedAt: Date;
  pendingEvents?: CloudEvent[];
}
export type ChurnLevel = 'LOW' | 'MEDIUM' | 'HIGH';

/**
 * A customer's purchase aggregates, kept by the sales read model's pending changes (additive, so a
 * cancelled or re-pointed order is simply taken away again): `orders`, `amount.<CUR>`; first and last
 * order instants. Per month (`m.<YYYYMM>.n` / `m.<YYYYMM>.<CUR>`) in `customer_months`.
 */
export interface CustomerValueRecord {
  _id: string;
  orders?: number;
  amount?: Record<string, number>;
  /** From `customer_months` (joined when the churn risk needs it). */
  m?: Record<string, Record<string, number>>;
  firstOrderAt?: Date | null;
  lastOrderAt?: Date | null;
  ops?: string[];
}

/** Quintile boundaries of the last RFM run (scores are read against them at query time). */
export interface RfmModelRecord {
  _id: string; // currency
  computedAt: Date;
  customers: number;
  recencyDays: number[];
  frequency: number[];
  monetaryMinor: number[];
}

const customerFactSchema = new Schema<CustomerFactRecord>(
  {
    _id: String,
    version: Number,
    name: String,
    lifecycleStage: String,
    organization: { type: String, default: null },
    source: { type: String, default: null },
    ownerId: String,
    department: { type: String, default: null },
    country: { type: String, default: null },
    province: { type: String, default: null },
    city: { type: String, default: null },
    customerCreatedAt: { type: Date, index: true },
    deleted: { type: Boolean, default: false },
    mergedInto: { type: String, default: null },
  },
  { collection: CUSTOMER_FACTS, versionKey: false },
);

const customerValueSchema = new Schema<CustomerValueRecord>(
  {
    _id: String,
    orders: Number,
    amount: Schema.Types.Mixed,
    m: Schema.Types.Mixed,
    firstOrderAt: Date,
    lastOrderAt: Date,
    ops: [String],
  },
  { collection: CUSTOMER_VALUES, versionKey: false },
);

export interface CustomerMonthsRecord {
  _id: string;
  m?: Record<string, Record<string, number>>;
  ops?: string[];
}

const customerMonthsSchema = new Schema<CustomerMonthsRecord>({ _id: String, m: Schema.Types.Mixed, ops: [String] }, { collection: CUSTOMER_MONTHS, versionKey: false });

const customerChurnSchema = new Schema<CustomerChurnRecord>(
  { _id: String, score: Number, level: String, reasons: [String], computedAt: Date, pendingEvents: { type: [Schema.Types.Mixed], default: [] } },
  { collection: CUSTOMER_CHURN, versionKey: false },
);
customerChurnSchema.index({ score: -1 });

const rfmModelSchema = new Schema<RfmModelRecord>(
  { _id: String, computedAt: Date, customers: Number, recencyDays: [Number], frequency: [Number], monetaryMinor: [Number] },
  { collection: RFM_MODELS, versionKey: false },
);

export function customerValueModels(connection: Connection) {
  return {
    customerFacts: connection.model<CustomerFactRecord>('CustomerFact', customerFactSchema) as Model<CustomerFactRecord>,
    customerValues: connection.model<CustomerValueRecord>('CustomerValue', customerValueSchema) as Model<CustomerValueRecord>,
    customerMonths: connection.model<CustomerMonthsRecord>('CustomerMonths', customerMonthsSchema) as Model<CustomerMonthsRecord>,
    customerChurn: connection.model<CustomerChurnRecord>('CustomerChurn', customerChurnSchema) as Model<CustomerChurnRecord>,
    rfmModels: connection.model<RfmModelRecord>('RfmModel', rfmModelSchema) as Model<RfmModelRecord>,
  };
}
export type CustomerValueModels = ReturnType<typeof customerValueModels>;

/**
 * Derives a customer's first and last order again from the counted order facts: needed when an order
 * stops counting (cancelled, refunded, moved to another customer), since `$max`/`$min` cannot go back.
 *
 * A customer with no counted order loses both fields (`$unset`, never null: `$min` keeps a stored null,
 * which sorts before every date). Another order of the customer may be settled at the same time
 * (partitions are consumed concurrently); its `$min`/`$max` can land between our read and our write and
 * be overwritten. Its fact was written before its `$min`/`$max`, so reading again after our write sees
 * it: the loop writes until a read after the write agrees with it.
 */
export async function recomputeOrderDates(connection: Connection, customerId: string): Promise<void> {
  const facts = connection.collection<{ placedAt: Date }>('order_facts');
  const read = async () => {
    const [first] = await facts.find({ customerId, counted: true }, { projection: { placedAt: 1 } }).sort({ placedAt: 1 }).limit(1).toArray();
    const [last] = await facts.find({ customerId, counted: true }, { projection: { placedAt: 1 } }).sort({ placedAt: -1 }).limit(1).toArray();
    return { first: first?.placedAt ?? null, last: last?.placedAt ?? null };
  };
  const same = (a: Date | null, b: Date | null) => (a?.getTime() ?? null) === (b?.getTime() ?? null);
  let dates = await read();
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const update = dates.first && dates.last ? { $set: { firstOrderAt: dates.first, lastOrderAt: dates.last } } : { $unset: { firstOrderAt: '', lastOrderAt: '' } };
    await connection.collection(CUSTOMER_VALUES).updateOne({ _id: customerId } as never, update);
    const again = await read();
    if (same(again.first, dates.first) && same(again.last, dates.last)) return;
    dates = again;
  }
  throw new Error(`order dates of customer ${customerId} kept changing while they were derived again; retrying`);
}
