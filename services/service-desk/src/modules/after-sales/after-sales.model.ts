import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

export const AFTER_SALES_KINDS = ['RETURN', 'REPAIR', 'REPLACEMENT'] as const;
export const AFTER_SALES_STATUSES = ['REQUESTED', 'APPROVED', 'IN_PROGRESS', 'COMPLETED', 'REJECTED', 'CANCELLED'] as const;
export type AfterSalesKind = (typeof AFTER_SALES_KINDS)[number];
export type AfterSalesStatus = (typeof AFTER_SALES_STATUSES)[number];

/** Every status change a record may make; anything else is a CONFLICT and changes nothing. */
export const AFTER_SALES_TRANSITIONS: Record<AfterSalesStatus, readonly AfterSalesStatus[]> = {
  REQUESTED: ['APPROVED', 'REJECTED', 'CANCELLED'],
  APPROVED: ['IN_PROGRESS', 'CANCELLED'],
  IN_PROGRESS: ['COMPLETED'],
  COMPLETED: [],
  REJECTED: [],
  CANCELLED: [],
};

export interface AfterSalesHistoryEntry {
  at: Date;
  /** Keycloak user id, or `system` (customer merges). */
  by: string;
  /** What changed: `status` or `customer`. */
  field: string;
  from: string | null;
  to: string;
  note: string | null;
}

/** A return, repair or replacement (SVC-6); also the GraphQL `AfterSalesRecord` parent type (codegen mapper). */
export interface AfterSalesRecord {
  _id: Types.ObjectId;
  kind: AfterSalesKind;
  customerId: string;
  productId: string;
  orderId: string;
  ticketId: string | null;
  quantity: number;
  reason: string;
  status: AfterSalesStatus;
  /** The last status change's note (rejection reason, completion note). */
  statusNote: string | null;
  history: AfterSalesHistoryEntry[];
  requestedBy: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const historySchema = new Schema<AfterSalesHistoryEntry>(
  { at: { type: Date, required: true }, by: { type: String, required: true }, field: { type: String, required: true }, from: { type: String, default: null }, to: { type: String, required: true }, note: { type: String, default: null } },
  { _id: false },
);

const afterSalesSchema = new Schema<AfterSalesRecord>(
  {
    kind: { type: String, enum: AFTER_SALES_KINDS, required: true },
    customerId: { type: String, required: true },
    productId: { type: String, required: true },
    orderId: { type: String, required: true },
    ticketId: { type: String, default: null },
    quantity: { type: Number, required: true },
    reason: { type: String, required: true },
    status: { type: String, enum: AFTER_SALES_STATUSES, required: true },
    statusNote: { type: String, default: null },
    history: { type: [historySchema], default: [] },
    requestedBy: { type: String, required: true },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'after_sales_records', versionKey: false },
);
afterSalesSchema.plugin(outboxPlugin);
// Indexes MongoDB would use (FerretDB v1 scans anyway).
afterSalesSchema.index({ customerId: 1, createdAt: -1 });
afterSalesSchema.index({ orderId: 1, createdAt: -1 });
afterSalesSchema.index({ status: 1, createdAt: -1 });
afterSalesSchema.index({ ticketId: 1 });

export type AfterSalesModel = Model<AfterSalesRecord>;

export function afterSalesModel(connection: Connection): AfterSalesModel {
  return connection.model<AfterSalesRecord>('AfterSalesRecord', afterSalesSchema);
}
