import { defineException } from '@crm/errors';

export type ReferralExceptionReason = 'REFERRAL_INVALID_INPUT' | 'REFERRAL_NOT_FOUND' | 'REFERRAL_SELF' | 'REFERRAL_ALREADY_REFERRED' | 'REFERRAL_ALREADY_REWARDED';

/** The referral module's one error type; each reason maps to one GraphQL error code. */
export const ReferralException = defineException<ReferralExceptionReason>('ReferralException', {
  REFERRAL_INVALID_INPUT: 'BAD_USER_INPUT',
  REFERRAL_NOT_FOUND: 'NOT_FOUND',
  REFERRAL_SELF: 'BAD_USER_INPUT',
  REFERRAL_ALREADY_REFERRED: 'CONFLICT',
  REFERRAL_ALREADY_REWARDED: 'CONFLICT',
});
