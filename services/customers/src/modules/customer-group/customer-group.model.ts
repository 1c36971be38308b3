import { Schema, type Connection, type Model, type Types } from 'mongoose';

/** A manual group of customers (CUS-2); membership lives on the customer (`groupIds`). */
export interface CustomerGroupRecord {
  _id: Types.ObjectId;
  name: string;
  nameKey: string;
  description: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const customerGroupSchema = new Schema<CustomerGroupRecord>(
  {
    name: { type: String, required: true },
    nameKey: { type: String, required: true, unique: true },
    description: { type: String, default: null },
    createdBy: { type: String, required: true },
  },
  { collection: 'customer_groups', timestamps: true },
);

export type CustomerGroupModel = Model<CustomerGroupRecord>;
export const customerGroupModel = (connection: Connection): CustomerGroupModel => connection.model<CustomerGroupRecord>('CustomerGroup', customerGroupSchema);
