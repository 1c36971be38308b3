import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

export const LIFECYCLE_STAGES = ['LEAD', 'PROSPECT', 'CUSTOMER', 'LOYAL', 'CHURNED'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** A customer as stored; also the GraphQL `Customer` parent type (codegen mapper). */
export interface CustomerRecord {
  _id: Types.ObjectId;
  name: string;
  email?: string | null;
  phone?: string | null;
  organization?: string | null;
  lifecycleStage: LifecycleStage;
  source?: string | null;
  tags: string[];
  ownerId: string;
  createdAt: Date;
  updatedAt: Date;
}

const customerSchema = new Schema<CustomerRecord>(
  {
    name: { type: String, required: true, trim: true },
    email: { type: String, lowercase: true, trim: true },
    phone: { type: String, trim: true },
    organization: { type: String, trim: true },
    lifecycleStage: { type: String, enum: LIFECYCLE_STAGES, required: true, default: 'LEAD' },
    source: { type: String, trim: true },
    tags: { type: [String], default: [] },
    ownerId: { type: String, required: true },
  },
  { collection: 'customers', timestamps: true },
);
customerSchema.plugin(outboxPlugin);
customerSchema.index({ ownerId: 1, _id: 1 });
customerSchema.index({ email: 1 });

export type CustomerModel = Model<CustomerRecord>;

export function customerModel(connection: Connection): CustomerModel {
  return connection.model<CustomerRecord>('Customer', customerSchema);
}
