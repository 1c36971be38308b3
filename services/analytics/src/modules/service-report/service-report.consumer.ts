import { z } from 'zod';
import { PoisonEventError, type CloudEvent, type EventConsumer } from '@crm/events';
import { isDuplicateKey } from '@crm/mongo';
import type { ReadModelConsumerFactory } from '../read-model/read-model.consumers.js';
import type { TicketFactModel, TicketFactRecord } from './service-report.model.js';

const instant = z.iso.datetime().nullable().optional();
/** The fields of the service desk's ticket events analytics uses (services/service-desk ticket.events.ts). */
const ticketData = z.object({
  ticketId: z.string().min(1),
  customerId: z.string().min(1),
  productId: z.string().nullable(),
  type: z.string().min(1),
  priority: z.string().min(1),
  channel: z.string().min(1),
  status: z.string().min(1),
  version: z.number().int().nonnegative(),
  createdAt: z.iso.datetime(),
  firstResponseAt: instant,
  resolvedAt: instant,
  rating: z.number().int().min(1).max(5).optional(),
  ratedAt: instant,
});

export const TICKET_EVENT_TYPES = ['ticket.opened', 'ticket.assigned', 'ticket.status-changed', 'ticket.commented', 'ticket.resolved', 'ticket.closed', 'ticket.reopened', 'ticket.sla-breached', 'ticket.updated', 'satisfaction.rated'];

/** Keeps the newest ticket state; a rating is kept from `satisfaction.rated` whatever arrives after it. */
export async function applyTicketEvent(tickets: TicketFactModel, event: CloudEvent): Promise<void> {
  const parsed = ticketData.safeParse(event.data);
  if (!parsed.success) throw new PoisonEventError(`${event.type} ${event.id}: ${parsed.error.issues.map((i) => i.path.join('.') || 'data').join(', ')} invalid`);
  const d = parsed.data;
  const current = await tickets.findById(d.ticketId).lean<TicketFactRecord>().exec();
  const rating = event.type === 'satisfaction.rated' && d.rating ? { rating: d.rating, ratedAt: new Date(d.ratedAt ?? event.time) } : {};
  if (current && current.version > d.version) {
    if (rating.rating && current.rating === null) await tickets.collection.updateOne({ _id: d.ticketId } as never, { $set: rating });
    return;
  }
  const fact = {
    version: d.version,
    customerId: d.customerId,
    productId: d.productId,
    type: d.type,
    channel: d.channel,
    priority: d.priority,
    status: d.status,
    openedAt: new Date(d.createdAt),
    // Older producers did not send these; never let an event without them erase what is known.
    firstResponseAt: d.firstResponseAt ? new Date(d.firstResponseAt) : (current?.firstResponseAt ?? null),
    resolvedAt: d.resolvedAt !== undefined ? (d.resolvedAt ? new Date(d.resolvedAt) : null) : (current?.resolvedAt ?? null),
    ...rating,
  };
  if (!current) {
    try {
      await tickets.collection.insertOne({ _id: d.ticketId, rating: null, ratedAt: null, ...fact } as never);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      throw new Error(`ticket fact ${d.ticketId} was created concurrently; retrying`, { cause: error });
    }
  } else {
    await tickets.collection.updateOne({ _id: d.ticketId } as never, { $set: fact });
  }
}

export function createTicketConsumer(factory: ReadModelConsumerFactory, tickets: TicketFactModel): EventConsumer {
  return factory.create('service', ['ticket', 'satisfaction'], TICKET_EVENT_TYPES, (event) => applyTicketEvent(tickets, event));
}
