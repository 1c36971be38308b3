import { Schema, type Connection, type Model } from 'mongoose';

/** A lead as analytics knows it (newest version wins). */
export interface LeadFactRecord {
  _id: string;
  version: number;
  source: string;
  campaignCode: string | null;
  status: string;
  createdAt: Date;
  convertedAt: Date | null;
  opportunityId: string | null;
}

/** An opportunity as analytics knows it (newest version wins). */
export interface OpportunityFactRecord {
  _id: string;
  version: number;
  leadId: string | null;
  customerId: string;
  campaignCode: string | null;
  status: string;
  amountMinor: number;
  currency: string;
  firstSeenAt: Date;
  closedAt: Date | null;
}

const leadFactSchema = new Schema<LeadFactRecord>(
  { _id: String, version: Number, source: String, campaignCode: { type: String, default: null }, status: String, createdAt: { type: Date, index: true }, convertedAt: { type: Date, default: null }, opportunityId: { type: String, default: null } },
  { collection: 'lead_facts', versionKey: false },
);
const opportunityFactSchema = new Schema<OpportunityFactRecord>(
  {
    _id: String,
    version: Number,
    leadId: { type: String, default: null, index: true },
    customerId: String,
    campaignCode: { type: String, default: null },
    status: String,
    amountMinor: Number,
    currency: String,
    firstSeenAt: { type: Date, index: true },
    closedAt: { type: Date, default: null },
  },
  { collection: 'opportunity_facts', versionKey: false },
);

export function funnelModels(connection: Connection) {
  return {
    leads: connection.model<LeadFactRecord>('LeadFact', leadFactSchema) as Model<LeadFactRecord>,
    opportunities: connection.model<OpportunityFactRecord>('OpportunityFact', opportunityFactSchema) as Model<OpportunityFactRecord>,
  };
}
export type FunnelModels = ReturnType<typeof funnelModels>;
export const FUNNEL_COLLECTIONS = ['lead_facts', 'opportunity_facts'];
