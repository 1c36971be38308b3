import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';
import { moneySubdocument } from '@crm/mongo';

export const CAMPAIGN_CHANNELS = ['EMAIL', 'SMS', 'WECHAT', 'EVENT', 'ONLINE_ADS', 'OTHER'] as const;
export type CampaignChannel = (typeof CAMPAIGN_CHANNELS)[number];

export const CAMPAIGN_STATUSES = ['PLANNED', 'ACTIVE', 'COMPLETED', 'CANCELLED'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Allowed moves: PLANNED → ACTIVE → COMPLETED; PLANNED or ACTIVE → CANCELLED. */
export const CAMPAIGN_TRANSITIONS: Record<CampaignStatus, CampaignStatus[]> = {
  PLANNED: ['ACTIVE', 'CANCELLED'],
  ACTIVE: ['COMPLETED', 'CANCELLED'],
  COMPLETED: [],
  CANCELLED: [],
};

/** Money actually spent on the campaign, entered by marketers (the budget is the plan). */
export interface CampaignCostRecord {
  id: string;
  amount: Money;
  note: string | null;
  incurredAt: Date;
  recordedBy: string;
}

/** A campaign as stored; also the GraphQL `Campaign` parent type (codegen mapper). */
export interface CampaignRecord {
  _id: Types.ObjectId;
  name: string;
  goal?: string | null;
  /** Unique, upper-case: sales records it as the order's and the lead's `campaignCode`. */
  code: string;
  channel: CampaignChannel;
  /** A `Channel` of the channel module, if the campaign runs on a recorded one. */
  channelId: string | null;
  budget: Money;
  status: CampaignStatus;
  startsAt: Date;
  endsAt: Date;
  ownerId: string;
  participantIds: string[];
  memberCustomerIds: string[];
  memberSegmentIds: string[];
  costs: CampaignCostRecord[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * What a lead or an order contributed to a campaign (`_id` `lead:<id>` or `order:<id>`), from sales'
 * events; the newest version of each wins, so replays and out-of-order events count once.
 */
export interface CampaignAttributionRecord {
  _id: string;
  kind: 'LEAD' | 'ORDER';
  campaignCode: string;
  version: number;
  /** LEAD: its status (CONVERTED counts as converted). ORDER: counted when fully PAID and not CANCELLED. */
  status: string;
  counted: boolean;
  amount: Money | null;
  updatedAt: Date;
}

const moneySchema = moneySubdocument();

const costSchema = new Schema<CampaignCostRecord>(
  { id: { type: String, required: true }, amount: { type: moneySchema, required: true }, note: { type: String, default: null }, incurredAt: { type: Date, required: true }, recordedBy: { type: String, required: true } },
  { _id: false },
);

const campaignSchema = new Schema<CampaignRecord>(
  {
    name: { type: String, required: true, trim: true },
    goal: { type: String, trim: true },
    code: { type: String, required: true },
    channel: { type: String, enum: CAMPAIGN_CHANNELS, required: true },
    channelId: { type: String, default: null },
    budget: { type: moneySchema, required: true },
    status: { type: String, enum: CAMPAIGN_STATUSES, required: true, default: 'PLANNED' },
    startsAt: { type: Date, required: true },
    endsAt: { type: Date, required: true },
    ownerId: { type: String, required: true },
    participantIds: { type: [String], default: [] },
    memberCustomerIds: { type: [String], default: [] },
    memberSegmentIds: { type: [String], default: [] },
    costs: { type: [costSchema], default: [] },
    version: { type: Number, required: true, default: 1 },
  },
  { collection: 'campaigns', timestamps: true },
);
campaignSchema.plugin(outboxPlugin);
campaignSchema.index({ code: 1 }, { unique: true });
campaignSchema.index({ ownerId: 1, _id: 1 });
campaignSchema.index({ startsAt: 1 });
campaignSchema.index({ memberCustomerIds: 1 });

const attributionSchema = new Schema<CampaignAttributionRecord>(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    campaignCode: { type: String, required: true },
    version: { type: Number, required: true },
    status: { type: String, required: true },
    counted: { type: Boolean, required: true },
    amount: { type: Schema.Types.Mixed, default: null },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'campaign_attributions' },
);
attributionSchema.index({ campaignCode: 1 });

export type CampaignModel = Model<CampaignRecord>;
export type CampaignAttributionModel = Model<CampaignAttributionRecord>;

export function campaignModel(connection: Connection): CampaignModel {
  return connection.model<CampaignRecord>('Campaign', campaignSchema);
}

export function campaignAttributionModel(connection: Connection): CampaignAttributionModel {
  return connection.model<CampaignAttributionRecord>('CampaignAttribution', attributionSchema);
}
