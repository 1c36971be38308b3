import { Schema, type Connection, type Model, type SchemaDefinition, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import { ownershipFields, type Ownership } from '../../shared/ownership.js';
import type { OpportunityDraft } from '../opportunity/opportunity.validation.js';

export const LEAD_SOURCES = ['WEBSITE', 'REFERRAL', 'EVENT', 'CAMPAIGN', 'COLD_CALL', 'OTHER'] as const;
export type LeadSource = (typeof LEAD_SOURCES)[number];
export const LEAD_STATUSES = ['NEW', 'CONTACTED', 'QUALIFIED', 'DISQUALIFIED', 'CONVERTED'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/** The contact details a converted lead gives its new customer (the lead's, or the caller's overrides). */
export interface LeadContact {
  name: string;
  email: string | null;
  /** E.164. */
  phones: string[];
  company: string | null;
}

/** What `convertLead` decided, kept on the lead so that a retry after a crash finishes the same conversion. */
export interface LeadConversion {
  at: Date;
  by: string;
  customerId: string;
  /** True when the conversion creates the customer (customers service, from `lead.converted`). */
  newCustomer: boolean;
  /** The new customer's contact details (null when converted into an existing customer). */
  contact: LeadContact | null;
  opportunityId: string | null;
  /** The opportunity to create (kept until it exists; a retried conversion creates it from this). */
  opportunity: OpportunityDraft | null;
}

/** A lead as stored; also the GraphQL `Lead` parent type (codegen mapper). */
export interface LeadRecord extends Ownership {
  _id: Types.ObjectId;
  name: string;
  /** Lower-cased. */
  email: string | null;
  /** E.164, unique. */
  phones: string[];
  company: string | null;
  title: string | null;
  notes: string | null;
  source: LeadSource;
  campaignCode: string | null;
  status: LeadStatus;
  /** Why the lead was disqualified (required then). */
  disqualifiedReason: string | null;
  statusChangedAt: Date;
  /** Set by conversion: the customer (new or existing) and the opportunity. */
  customerId: string | null;
  opportunityId: string | null;
  conversion: LeadConversion | null;
  createdBy: string;
  /** Optimistic concurrency: every update increments it and requires the value it read. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const leadSchema = new Schema<LeadRecord>(
  {
    name: { type: String, required: true },
    email: { type: String, default: null, index: true },
    phones: { type: [String], default: [], index: true },
    company: { type: String, default: null },
    title: { type: String, default: null },
    notes: { type: String, default: null },
    source: { type: String, enum: LEAD_SOURCES, required: true },
    campaignCode: { type: String, default: null, index: true },
    status: { type: String, enum: LEAD_STATUSES, required: true, index: true },
    disqualifiedReason: { type: String, default: null },
    statusChangedAt: { type: Date, required: true },
    customerId: { type: String, default: null, index: true },
    opportunityId: { type: String, default: null },
    conversion: { type: Schema.Types.Mixed, default: null },
    ...(ownershipFields as unknown as SchemaDefinition<Ownership>),
    createdBy: { type: String, required: true },
    version: { type: Number, required: true, default: 1 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'leads' },
);
leadSchema.plugin(outboxPlugin);
// Lists: newest first.
leadSchema.index({ createdAt: -1, _id: -1 });

export type LeadModel = Model<LeadRecord>;

export function leadModel(connection: Connection): LeadModel {
  return connection.model<LeadRecord>('Lead', leadSchema);
}
