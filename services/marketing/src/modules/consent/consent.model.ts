import { Schema, type Connection, type Model } from 'mongoose';
import { outboxPlugin } from '@crm/events';

export const CONTACT_CHANNELS = ['EMAIL', 'SMS', 'WECHAT'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

/** One customer's consent on one channel (`_id` `<customer>:<channel>`), with its events. */
export interface ContactConsentRecord {
  _id: string;
  customerId: string;
  channel: ContactChannel;
  optedIn: boolean;
  address: string | null;
  source: 'STAFF' | 'CUSTOMER';
  changedBy: string;
  changedAt: Date;
  version: number;
}

const consentSchema = new Schema<ContactConsentRecord>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    channel: { type: String, enum: CONTACT_CHANNELS, required: true },
    optedIn: { type: Boolean, required: true },
    address: { type: String, default: null },
    source: { type: String, required: true },
    changedBy: { type: String, required: true },
    changedAt: { type: Date, required: true },
    version: { type: Number, required: true },
  },
  { collection: 'contact_consents' },
);
consentSchema.plugin(outboxPlugin);
consentSchema.index({ customerId: 1 });

export type ContactConsentModel = Model<ContactConsentRecord>;

export function contactConsentModel(connection: Connection): ContactConsentModel {
  return connection.model<ContactConsentRecord>('ContactConsent', consentSchema);
}
