import { Schema, type Connection, type Model, type SchemaDefinition, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';
import { moneySubdocument } from '@crm/mongo';
import { ownershipFields, type Ownership } from '../../shared/ownership.js';

export const EXPENSE_VISIBILITIES = ['PRIVATE', 'PUBLIC'] as const;
export type ExpenseVisibility = (typeof EXPENSE_VISIBILITIES)[number];

/** An expense between the company and a customer (SAL-7), as stored; also the GraphQL `Expense` parent. */
export interface ExpenseRecord extends Ownership {
  _id: Types.ObjectId;
  subject: string;
  /** Positive. */
  amount: Money;
  /** The day it was spent, stored at 00:00 UTC. */
  date: Date;
  /** The customers subgraph's customer id (only the id: no customer data is copied here). */
  customerId: string;
  /** PRIVATE: only the owner and admins see it; PUBLIC: also sales staff who see the owner's records. */
  visibility: ExpenseVisibility;
  notes: string | null;
  /** The owner's display name when recorded (shown in tables, searchable). */
  ownerName: string;
  version: number;
  /** Soft delete: hidden everywhere once set. */
  deletedAt: Date | null;
  deletedBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const expenseSchema = new Schema<ExpenseRecord>(
  {
    subject: { type: String, required: true, trim: true },
    amount: { type: moneySubdocument(), required: true },
    date: { type: Date, required: true },
    customerId: { type: String, required: true },
    visibility: { type: String, enum: EXPENSE_VISIBILITIES, required: true, default: 'PRIVATE' },
    notes: { type: String, default: null },
    ownerName: { type: String, required: true },
    ...(ownershipFields as unknown as SchemaDefinition<Ownership>),
    version: { type: Number, required: true, default: 1 },
    deletedAt: { type: Date, default: null },
    deletedBy: { type: String, default: null },
  },
  { collection: 'expenses', timestamps: true },
);
expenseSchema.plugin(outboxPlugin);
// Per-customer lists, newest day first (FerretDB scans; MongoDB uses these).
expenseSchema.index({ customerId: 1, deletedAt: 1, date: -1, _id: -1 });
expenseSchema.index({ deletedAt: 1, date: -1, _id: -1 });

export type ExpenseModel = Model<ExpenseRecord>;

export function expenseModel(connection: Connection): ExpenseModel {
  return connection.model<ExpenseRecord>('Expense', expenseSchema);
}
