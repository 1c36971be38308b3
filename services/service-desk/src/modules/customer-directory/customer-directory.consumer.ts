import { EventConsumer, MongoProcessedEvents, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { Connection } from 'mongoose';
import { CUSTOMER_DIRECTORY_EVENTS, type CustomerDirectory } from './customer-directory.service.js';

/** One consumer group per environment sharing a broker, like the topics. */
export const customerDirectoryGroupId = (topicPrefix: string) => `${topicPrefix}.service-desk.customer-directory`;

/** Keeps the customer directory from the customers service's events (topic `<prefix>.customer`). */
export function createCustomerDirectoryConsumer(options: { client: KafkaClient; connection: Connection; directory: CustomerDirectory; logger: Logger; groupId?: string }): EventConsumer {
  const groupId = options.groupId ?? customerDirectoryGroupId(options.client.topicPrefix);
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor('customer.created')],
    types: [...CUSTOMER_DIRECTORY_EVENTS],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger: options.logger.child({ consumer: groupId }),
    handle: (event) => options.directory.apply(event),
  });
}
