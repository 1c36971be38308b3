import { Schema, type Connection, type Model } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { ContactChannel } from '../consent/consent.model.js';

export const MESSAGE_STATUSES = ['PENDING', 'SENT', 'SKIPPED', 'FAILED'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * One message to one customer for one occasion (`_id` `<occasion>:<customer>`): its insert is the
 * claim that makes each occasion reach a customer once, across replicas and restarts.
 */
export interface MessageRecord {
  _id: string;
  customerId: string;
  channel: ContactChannel;
  occasion: string;
  campaignId: string | null;
  subject: string;
  body: string;
  status: MessageStatus;
  reason: string | null;
  to: string | null;
  deliveredVia: string | null;
  sentAt: Date | null;
  attempts: number;
  createdAt: Date;
  updatedAt: Date;
}

const messageSchema = new Schema<MessageRecord>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    channel: { type: String, required: true },
    occasion: { type: String, required: true },
    campaignId: { type: String, default: null },
    subject: { type: String, required: true },
    body: { type: String, required: true },
    status: { type: String, enum: MESSAGE_STATUSES, required: true },
    reason: { type: String, default: null },
    to: { type: String, default: null },
    deliveredVia: { type: String, default: null },
    sentAt: { type: Date, default: null },
    attempts: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'messages' },
);
messageSchema.plugin(outboxPlugin);
messageSchema.index({ customerId: 1, createdAt: -1 });

export type MessageModel = Model<MessageRecord>;

export function messageModel(connection: Connection): MessageModel {
  return connection.model<MessageRecord>('Message', messageSchema);
}
