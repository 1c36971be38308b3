import { EventConsumer, MongoProcessedEvents, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { Connection } from 'mongoose';
import { CAMPAIGN_ATTRIBUTION_EVENTS, type CampaignService } from './campaign.service.js';

export const campaignAttributionGroupId = (topicPrefix: string) => `${topicPrefix}.marketing.campaign-attribution`;

/** Attributes sales' leads and orders to campaigns by their campaign code (topics `<prefix>.lead`, `<prefix>.order`). */
export function createCampaignAttributionConsumer(options: { client: KafkaClient; connection: Connection; campaigns: CampaignService; logger: Logger; groupId?: string }): EventConsumer {
  const groupId = options.groupId ?? campaignAttributionGroupId(options.client.topicPrefix);
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor('lead.created'), options.client.topicFor('order.placed')],
    types: [...CAMPAIGN_ATTRIBUTION_EVENTS],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger: options.logger.child({ consumer: groupId }),
    handle: (event) => options.campaigns.attribute(event),
  });
}
