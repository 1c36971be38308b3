import { z } from 'zod';
import { EventConsumer, MongoProcessedEvents, PoisonEventError, type CloudEvent, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { Connection } from '@crm/mongo';
import type { CustomerFactModel } from './customer-stats.model.js';

/** The fields of `customer.created` this read model uses (see services/customers customer.events.ts). */
const customerCreatedData = z.object({
  customerId: z.string().min(1),
  lifecycleStage: z.string().min(1),
  organization: z.string().nullable(),
  source: z.string().nullable(),
  ownerId: z.string().min(1),
  createdAt: z.iso.datetime(),
});

export const CUSTOMER_STATS_GROUP = 'analytics.customer-stats';

/** Folds one customer event into the read model. Idempotent: keyed by customer id. */
export async function applyCustomerEvent(facts: CustomerFactModel, event: CloudEvent): Promise<void> {
  const parsed = customerCreatedData.safeParse(event.data);
  if (!parsed.success) throw new PoisonEventError(`customer.created ${event.id}: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')} invalid`);
  const data = parsed.data;
  await facts.updateOne(
    { _id: data.customerId },
    {
      $setOnInsert: {
        lifecycleStage: data.lifecycleStage,
        organization: data.organization,
        source: data.source,
        ownerId: data.ownerId,
        customerCreatedAt: new Date(data.createdAt),
      },
    },
    { upsert: true },
  );
}

export function createCustomerStatsConsumer(options: { client: KafkaClient; connection: Connection; facts: CustomerFactModel; logger: Logger; groupId?: string }): EventConsumer {
  const groupId = options.groupId ?? CUSTOMER_STATS_GROUP;
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor('customer.created')],
    types: ['customer.created'],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger: options.logger.child({ consumer: groupId }),
    handle: (event) => applyCustomerEvent(options.facts, event),
  });
}
