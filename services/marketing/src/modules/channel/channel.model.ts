import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';
import { moneySubdocument } from '@crm/mongo';

export const CHANNEL_KINDS = ['EMAIL', 'SMS', 'WECHAT', 'EVENT', 'ONLINE_ADS', 'PRINT', 'PARTNER', 'OTHER'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export interface ChannelCostRecord {
  period: string;
  amount: Money;
  note: string | null;
  recordedBy: string;
  recordedAt: Date;
}

export interface ChannelRecord {
  _id: Types.ObjectId;
  name: string;
  /** Lower-case name: unique (a second channel of the same name is a CONFLICT). */
  nameKey: string;
  kind: ChannelKind;
  description: string | null;
  active: boolean;
  costs: ChannelCostRecord[];
  version: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const costSchema = new Schema<ChannelCostRecord>(
  {
    period: { type: String, required: true },
    amount: { type: moneySubdocument(), required: true },
    note: { type: String, default: null },
    recordedBy: { type: String, required: true },
    recordedAt: { type: Date, required: true },
  },
  { _id: false },
);

const channelSchema = new Schema<ChannelRecord>(
  {
    name: { type: String, required: true },
    nameKey: { type: String, required: true },
    kind: { type: String, enum: CHANNEL_KINDS, required: true },
    description: { type: String, default: null },
    active: { type: Boolean, required: true },
    costs: { type: [costSchema], default: [] },
    version: { type: Number, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'channels' },
);
channelSchema.plugin(outboxPlugin);
channelSchema.index({ nameKey: 1 }, { unique: true });

export type ChannelModel = Model<ChannelRecord>;

export function channelModel(connection: Connection): ChannelModel {
  return connection.model<ChannelRecord>('Channel', channelSchema);
}
