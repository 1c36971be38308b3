import { createEvent, type CloudEvent } from '@crm/events';
import type { CustomerRecord, LifecycleStage } from './customer.model.js';

/** Every event the customer aggregate publishes (topic `<prefix>.customer`, default `crm.customer`; key = customer id). */
export const CustomerEventType = {
  CREATED: 'customer.created',
} as const;

export const CUSTOMER_EVENT_SOURCE = '/crm/customers';

export interface CustomerCreatedData {
  customerId: string;
  name: string;
  organization: string | null;
  lifecycleStage: LifecycleStage;
  source: string | null;
  ownerId: string;
  createdAt: string;
}

export function customerCreated(customer: CustomerRecord): CloudEvent<CustomerCreatedData> {
  const customerId = customer._id.toHexString();
  return createEvent({
    source: CUSTOMER_EVENT_SOURCE,
    type: CustomerEventType.CREATED,
    subject: customerId,
    time: customer.createdAt,
    // Contact details stay in this service; consumers that need them ask by id.
    data: {
      customerId,
      name: customer.name,
      organization: customer.organization ?? null,
      lifecycleStage: customer.lifecycleStage,
      source: customer.source ?? null,
      ownerId: customer.ownerId,
      createdAt: customer.createdAt.toISOString(),
    },
  });
}
