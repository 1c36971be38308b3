import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { CampaignChannel, CampaignRecord, CampaignStatus } from './campaign.model.js';

/** Every event the campaign aggregate publishes (topic `<prefix>.campaign`, default `crm.campaign`; key = campaign id). */
export const CampaignEventType = {
  CREATED: 'campaign.created',
} as const;

export const CAMPAIGN_EVENT_SOURCE = '/crm/marketing';

export interface CampaignCreatedData {
  campaignId: string;
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
