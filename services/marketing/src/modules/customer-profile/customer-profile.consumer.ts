import { EventConsumer, MongoProcessedEvents, type CloudEvent, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { PersonalDataOpener } from '@crm/personal-data';
import type { Connection } from 'mongoose';
import { CUSTOMER_PROFILE_CUSTOMER_EVENTS, CUSTOMER_PROFILE_ORDER_EVENTS, CUSTOMER_PROFILE_TICKET_EVENTS, type CustomerProfiles } from './customer-profile.service.js';

/** One consumer group per environment sharing a broker, like the topics. */
export const customerProfileGroupId = (topicPrefix: string) => `${topicPrefix}.marketing.customer-profile`;

/**
 * Keeps the profiles from the customers, sales and service-desk events, then hands the customers that
 * changed to `onChanged` (segment membership) before the offset is committed.
 */
export function createCustomerProfileConsumer(options: {
  client: KafkaClient;
  connection: Connection;
  profiles: CustomerProfiles;
  onChanged: (customerIds: string[], event: CloudEvent) => Promise<void>;
  logger: Logger;
  /** Opens the customer's sealed name, birthday and address (keys from the customers service). */
  personalData: PersonalDataOpener;
  groupId?: string;
}): EventConsumer {
  const groupId = options.groupId ?? customerProfileGroupId(options.client.topicPrefix);
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor('customer.created'), options.client.topicFor('order.placed'), options.client.topicFor('ticket.opened')],
    types: [...CUSTOMER_PROFILE_CUSTOMER_EVENTS, ...CUSTOMER_PROFILE_ORDER_EVENTS, ...CUSTOMER_PROFILE_TICKET_EVENTS],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger: options.logger.child({ consumer: groupId }),
    handle: options.personalData.handler(async (event) => {
      // A reader keeps keys for a minute; an erased person's goes at once.
      if (event.type === 'customer.erased') options.personalData.forget('customer', event.subject);
      const changed = await options.profiles.apply(event);
      if (changed.length) await options.onChanged(changed, event);
    }),
  });
}
