import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { CampaignChannel, CampaignRecord, CampaignStatus } from './campaign.model.js';

/** Every event the campaign aggregate publishes (topic `<prefix>.campaign`, default `crm.campaign`; key = campaign id). */
export const CampaignEventType = {
  CREATED: 'campaign.created',
  UPDATED: 'campaign.updated',
  ACTIVATED: 'campaign.activated',
  COMPLETED: 'campaign.completed',
  CANCELLED: 'campaign.cancelled',
  MEMBERS_CHANGED: 'campaign.members-changed',
  COST_RECORDED: 'campaign.cost-recorded',
} as const;
export type CampaignEventType = (typeof CampaignEventType)[keyof typeof CampaignEventType];

export const CAMPAIGN_EVENT_SOURCE = '/crm/marketing';

export interface CampaignCreatedData {
  campaignId: string;
  code: string;
  name: string;
  channel: CampaignChannel;
  budget: Money;
  status: CampaignStatus;
  startsAt: string;
  endsAt: string;
  ownerId: string;
  createdAt: string;
}

export function campaignCreated(campaign: CampaignRecord): CloudEvent<CampaignCreatedData> {
  const campaignId = campaign._id.toHexString();
  return createEvent({
    source: CAMPAIGN_EVENT_SOURCE,
    type: CampaignEventType.CREATED,
    subject: campaignId,
    time: campaign.createdAt,
    data: {
      campaignId,
      code: campaign.code,
      name: campaign.name,
      channel: campaign.channel,
      budget: { amountMinor: campaign.budget.amountMinor, currency: campaign.budget.currency },
      status: campaign.status,
      startsAt: campaign.startsAt.toISOString(),
      endsAt: campaign.endsAt.toISOString(),
      ownerId: campaign.ownerId,
      createdAt: campaign.createdAt.toISOString(),
    },
  });
}

/** Every later change: the campaign's state after it (no member lists: they can be long). */
export interface CampaignChangedData {
  campaignId: string;
  code: string;
  name: string;
  status: CampaignStatus;
  channelId: string | null;
  budget: Money;
  memberCustomerCount: number;
  memberSegmentIds: string[];
  version: number;
  by: string;
  /** campaign.cost-recorded: the entry recorded. */
  cost?: { id: string; amount: Money; incurredAt: string };
}

export function campaignChanged(type: CampaignEventType, campaign: CampaignRecord, by: string, cost?: CampaignChangedData['cost']): CloudEvent<CampaignChangedData> {
  const campaignId = campaign._id.toHexString();
  return createEvent({
    source: CAMPAIGN_EVENT_SOURCE,
    type,
    subject: campaignId,
    time: campaign.updatedAt,
    data: {
      campaignId,
      code: campaign.code,
      name: campaign.name,
      status: campaign.status,
      channelId: campaign.channelId,
      budget: { amountMinor: campaign.budget.amountMinor, currency: campaign.budget.currency },
      memberCustomerCount: campaign.memberCustomerIds.length,
      memberSegmentIds: campaign.memberSegmentIds,
      version: campaign.version,
      by,
      ...(cost ? { cost } : {}),
    },
  });
}
