import type { Connection } from 'mongoose';
import { EventConsumer, MongoProcessedEvents, PoisonEventError, type CloudEvent, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { CustomerLinkRegistry } from './registry.js';

/** The customers service's event (see services/customers customer.events.ts, `CustomerMergedData`). */
export const CUSTOMER_MERGED = 'customer.merged';
/** The customers service erased a person (`CustomerErasedData`: ids only). */
export const CUSTOMER_ERASED = 'customer.erased';

/** One consumer group per service and environment sharing a broker, like the topics: `<prefix>.<service>.customer-link`. */
export const customerLinkGroupId = (topicPrefix: string, service: string) => `${topicPrefix}.${service}.customer-link`;

const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** Handles one `customer.merged`: every registered module re-points `mergedId` to `survivorId`. */
export async function applyCustomerMerged(event: CloudEvent, registry: CustomerLinkRegistry, logger: Logger): Promise<Record<string, number>> {
  const data = event.data as { mergedId?: unknown; survivorId?: unknown } | null;
  const mergedId = typeof data?.mergedId === 'string' ? data.mergedId.toLowerCase() : null;
  const survivorId = typeof data?.survivorId === 'string' ? data.survivorId.toLowerCase() : null;
  if (!mergedId || !survivorId || !OBJECT_ID.test(mergedId) || !OBJECT_ID.test(survivorId) || mergedId === survivorId) {
    throw new PoisonEventError(`customer.merged ${event.id} lacks valid mergedId/survivorId`);
  }
  const counts = await registry.repoint(mergedId, survivorId);
  logger.info({ eventId: event.id, mergedId, survivorId, counts }, 'records re-pointed to the surviving customer');
  return counts;
}

/** Handles one `customer.erased`: every registered module erases its copies of the person's data. */
export async function applyCustomerErased(event: CloudEvent, registry: CustomerLinkRegistry, logger: Logger): Promise<Record<string, number>> {
  const data = event.data as { customerId?: unknown } | null;
  const customerId = typeof data?.customerId === 'string' ? data.customerId.toLowerCase() : null;
  if (!customerId || !OBJECT_ID.test(customerId)) throw new PoisonEventError(`customer.erased ${event.id} lacks a valid customerId`);
  const counts = await registry.erase(customerId);
  logger.info({ eventId: event.id, customerId, counts }, "a person's data erased");
  return counts;
}

export interface CustomerLinkConsumerOptions {
  client: KafkaClient;
  connection: Connection;
  registry: CustomerLinkRegistry;
  logger: Logger;
  /** The consuming service's name (e.g. `sales`, `service-desk`): part of the consumer group id. */
  service: string;
  /** Overrides the group id (tests). */
  groupId?: string;
}

/**
 * `customer.merged` and `customer.erased` from the customers service (topic `<prefix>.customer`): the merged-away customer's
 * records move to the survivor in every registered module. Deduplicated by event id (in the service's
 * own `processed_events`); poison events go to the dead-letter topic.
 */
export function createCustomerLinkConsumer(options: CustomerLinkConsumerOptions): EventConsumer {
  const groupId = options.groupId ?? customerLinkGroupId(options.client.topicPrefix, options.service);
  const logger = options.logger.child({ consumer: groupId });
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor(CUSTOMER_MERGED)],
    types: [CUSTOMER_MERGED, CUSTOMER_ERASED],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger,
    handle: async (event) => {
      if (event.type === CUSTOMER_ERASED) await applyCustomerErased(event, options.registry, logger);
      else await applyCustomerMerged(event, options.registry, logger);
    },
  });
}
