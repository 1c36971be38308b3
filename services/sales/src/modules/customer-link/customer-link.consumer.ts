import { EventConsumer, MongoProcessedEvents, PoisonEventError, type CloudEvent, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { Connection } from '@crm/mongo';
import type { CustomerLinkRegistry } from './customer-link.registry.js';

/** The customers service's event (see services/customers customer.events.ts, `CustomerMergedData`). */
export const CUSTOMER_MERGED = 'customer.merged';

/** One consumer group per environment sharing a broker, like the topics. */
export const customerLinkGroupId = (topicPrefix: string) => `${topicPrefix}.sales.customer-link`;

const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** Handles one `customer.merged`: every registered module re-points `mergedId` to `survivorId`. */
export async function applyCustomerMerged(event: CloudEvent, registry: CustomerLinkRegistry, logger: Logger): Promise<void> {
  const data = event.data as { mergedId?: unknown; survivorId?: unknown } | null;
  const mergedId = typeof data?.mergedId === 'string' ? data.mergedId.toLowerCase() : null;
  const survivorId = typeof data?.survivorId === 'string' ? data.survivorId.toLowerCase() : null;
  if (!mergedId || !survivorId || !OBJECT_ID.test(mergedId) || !OBJECT_ID.test(survivorId) || mergedId === survivorId) {
    throw new PoisonEventError(`customer.merged ${event.id} lacks valid mergedId/survivorId`);
  }
  const counts = await registry.repoint(mergedId, survivorId);
  logger.info({ eventId: event.id, mergedId, survivorId, counts }, 'sales records re-pointed to the surviving customer');
}

/**
 * `customer.merged` from the customers service (topic `<prefix>.customer`): the merged-away customer's
 * sales records move to the survivor. Deduplicated by event id; poison events go to the DLQ.
 */
export function createCustomerLinkConsumer(options: { client: KafkaClient; connection: Connection; registry: CustomerLinkRegistry; logger: Logger; groupId?: string }): EventConsumer {
  const groupId = options.groupId ?? customerLinkGroupId(options.client.topicPrefix);
  const logger = options.logger.child({ consumer: groupId });
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor(CUSTOMER_MERGED)],
    types: [CUSTOMER_MERGED],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger,
    handle: (event) => applyCustomerMerged(event, options.registry, logger),
  });
}
