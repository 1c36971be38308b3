import { createEvent, type CloudEvent } from '@crm/events';
import type { ContactConsentRecord } from './consent.model.js';

/** Every event of the consent module (topic `<prefix>.consent`, key = customer id). */
export const ConsentEventType = {
  CHANGED: 'consent.changed',
} as const;

/** No address: consumers learn the consent, not the contact data. */
export interface ConsentChangedData {
  customerId: string;
  channel: ContactConsentRecord['channel'];
  optedIn: boolean;
  source: ContactConsentRecord['source'];
  version: number;
}

export function consentChanged(consent: ContactConsentRecord): CloudEvent<ConsentChangedData> {
  return createEvent({
    source: '/crm/marketing',
    type: ConsentEventType.CHANGED,
    subject: consent.customerId,
    time: consent.changedAt,
    data: { customerId: consent.customerId, channel: consent.channel, optedIn: consent.optedIn, source: consent.source, version: consent.version },
  });
}
