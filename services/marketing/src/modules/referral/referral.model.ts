import { Schema, type Connection, type Model } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';

/** A referral code (`_id` = the code) and whose it is. */
export interface ReferralCodeRecord {
  _id: string;
  customerId: string;
  createdAt: Date;
}

/** A customer's code (`_id` = customer id): inserting it is the claim that gives each customer one code. */
export interface CustomerCodeRecord {
  _id: string;
  code: string;
}

/** One referral per referee (`_id` = referee id: the insert is the claim). Carries its events. */
export interface ReferralRecord {
  _id: string;
  referrerId: string;
  code: string;
  recordedBy: string;
  recordedAt: Date;
  rewardedAt: Date | null;
  rewardOrderId: string | null;
  referrerReward: Money | null;
  refereeReward: Money | null;
  version: number;
}

const codeSchema = new Schema<ReferralCodeRecord>({ _id: { type: String, required: true }, customerId: { type: String, required: true }, createdAt: { type: Date, required: true } }, { collection: 'referral_codes' });
const customerCodeSchema = new Schema<CustomerCodeRecord>({ _id: { type: String, required: true }, code: { type: String, required: true } }, { collection: 'referral_customer_codes' });
const referralSchema = new Schema<ReferralRecord>(
  {
    _id: { type: String, required: true },
    referrerId: { type: String, required: true },
    code: { type: String, required: true },
    recordedBy: { type: String, required: true },
    recordedAt: { type: Date, required: true },
    rewardedAt: { type: Date, default: null },
    rewardOrderId: { type: String, default: null },
    referrerReward: { type: Schema.Types.Mixed, default: null },
    refereeReward: { type: Schema.Types.Mixed, default: null },
    version: { type: Number, required: true },
  },
  { collection: 'referrals' },
);
referralSchema.plugin(outboxPlugin);
referralSchema.index({ referrerId: 1, recordedAt: -1 });

export interface ReferralModels {
  codes: Model<ReferralCodeRecord>;
  customerCodes: Model<CustomerCodeRecord>;
  referrals: Model<ReferralRecord>;
}

export function referralModels(connection: Connection): ReferralModels {
  return {
    codes: connection.model<ReferralCodeRecord>('ReferralCode', codeSchema),
    customerCodes: connection.model<CustomerCodeRecord>('ReferralCustomerCode', customerCodeSchema),
    referrals: connection.model<ReferralRecord>('Referral', referralSchema),
  };
}
