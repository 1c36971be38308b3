import { EventConsumer, MongoProcessedEvents, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { Connection } from '@crm/mongo';
import { TIMELINE_EVENT_TYPES, type TimelineService } from './timeline.service.js';

/**
 * The consumer group projecting events into `timeline_entries`. Namespaced by the topic prefix (one
 * group per environment sharing a broker, like the topics). Rebuilding the projection: stop the
 * service, drop `timeline_entries` and this group's `processed_events`, delete the group's offsets.
 */
export const timelineGroupId = (topicPrefix: string) => `${topicPrefix}.customers.timeline`;

/**
 * Feeds the customer timeline (CUS-4): `activity.logged` (this service's own topic, which repairs a
 * crash between storing an activity and projecting it) and `ticket.opened` (service-desk; `ticket.created` before). Orders and
 * campaign responses will be added here the same way: their topic and type, and a case in `timelineEntryOf`.
 */
export function createTimelineConsumer(options: { client: KafkaClient; connection: Connection; timeline: TimelineService; logger: Logger; groupId?: string }): EventConsumer {
  const groupId = options.groupId ?? timelineGroupId(options.client.topicPrefix);
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [...new Set(TIMELINE_EVENT_TYPES.map((type) => options.client.topicFor(type)))],
    types: [...TIMELINE_EVENT_TYPES],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger: options.logger.child({ consumer: groupId }),
    handle: (event) => options.timeline.apply(event),
  });
}
