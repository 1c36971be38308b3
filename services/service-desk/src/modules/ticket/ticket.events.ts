import { createEvent, type CloudEvent } from '@crm/events';
import type { TicketRecord } from './ticket.model.js';

/** Every event the ticket aggregate publishes (topic `<prefix>.ticket`, default `crm.ticket`; key = ticket id). */
export const TicketEventType = {
  CREATED: 'ticket.created',
} as const;

export const TICKET_EVENT_SOURCE = '/crm/service-desk';

export interface TicketCreatedData {
  ticketId: string;
  customerId: string;
  type: TicketRecord['type'];
  priority: TicketRecord['priority'];
  channel: TicketRecord['channel'];
  status: TicketRecord['status'];
  createdAt: string;
}

export function ticketCreated(ticket: TicketRecord): CloudEvent<TicketCreatedData> {
  const ticketId = ticket._id.toHexString();
  return createEvent({
    source: TICKET_EVENT_SOURCE,
    type: TicketEventType.CREATED,
    subject: ticketId,
    time: ticket.createdAt,
    data: {
      ticketId,
      customerId: ticket.customerId,
      type: ticket.type,
      priority: ticket.priority,
      channel: ticket.channel,
      status: ticket.status,
      createdAt: ticket.createdAt.toISOString(),
    },
  });
}
