import { Schema, type Connection, type Model } from 'mongoose';

/** One row per customer known to analytics, keyed by the customer id (so replays cannot double count). */
export interface CustomerFactRecord {
  _id: string;
  lifecycleStage: string;
  organization: string | null;
  source: string | null;
  ownerId: string;
  customerCreatedAt: Date;
}

const customerFactSchema = new Schema<CustomerFactRecord>(
  {
    _id: { type: String, required: true },
    lifecycleStage: { type: String, required: true },
    organization: { type: String, default: null },
    source: { type: String, default: null },
    ownerId: { type: String, required: true },
    customerCreatedAt: { type: Date, required: true },
  },
  { collection: 'customer_facts', timestamps: true },
);
customerFactSchema.index({ customerCreatedAt: -1 });

export type CustomerFactModel = Model<CustomerFactRecord>;

export function customerFactModel(connection: Connection): CustomerFactModel {
  return connection.model<CustomerFactRecord>('CustomerFact', customerFactSchema);
}
