import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';
import { moneySubdocument } from '@crm/mongo';

export const CAMPAIGN_CHANNELS = ['EMAIL', 'SMS', 'WECHAT', 'EVENT', 'ONLINE_ADS', 'OTHER'] as const;
export type CampaignChannel = (typeof CAMPAIGN_CHANNELS)[number];

export const CAMPAIGN_STATUSES = ['PLANNED', 'ACTIVE', 'COMPLETED', 'CANCELLED'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** A campaign as stored; also the GraphQL `Campaign` parent type (codegen mapper). */
export interface CampaignRecord {
  _id: Types.ObjectId;
  name: string;
  goal?: string | null;
  channel: CampaignChannel;
  budget: Money;
  status: CampaignStatus;
  startsAt: Date;
  endsAt: Date;
  ownerId: string;
  createdAt: Date;
  updatedAt: Date;
}

const moneySchema = moneySubdocument();

const campaignSchema = new Schema<CampaignRecord>(
  {
    name: { type: String, required: true, trim: true },
    goal: { type: String, trim: true },
    channel: { type: String, enum: CAMPAIGN_CHANNELS, required: true },
    budget: { type: moneySchema, required: true },
    status: { type: String, enum: CAMPAIGN_STATUSES, required: true, default: 'PLANNED' },
    startsAt: { type: Date, required: true },
    endsAt: { type: Date, required: true },
    ownerId: { type: String, required: true },
  },
  { collection: 'campaigns', timestamps: true },
);
campaignSchema.plugin(outboxPlugin);
campaignSchema.index({ ownerId: 1, _id: 1 });
campaignSchema.index({ startsAt: 1 });

export type CampaignModel = Model<CampaignRecord>;

export function campaignModel(connection: Connection): CampaignModel {
  return connection.model<CampaignRecord>('Campaign', campaignSchema);
}
