import { createEvent, type CloudEvent } from '@crm/events';
import type { TicketRecord } from './ticket.model.js';

/**
 * Every event the ticket aggregate publishes; key (subject) = ticket id. `ticket.*` go to topic
 * `<prefix>.ticket`, `satisfaction.rated` to `<prefix>.satisfaction` (the topic is the event type's
 * first segment). Internal comments and internal notes publish nothing.
 */
export const TicketEventType = {
  OPENED: 'ticket.opened',
  ASSIGNED: 'ticket.assigned',
  STATUS_CHANGED: 'ticket.status-changed',
  COMMENTED: 'ticket.commented',
  RESOLVED: 'ticket.resolved',
  CLOSED: 'ticket.closed',
  REOPENED: 'ticket.reopened',
  SLA_BREACHED: 'ticket.sla-breached',
  /** Something other than status/assignment changed that consumers may track (the customer, after a merge). */
  UPDATED: 'ticket.updated',
  SATISFACTION_RATED: 'satisfaction.rated',
} as const;
export type TicketEventType = (typeof TicketEventType)[keyof typeof TicketEventType];

export const TICKET_EVENT_SOURCE = '/crm/service-desk';

/** What every ticket event carries. */
export interface TicketEventData {
  ticketId: string;
  customerId: string;
  productId: string | null;
  orderId: string | null;
  type: TicketRecord['type'];
  priority: TicketRecord['priority'];
  channel: TicketRecord['channel'];
  status: TicketRecord['status'];
  queueId: string | null;
  assigneeId: string | null;
  version: number;
  /** When the ticket was opened (the customers timeline reads it from `ticket.opened`). */
  createdAt: string;
  /** First public answer by staff, and resolution: analytics measures response and resolution times. */
  firstResponseAt: string | null;
  resolvedAt: string | null;
}

export function ticketEvent(type: TicketEventType, ticket: TicketRecord, extra: Record<string, unknown> = {}, time = ticket.updatedAt): CloudEvent {
  const data: TicketEventData = {
    ticketId: ticket._id.toHexString(),
    customerId: ticket.customerId,
    productId: ticket.productId,
    orderId: ticket.orderId,
    type: ticket.type,
    priority: ticket.priority,
    channel: ticket.channel,
    status: ticket.status,
    queueId: ticket.queueId,
    assigneeId: ticket.assigneeId,
    version: ticket.version,
    createdAt: ticket.createdAt.toISOString(),
    firstResponseAt: ticket.firstResponseAt?.toISOString() ?? null,
    resolvedAt: ticket.resolvedAt?.toISOString() ?? null,
  };
  return createEvent({ source: TICKET_EVENT_SOURCE, type, subject: data.ticketId, time, data: { ...data, ...extra } });
}
