import { createEvent, type CloudEvent } from '@crm/events';
import type { CustomerRecord, LifecycleStage } from './customer.model.js';

/** Every event the customer aggregate publishes (topic `<prefix>.customer`, default `crm.customer`; key = customer id). */
export const CustomerEventType = {
  CREATED: 'customer.created',
  UPDATED: 'customer.updated',
  DELETED: 'customer.deleted',
  RESTORED: 'customer.restored',
  MERGED: 'customer.merged',
  ERASED: 'customer.erased',
} as const;
export type CustomerEventType = (typeof CustomerEventType)[keyof typeof CustomerEventType];

export const CUSTOMER_EVENT_SOURCE = '/crm/customers';

/**
 * What other services may know of a customer. Contact details and the identity document stay in
 * this service (consumers ask by id); no identity number ever enters an event (CUS-7).
 */
export interface CustomerSnapshot {
  customerId: string;
  name: string;
  organization: string | null;
  lifecycleStage: LifecycleStage;
  level: string | null;
  source: string | null;
  tags: string[];
  gender: string | null;
  birthday: string | null;
  country: string | null;
  province: string | null;
  city: string | null;
  ownerId: string;
  department: string | null;
  /**
   * The Keycloak user id of the customer's self-service account (set by `linkCustomerAccount`), so
   * other services know which customer a `customer`-role caller is. An account id, not contact data.
   */
  portalUserId: string | null;
  createdAt: string;
  version: number;
}

export type CustomerCreatedData = CustomerSnapshot;
export interface CustomerUpdatedData extends CustomerSnapshot {
  /** Names of the fields this update changed (values of sensitive ones are not included). */
  changed: string[];
}
export interface CustomerDeletedData {
  customerId: string;
  deletedBy: string;
  version: number;
}
export type CustomerRestoredData = CustomerSnapshot;
/** The person's data is gone from the customers service; other services erase their copies (ids only). */
export interface CustomerErasedData {
  customerId: string;
  erasedBy: string;
  version: number;
  /** The person's self-service account, if they had one: the admin service deletes it from Keycloak. An account id, not contact data. */
  portalUserId: string | null;
}

export function snapshotOf(customer: CustomerRecord): CustomerSnapshot {
  return {
    customerId: customer._id.toHexString(),
    name: customer.name,
    organization: customer.organization ?? null,
    lifecycleStage: customer.lifecycleStage,
    level: customer.level ?? null,
    source: customer.source ?? null,
    tags: customer.tags ?? [],
    gender: customer.gender ?? null,
    birthday: customer.birthday ?? null,
    country: customer.address?.country ?? null,
    province: customer.address?.province ?? null,
    city: customer.address?.city ?? null,
    ownerId: customer.ownerId,
    department: customer.department ?? null,
    portalUserId: customer.portalUserId ?? null,
    createdAt: customer.createdAt.toISOString(),
    version: customer.version,
  };
}

function customerEvent<T>(type: CustomerEventType, customer: CustomerRecord, data: T, time: Date): CloudEvent<T> {
  return createEvent({ source: CUSTOMER_EVENT_SOURCE, type, subject: customer._id.toHexString(), time, data });
}

export const customerCreated = (c: CustomerRecord) => customerEvent<CustomerCreatedData>(CustomerEventType.CREATED, c, snapshotOf(c), c.createdAt);
export const customerUpdated = (c: CustomerRecord, changed: string[]) =>
  customerEvent<CustomerUpdatedData>(CustomerEventType.UPDATED, c, { ...snapshotOf(c), changed }, c.updatedAt);
export const customerDeleted = (c: CustomerRecord, deletedBy: string) =>
  customerEvent<CustomerDeletedData>(CustomerEventType.DELETED, c, { customerId: c._id.toHexString(), deletedBy, version: c.version }, c.updatedAt);
export const customerRestored = (c: CustomerRecord) => customerEvent<CustomerRestoredData>(CustomerEventType.RESTORED, c, snapshotOf(c), c.updatedAt);

/** `mergedId` was folded into `survivorId`: re-point references; the merged id keeps resolving to the survivor. */
export interface CustomerMergedData extends CustomerSnapshot {
  survivorId: string;
  mergedId: string;
}
export const customerMerged = (survivor: CustomerRecord, mergedId: string) =>
  customerEvent<CustomerMergedData>(CustomerEventType.MERGED, survivor, { ...snapshotOf(survivor), survivorId: survivor._id.toHexString(), mergedId }, survivor.updatedAt);

export function customerErased(customer: CustomerRecord, erasedBy: string, portalUserId: string | null): CloudEvent<CustomerErasedData> {
  return customerEvent(CustomerEventType.ERASED, customer, { customerId: customer._id.toHexString(), erasedBy, version: customer.version, portalUserId }, customer.updatedAt);
}
