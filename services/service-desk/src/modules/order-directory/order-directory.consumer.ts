import type { Connection } from 'mongoose';
import { EventConsumer, MongoProcessedEvents, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import { ORDER_EVENTS, type OrderDirectory } from './order-directory.service.js';

/** One consumer group per environment sharing a broker, like the topics. */
export const orderDirectoryGroupId = (topicPrefix: string) => `${topicPrefix}.service-desk.order-directory`;

/** Keeps the order directory from the sales service's events (topic `<prefix>.order`); poison to `<prefix>.order.dlq`. */
export function createOrderDirectoryConsumer(options: { client: KafkaClient; connection: Connection; directory: OrderDirectory; logger: Logger; groupId?: string }): EventConsumer {
  const groupId = options.groupId ?? orderDirectoryGroupId(options.client.topicPrefix);
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor('order.placed')],
    types: [...ORDER_EVENTS],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger: options.logger.child({ consumer: groupId }),
    handle: (event) => options.directory.apply(event),
  });
}
