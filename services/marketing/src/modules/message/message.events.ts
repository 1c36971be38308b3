import { createEvent, type CloudEvent } from '@crm/events';
import type { MessageRecord } from './message.model.js';

/** Every event of the message module (topic `<prefix>.message`, key = customer id). */
export const MessageEventType = {
  SENT: 'message.sent',
} as const;

/** No text and no address: the message is the customer's, the fact is everyone's. */
export interface MessageSentData {
  messageId: string;
  customerId: string;
  channel: MessageRecord['channel'];
  occasion: string;
  campaignId: string | null;
  deliveredVia: string;
  sentAt: string;
}

export function messageSent(message: MessageRecord, deliveredVia: string, sentAt: Date): CloudEvent<MessageSentData> {
  return createEvent({
    source: '/crm/marketing',
    type: MessageEventType.SENT,
    subject: message.customerId,
    time: sentAt,
    data: { messageId: message._id, customerId: message.customerId, channel: message.channel, occasion: message.occasion, campaignId: message.campaignId, deliveredVia, sentAt: sentAt.toISOString() },
  });
}
