import { Schema, type Connection, type Model, type SchemaDefinition, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';
import type { Discount, PricedLine, Totals } from '../../shared/pricing.js';
import { ownershipFields, type Ownership } from '../../shared/ownership.js';

export const ORDER_STATUSES = ['PENDING_APPROVAL', 'APPROVED', 'REJECTED', 'SHIPPED', 'DELIVERED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Allowed moves. CANCELLED from any state before SHIPPED; REJECTED only from PENDING_APPROVAL. */
export const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  PENDING_APPROVAL: ['APPROVED', 'REJECTED', 'CANCELLED'],
  APPROVED: ['SHIPPED', 'CANCELLED'],
  SHIPPED: ['DELIVERED'],
  DELIVERED: [],
  REJECTED: [],
  CANCELLED: [],
};

export const PAYMENT_METHODS = ['BANK_TRANSFER', 'CARD', 'ALIPAY', 'WECHAT_PAY', 'CASH', 'OTHER'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];
export const PAYMENT_STATUSES = ['UNPAID', 'PARTIALLY_PAID', 'PAID', 'REFUNDED'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export interface StatusChange {
  /** null for the order's first status. */
  from: OrderStatus | null;
  to: OrderStatus;
  at: Date;
  /** Keycloak user id, or `system` for automatic approval. */
  by: string;
  note: string | null;
}

export interface Payment {
  id: string;
  amount: Money;
  method: PaymentMethod;
  paidAt: Date;
  reference: string | null;
  recordedBy: string;
  recordedAt: Date;
}

export interface Shipment {
  carrier: string;
  trackingNumber: string;
  shippedAt: Date;
  shippedBy: string;
}

export interface Delivery {
  deliveredAt: Date;
  receivedBy: string;
  recordedBy: string;
}

/** An order as stored; also the GraphQL `Order` parent type (codegen mapper). */
export interface OrderRecord extends Ownership {
  _id: Types.ObjectId;
  customerId: string;
  quoteId: string | null;
  contractId: string | null;
  opportunityId: string | null;
  /** Marketing attribution (campaign code from a link or a coupon), free text. */
  campaignCode: string | null;
  currency: string;
  lines: PricedLine[];
  discount: Discount | null;
  totals: Totals;
  status: OrderStatus;
  statusHistory: StatusChange[];
  /** Whether the total reached the approval threshold of its currency when placed. */
  approvalRequired: boolean;
  approvedAt: Date | null;
  approvedBy: string | null;
  rejectionReason: string | null;
  cancelledAt: Date | null;
  cancellationReason: string | null;
  shipment: Shipment | null;
  delivery: Delivery | null;
  paymentMethod: PaymentMethod | null;
  paymentStatus: PaymentStatus;
  payments: Payment[];
  paidAmount: Money;
  refundedAmount: Money;
  notes: string | null;
  createdBy: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A list of plain sub-objects the service writes whole (typed by the record interface, not by mongoose). */
const mixedList = () => ({ type: [Schema.Types.Mixed], default: [] }) as never;

const orderSchema = new Schema<OrderRecord>(
  {
    customerId: { type: String, required: true },
    quoteId: { type: String, default: null },
    contractId: { type: String, default: null },
    opportunityId: { type: String, default: null },
    campaignCode: { type: String, default: null },
    currency: { type: String, required: true },
    // Written whole by the service: plain objects in integer minor units.
    lines: mixedList(),
    discount: { type: Schema.Types.Mixed, default: null },
    totals: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: ORDER_STATUSES, required: true },
    statusHistory: mixedList(),
    approvalRequired: { type: Boolean, required: true },
    approvedAt: { type: Date, default: null },
    approvedBy: { type: String, default: null },
    rejectionReason: { type: String, default: null },
    cancelledAt: { type: Date, default: null },
    cancellationReason: { type: String, default: null },
    shipment: { type: Schema.Types.Mixed, default: null },
    delivery: { type: Schema.Types.Mixed, default: null },
    paymentMethod: { type: String, enum: [...PAYMENT_METHODS, null], default: null },
    paymentStatus: { type: String, enum: PAYMENT_STATUSES, required: true },
    payments: mixedList(),
    paidAmount: { type: Schema.Types.Mixed, required: true },
    refundedAmount: { type: Schema.Types.Mixed, required: true },
    notes: { type: String, default: null },
    createdBy: { type: String, required: true },
    version: { type: Number, required: true, default: 1 },
    // `as const` makes the shared definition read-only; mongoose's types want mutable defaults.
    ...(ownershipFields as unknown as SchemaDefinition<Ownership>),
  },
  { collection: 'orders', timestamps: true },
);
orderSchema.plugin(outboxPlugin);
orderSchema.index({ customerId: 1, createdAt: -1, _id: -1 });
orderSchema.index({ createdAt: -1, _id: -1 });
orderSchema.index({ status: 1, createdAt: -1 });
orderSchema.index({ quoteId: 1 });
orderSchema.index({ campaignCode: 1 });

export type OrderModel = Model<OrderRecord>;

export function orderModel(connection: Connection): OrderModel {
  return connection.model<OrderRecord>('Order', orderSchema);
}
