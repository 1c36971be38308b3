import { Types } from 'mongoose';
import { Role, type AuthUser } from '@crm/auth';
import { EventConsumer, MongoProcessedEvents, PoisonEventError, type CloudEvent, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { PersonalDataOpener } from '@crm/personal-data';
import type { Connection } from '@crm/mongo';
import type { CustomerService } from '../customer/customer.service.js';

/** The sales service's event (services/sales lead.events.ts, `LeadConvertedData`); only what is used here. */
export const LEAD_CONVERTED = 'lead.converted';

export interface LeadConvertedData {
  leadId: string;
  customerId: string;
  newCustomer: boolean;
  contact: { name: string; email: string | null; phones: string[]; company: string | null } | null;
  notes: string | null;
  source: string;
  campaignCode: string | null;
  ownerId: string;
  department: string | null;
  ownerTeams: string[];
}

/** One consumer group per environment sharing a broker, like the topics. */
export const leadConversionGroupId = (topicPrefix: string) => `${topicPrefix}.customers.lead-conversion`;

const OBJECT_ID = /^[0-9a-f]{24}$/i;

/**
 * The lead's owner as the acting user: the new customer is theirs (owner, department and teams, as if
 * they had created it), which `createMany` stamps from the user.
 */
export function leadOwnerAsUser(data: Pick<LeadConvertedData, 'ownerId' | 'department' | 'ownerTeams'>): AuthUser {
  return {
    id: data.ownerId,
    username: `lead-owner:${data.ownerId}`,
    roles: [Role.SALES_REP],
    groups: [...(data.department ? [data.department] : []), ...(data.ownerTeams ?? [])],
  };
}

/**
 * Creates the customer a lead was converted into (SAL-2), with the id the sales service derived from
 * the lead: `createMany` skips an id already stored, so a redelivered or replayed event creates nothing
 * twice. The customer starts as a PROSPECT with the lead's contact details, notes and source, and
 * `customer.created` goes out through the outbox as for any new customer. Conversions into an existing
 * customer (`newCustomer: false`) need nothing here.
 */
export async function applyLeadConverted(event: CloudEvent, customers: CustomerService, logger: Logger): Promise<'CREATED' | 'SKIPPED' | 'EXISTING_CUSTOMER'> {
  const data = event.data as Partial<LeadConvertedData> | null;
  if (!data || typeof data.customerId !== 'string' || !OBJECT_ID.test(data.customerId) || typeof data.ownerId !== 'string' || !data.ownerId) {
    throw new PoisonEventError(`lead.converted ${event.id} lacks customerId or ownerId`);
  }
  if (!data.newCustomer) return 'EXISTING_CUSTOMER';
  const contact = data.contact;
  if (!contact?.name) throw new PoisonEventError(`lead.converted ${event.id} has no contact name`);
  const [result] = await customers.createMany(
    [
      {
        id: new Types.ObjectId(data.customerId),
        input: {
          name: contact.name,
          email: contact.email,
          phones: (contact.phones ?? []).map((number) => ({ number })),
          organization: contact.company,
          source: data.source ?? null,
          notes: data.notes ?? null,
          lifecycleStage: 'PROSPECT',
        },
      },
    ],
    leadOwnerAsUser({ ownerId: data.ownerId, department: data.department ?? null, ownerTeams: data.ownerTeams ?? [] }),
  );
  if (!result || result.status === 'INVALID') {
    throw new PoisonEventError(`lead.converted ${event.id}: invalid customer (${JSON.stringify(result?.problems ?? [])})`);
  }
  logger.info({ eventId: event.id, leadId: data.leadId, customerId: data.customerId, status: result.status }, 'customer from converted lead');
  return result.status;
}

/** Consumes `lead.converted` (topic `<prefix>.lead`); deduplicated by event id, poison events to the DLQ. */
export function createLeadConversionConsumer(options: { client: KafkaClient; connection: Connection; customers: CustomerService; logger: Logger; personalData: PersonalDataOpener; groupId?: string }): EventConsumer {
  const groupId = options.groupId ?? leadConversionGroupId(options.client.topicPrefix);
  const logger = options.logger.child({ consumer: groupId });
  return new EventConsumer({
    client: options.client,
    groupId,
    topics: [options.client.topicFor(LEAD_CONVERTED)],
    types: [LEAD_CONVERTED],
    processed: new MongoProcessedEvents(options.connection, groupId),
    logger,
    // The lead's name and contact arrive sealed with the lead's key (kept by sales).
    handle: options.personalData.handler(async (event) => {
      await applyLeadConverted(event, options.customers, logger);
    }),
  });
}
