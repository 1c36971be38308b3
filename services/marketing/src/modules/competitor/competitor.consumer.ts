import { EventConsumer, MongoProcessedEvents, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { Connection } from 'mongoose';
import { COMPETITOR_OPPORTUNITY_EVENTS, type CompetitorService } from './competitor.service.js';

export const competitorGroupId = (topicPrefix: string) => `${topicPrefix}.marketing.competitor`;

/** Keeps which opportunities named which competitors, and how they closed (topic `<prefix>.opportunity`). */
export function createCompetitorConsumer(options: { client: KafkaClient; connection: Connection; competitors: CompetitorService; logger: Logger; groupId?: string }): EventConsumer {
  const groupId = options.groupId ?? competitorGroupId(options.client.topicPrefix);
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor('opportunity.created')],
    types: [...COMPETITOR_OPPORTUNITY_EVENTS],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger: options.logger.child({ consumer: groupId }),
    handle: (event) => options.competitors.apply(event),
  });
}
