import type { Connection } from 'mongoose';
import { AUDIT_RECORDED, EventConsumer, MongoProcessedEvents, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { AuditService } from './audit.service.js';

export const auditGroupId = (topicPrefix: string) => `${topicPrefix}.admin.audit`;

/** Stores the gateway's audit events (topic `<prefix>.audit`). */
export function createAuditConsumer(options: { client: KafkaClient; connection: Connection; audit: AuditService; logger: Logger }): EventConsumer {
  const groupId = auditGroupId(options.client.topicPrefix);
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor(AUDIT_RECORDED)],
    types: [AUDIT_RECORDED],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger: options.logger.child({ consumer: groupId }),
    handle: (event) => options.audit.record(event),
  });
}
