import { Schema, type Connection, type Model } from 'mongoose';

/** Order statuses as the sales service publishes them (services/sales order.model.ts). */
export const ORDER_STATUSES = ['PENDING_APPROVAL', 'APPROVED', 'REJECTED', 'SHIPPED', 'DELIVERED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * What the service desk knows of a sales order, from the sales service's `order.*` events: whose it
 * is, which products it has, where it stands and when it was delivered. Enough to check an
 * after-sales request; everything else is resolved through the federation entity `Order`.
 */
export interface OrderDirectoryRecord {
  /** Order id (24 hex digits, lower case). */
  _id: string;
  customerId: string;
  productIds: string[];
  status: OrderStatus;
  deliveredAt: Date | null;
  cancelledAt: Date | null;
  /** The order's `version` in the sales service when this entry was written. */
  version: number;
  updatedAt: Date;
}

const orderDirectorySchema = new Schema<OrderDirectoryRecord>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    productIds: { type: [String], default: [] },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    deliveredAt: { type: Date, default: null },
    cancelledAt: { type: Date, default: null },
    version: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'order_directory', versionKey: false },
);
orderDirectorySchema.index({ customerId: 1 });

export type OrderDirectoryModel = Model<OrderDirectoryRecord>;

export function orderDirectoryModel(connection: Connection): OrderDirectoryModel {
  return connection.model<OrderDirectoryRecord>('OrderDirectory', orderDirectorySchema);
}
