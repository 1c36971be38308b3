import { defineException } from '@crm/errors';

export type CampaignExceptionReason = 'CAMPAIGN_INVALID_INPUT';

export const CampaignException = defineException<CampaignExceptionReason>('CampaignException', {
  CAMPAIGN_INVALID_INPUT: 'BAD_USER_INPUT',
});
