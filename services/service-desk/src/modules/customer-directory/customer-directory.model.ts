import { Schema, type Connection, type Model } from 'mongoose';

/**
 * What the service desk knows of a customer, from the customers service's events: who may act as the
 * customer (the self-service account) and which sales rep owns it. Nothing else is copied; the rest
 * is resolved through the federation entity `Customer`.
 */
export interface CustomerDirectoryRecord {
  /** Customer id (24 hex digits, lower case). */
  _id: string;
  portalUserId: string | null;
  ownerId: string | null;
  /** The customer's `version` in the customers service when this entry was written. */
  version: number;
  deleted: boolean;
  /** Set when the customer was merged into another: its survivor. */
  mergedInto: string | null;
  updatedAt: Date;
}

const customerDirectorySchema = new Schema<CustomerDirectoryRecord>(
  {
    _id: { type: String, required: true },
    portalUserId: { type: String, default: null },
    ownerId: { type: String, default: null },
    version: { type: Number, required: true },
    deleted: { type: Boolean, default: false },
    mergedInto: { type: String, default: null },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'customer_directory', versionKey: false },
);
// Not partial: FerretDB v1 does not implement partialFilterExpression.
customerDirectorySchema.index({ portalUserId: 1 });

export type CustomerDirectoryModel = Model<CustomerDirectoryRecord>;

export function customerDirectoryModel(connection: Connection): CustomerDirectoryModel {
  return connection.model<CustomerDirectoryRecord>('CustomerDirectory', customerDirectorySchema);
}
