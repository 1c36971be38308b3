import { defineException } from '@crm/errors';

export type CampaignExceptionReason = 'CAMPAIGN_INVALID_INPUT' | 'CAMPAIGN_NOT_FOUND' | 'CAMPAIGN_CODE_TAKEN' | 'CAMPAIGN_ILLEGAL_TRANSITION' | 'CAMPAIGN_VERSION_CONFLICT' | 'CAMPAIGN_CLOSED';

/** The campaign module's one error type; each reason maps to one GraphQL error code. */
export const CampaignException = defineException<CampaignExceptionReason>('CampaignException', {
  CAMPAIGN_INVALID_INPUT: 'BAD_USER_INPUT',
  CAMPAIGN_NOT_FOUND: 'NOT_FOUND',
  CAMPAIGN_CODE_TAKEN: 'CONFLICT',
  CAMPAIGN_ILLEGAL_TRANSITION: 'CONFLICT',
  CAMPAIGN_VERSION_CONFLICT: 'CONFLICT',
  CAMPAIGN_CLOSED: 'CONFLICT',
});
