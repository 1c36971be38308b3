import { EventConsumer, MongoProcessedEvents, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { Connection } from 'mongoose';
import { REFERRAL_EVENTS, type ReferralService } from './referral.service.js';

export const referralGroupId = (topicPrefix: string) => `${topicPrefix}.marketing.referral`;

/** Sign-ups with a code and referees' paid orders (topics `<prefix>.customer`, `<prefix>.order`). */
export function createReferralConsumer(options: { client: KafkaClient; connection: Connection; referrals: ReferralService; logger: Logger; groupId?: string }): EventConsumer {
  const groupId = options.groupId ?? referralGroupId(options.client.topicPrefix);
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor('customer.created'), options.client.topicFor('order.paid')],
    types: [...REFERRAL_EVENTS],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger: options.logger.child({ consumer: groupId }),
    handle: (event) => options.referrals.apply(event),
  });
}
