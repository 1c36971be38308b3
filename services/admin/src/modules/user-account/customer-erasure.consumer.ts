import type { Connection } from 'mongoose';
import { EventConsumer, MongoProcessedEvents, PoisonEventError, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { AuditService } from '../audit/audit.service.js';
import type { UserAccountService } from './user-account.service.js';

export const CUSTOMER_ERASED = 'customer.erased';
export const customerErasureGroupId = (topicPrefix: string) => `${topicPrefix}.admin.customer-erasure`;

/** `customer.erased` (customers service): delete the person's portal account and pseudonymise their audit entries. */
export function createCustomerErasureConsumer(options: { client: KafkaClient; connection: Connection; accounts: UserAccountService; audit: AuditService; logger: Logger }): EventConsumer {
  const groupId = customerErasureGroupId(options.client.topicPrefix);
  const logger = options.logger.child({ consumer: groupId });
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor(CUSTOMER_ERASED)],
    types: [CUSTOMER_ERASED],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger,
    handle: async (event) => {
      const data = event.data as { customerId?: unknown; portalUserId?: unknown } | null;
      if (typeof data?.customerId !== 'string') throw new PoisonEventError(`customer.erased ${event.id} lacks a customerId`);
      if (typeof data.portalUserId !== 'string') return;
      const deleted = await options.accounts.deletePortalAccount(data.portalUserId);
      const pseudonymised = await options.audit.pseudonymiseActor(data.portalUserId);
      logger.info({ eventId: event.id, customerId: data.customerId, deleted, pseudonymised }, 'portal account of an erased customer removed');
    },
  });
}
