import { EventConsumer, MongoProcessedEvents, PoisonEventError, type CloudEvent, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { Connection } from 'mongoose';
import type { TicketService } from './ticket.service.js';

/** The sales service's event (services/sales order.events.ts; topic `<prefix>.order`). */
export const ORDER_CANCELLED = 'order.cancelled';

/** One consumer group per environment sharing a broker, like the topics. */
export const ticketOrderGroupId = (topicPrefix: string) => `${topicPrefix}.service-desk.ticket-orders`;

const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** Handles one `order.cancelled`: open tickets about the order get an internal note. */
export async function applyOrderCancelled(event: CloudEvent, tickets: TicketService): Promise<number> {
  const data = event.data as { orderId?: unknown; reason?: unknown } | null;
  const orderId = typeof data?.orderId === 'string' ? data.orderId : '';
  if (!OBJECT_ID.test(orderId)) throw new PoisonEventError(`order.cancelled ${event.id} lacks a valid orderId`);
  return tickets.noteOrderCancelled(orderId, event.id, typeof data?.reason === 'string' ? data.reason : null);
}

/** `order.cancelled` from sales: notes on the open tickets of the order. Deduplicated by event id; poison events go to the DLQ. */
export function createTicketOrderConsumer(options: { client: KafkaClient; connection: Connection; tickets: TicketService; logger: Logger; groupId?: string }): EventConsumer {
  const groupId = options.groupId ?? ticketOrderGroupId(options.client.topicPrefix);
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor(ORDER_CANCELLED)],
    types: [ORDER_CANCELLED],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger: options.logger.child({ consumer: groupId }),
    handle: async (event) => void (await applyOrderCancelled(event, options.tickets)),
  });
}
