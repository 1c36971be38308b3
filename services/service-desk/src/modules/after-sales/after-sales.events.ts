import { createEvent, type CloudEvent } from '@crm/events';
import type { AfterSalesRecord } from './after-sales.model.js';

/** Events of the after-sales record (topic `<prefix>.after-sales`, key = record id). */
export const AfterSalesEventType = {
  REQUESTED: 'after-sales.requested',
  APPROVED: 'after-sales.approved',
  REJECTED: 'after-sales.rejected',
  STARTED: 'after-sales.started',
  COMPLETED: 'after-sales.completed',
  CANCELLED: 'after-sales.cancelled',
  /** The customer changed (customers merged). */
  UPDATED: 'after-sales.updated',
} as const;
export type AfterSalesEventType = (typeof AfterSalesEventType)[keyof typeof AfterSalesEventType];

export const AFTER_SALES_EVENT_SOURCE = '/crm/service-desk';

/** What every after-sales event carries. */
export interface AfterSalesEventData {
  recordId: string;
  kind: AfterSalesRecord['kind'];
  customerId: string;
  productId: string;
  orderId: string;
  ticketId: string | null;
  quantity: number;
  status: AfterSalesRecord['status'];
  version: number;
}

export function afterSalesEvent(type: AfterSalesEventType, record: AfterSalesRecord, extra: Record<string, unknown> = {}, time = record.updatedAt): CloudEvent {
  const data: AfterSalesEventData = {
    recordId: record._id.toHexString(),
    kind: record.kind,
    customerId: record.customerId,
    productId: record.productId,
    orderId: record.orderId,
    ticketId: record.ticketId,
    quantity: record.quantity,
    status: record.status,
    version: record.version,
  };
  return createEvent({ source: AFTER_SALES_EVENT_SOURCE, type, subject: data.recordId, time, data: { ...data, ...extra } });
}
