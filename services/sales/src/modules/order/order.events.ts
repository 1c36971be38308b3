import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { Totals } from '../../shared/pricing.js';
import { eventLines, type EventLine } from '../quote/quote.events.js';
import type { OrderRecord, OrderStatus, PaymentStatus } from './order.model.js';

/** Every event the order aggregate publishes (topic `<prefix>.order`; key = order id). */
export const OrderEventType = {
  PLACED: 'order.placed',
  /** Something other than status or payment changed (e.g. the customer, after a customer merge). */
  UPDATED: 'order.updated',
  APPROVED: 'order.approved',
  REJECTED: 'order.rejected',
  SHIPPED: 'order.shipped',
  DELIVERED: 'order.delivered',
  PAYMENT_RECORDED: 'order.payment-recorded',
  PAID: 'order.paid',
  REFUNDED: 'order.refunded',
  CANCELLED: 'order.cancelled',
} as const;
export type OrderEventType = (typeof OrderEventType)[keyof typeof OrderEventType];

export const ORDER_EVENT_SOURCE = '/crm/sales';

/** What every order event carries. */
export interface OrderEventData {
  orderId: string;
  customerId: string;
  ownerId: string;
  department: string | null;
  quoteId: string | null;
  campaignCode: string | null;
  status: OrderStatus;
  paymentStatus: PaymentStatus;
  currency: string;
  lines: EventLine[];
  totals: Totals;
  paidAmount: Money;
  version: number;
}

export function orderEvent(type: OrderEventType, order: OrderRecord, extra: Record<string, unknown> = {}, time = order.updatedAt): CloudEvent {
  const data: OrderEventData = {
    orderId: order._id.toHexString(),
    customerId: order.customerId,
    ownerId: order.ownerId,
    department: order.department ?? null,
    quoteId: order.quoteId ?? null,
    campaignCode: order.campaignCode ?? null,
    status: order.status,
    paymentStatus: order.paymentStatus,
    currency: order.currency,
    lines: eventLines(order.lines),
    totals: order.totals,
    paidAmount: order.paidAmount,
    version: order.version,
  };
  return createEvent({ source: ORDER_EVENT_SOURCE, type, subject: data.orderId, time, data: { ...data, ...extra } });
}
