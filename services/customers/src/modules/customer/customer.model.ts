import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { SealedIdentity } from './customer.crypto.js';
import { CUSTOMER_LEVELS, GENDERS, LIFECYCLE_STAGES, PHONE_KINDS, type LifecycleStage } from './customer.validation.js';

export { LIFECYCLE_STAGES, type LifecycleStage };

export interface CustomerPhone {
  number: string;
  kind: (typeof PHONE_KINDS)[number];
}

export interface CustomerAddress {
  country: string | null;
  province: string | null;
  city: string | null;
  street: string | null;
  postalCode: string | null;
}

/** A customer as stored; also the GraphQL `Customer` parent type (codegen mapper). */
export interface CustomerRecord {
  _id: Types.ObjectId;
  name: string;
  gender: (typeof GENDERS)[number] | null;
  /** `YYYY-MM-DD`: a calendar date, not an instant. */
  birthday: string | null;
  email: string | null;
  phones: CustomerPhone[];
  identity: SealedIdentity | null;
  address: CustomerAddress | null;
  organization: string | null;
  source: string | null;
  tags: string[];
  level: (typeof CUSTOMER_LEVELS)[number] | null;
  lifecycleStage: LifecycleStage;
  notes: string | null;
  /** Keycloak user id of the owner, and the owner's department and teams when assigned (visibility, CUS-7). */
  ownerId: string;
  department: string | null;
  ownerTeams: string[];
  /** Keycloak user id of the customer's own account (role `customer`), once linked. */
  portalUserId: string | null;
  searchKeys: string[];
  nameSortKey: string;
  lastActivityAt: Date;
  deletedAt: Date | null;
  deletedBy: string | null;
  /** Set once the person's data was erased (SYS-6): only ids and non-identifying fields remain. */
  erasedAt: Date | null;
  erasedBy: string | null;
  /** Set on a customer merged away (CUS-6): its id keeps resolving to this survivor. */
  mergedInto: string | null;
  /** Ids merged into this customer (makes a retried merge idempotent). */
  mergedFrom: string[];
  /** Manual groups (CUS-2). */
  groupIds: string[];
  /** Organisation entity (CUS-2); `organization` keeps its name for search and display. */
  organizationId: string | null;
  /** Sales products the customer follows (CUS-8). */
  followedProductIds: string[];
  /** Optimistic concurrency: every update increments it and requires the value it read. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const phoneSchema = new Schema<CustomerPhone>({ number: { type: String, required: true }, kind: { type: String, enum: PHONE_KINDS, required: true } }, { _id: false });
const addressSchema = new Schema<CustomerAddress>(
  { country: String, province: String, city: String, street: String, postalCode: String },
  { _id: false },
);
const identitySchema = new Schema<SealedIdentity>(
  { type: { type: String, required: true }, ciphertext: { type: String, required: true }, hash: { type: String, required: true }, last4: { type: String, required: true } },
  { _id: false },
);

const customerSchema = new Schema<CustomerRecord>(
  {
    name: { type: String, required: true, trim: true },
    gender: { type: String, enum: [...GENDERS, null], default: null },
    birthday: { type: String, default: null },
    email: { type: String, default: null },
    phones: { type: [phoneSchema], default: [] },
    identity: { type: identitySchema, default: null },
    address: { type: addressSchema, default: null },
    organization: { type: String, default: null },
    source: { type: String, default: null },
    tags: { type: [String], default: [] },
    level: { type: String, enum: [...CUSTOMER_LEVELS, null], default: null },
    lifecycleStage: { type: String, enum: LIFECYCLE_STAGES, required: true },
    notes: { type: String, default: null },
    ownerId: { type: String, required: true },
    department: { type: String, default: null },
    ownerTeams: { type: [String], default: [] },
    portalUserId: { type: String, default: null },
    searchKeys: { type: [String], default: [] },
    nameSortKey: { type: String, required: true },
    lastActivityAt: { type: Date, required: true },
    deletedAt: { type: Date, default: null },
    deletedBy: { type: String, default: null },
    erasedAt: { type: Date, default: null },
    erasedBy: { type: String, default: null },
    mergedInto: { type: String, default: null },
    mergedFrom: { type: [String], default: [] },
    groupIds: { type: [String], default: [] },
    organizationId: { type: String, default: null },
    followedProductIds: { type: [String], default: [] },
    version: { type: Number, required: true, default: 1 },
  },
  { collection: 'customers', timestamps: true },
);
customerSchema.plugin(outboxPlugin);
// Indexes MongoDB uses for every filter and sort of `customers(...)`. FerretDB v1 (SQLite) accepts them
// but only pushes `_id` equality down, so on FerretDB these queries scan: see the service README.
customerSchema.index({ searchKeys: 1, _id: 1 });
customerSchema.index({ deletedAt: 1, createdAt: -1, _id: -1 });
customerSchema.index({ deletedAt: 1, nameSortKey: 1, _id: 1 });
customerSchema.index({ deletedAt: 1, lastActivityAt: -1, _id: -1 });
customerSchema.index({ ownerId: 1, _id: 1 });
customerSchema.index({ department: 1, _id: 1 });
customerSchema.index({ ownerTeams: 1 });
customerSchema.index({ lifecycleStage: 1, _id: 1 });
customerSchema.index({ tags: 1 });
customerSchema.index({ 'address.country': 1, 'address.province': 1, 'address.city': 1 });
customerSchema.index({ 'identity.hash': 1 });
customerSchema.index({ email: 1 });
customerSchema.index({ 'phones.number': 1 });
customerSchema.index({ portalUserId: 1 });
customerSchema.index({ groupIds: 1 });
customerSchema.index({ organizationId: 1, _id: 1 });
customerSchema.index({ nameSortKey: 1, organization: 1 });

export type CustomerModel = Model<CustomerRecord>;

export function customerModel(connection: Connection): CustomerModel {
  return connection.model<CustomerRecord>('Customer', customerSchema);
}
