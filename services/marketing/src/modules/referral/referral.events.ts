import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { ReferralRecord } from './referral.model.js';

/** Every event of the referral module (topic `<prefix>.referral`, key = referee customer id). */
export const ReferralEventType = {
  RECORDED: 'referral.recorded',
  REWARDED: 'referral.rewarded',
} as const;

export interface ReferralEventData {
  refereeId: string;
  referrerId: string;
  code: string;
  recordedBy: string;
  rewardOrderId: string | null;
  referrerReward: Money | null;
  refereeReward: Money | null;
  at: string;
}

export function referralEvent(type: (typeof ReferralEventType)[keyof typeof ReferralEventType], referral: ReferralRecord, at: Date): CloudEvent<ReferralEventData> {
  return createEvent({
    source: '/crm/marketing',
    type,
    subject: referral._id,
    time: at,
    data: { refereeId: referral._id, referrerId: referral.referrerId, code: referral.code, recordedBy: referral.recordedBy, rewardOrderId: referral.rewardOrderId, referrerReward: referral.referrerReward, refereeReward: referral.refereeReward, at: at.toISOString() },
  });
}
