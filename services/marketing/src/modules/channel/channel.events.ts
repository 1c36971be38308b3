import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { ChannelKind, ChannelRecord } from './channel.model.js';

/** Every event of the channel module (topic `<prefix>.channel`, key = channel id). */
export const ChannelEventType = {
  CREATED: 'channel.created',
  UPDATED: 'channel.updated',
  COST_RECORDED: 'channel.cost-recorded',
} as const;

export interface ChannelStateData {
  channelId: string;
  name: string;
  kind: ChannelKind;
  active: boolean;
  version: number;
  by: string;
}

export interface ChannelCostRecordedData extends ChannelStateData {
  period: string;
  amount: Money;
}

type Type = (typeof ChannelEventType)[keyof typeof ChannelEventType];

export function channelEvent(type: Type, channel: ChannelRecord, by: string, cost?: { period: string; amount: Money }): CloudEvent<ChannelStateData | ChannelCostRecordedData> {
  const channelId = channel._id.toHexString();
  const state: ChannelStateData = { channelId, name: channel.name, kind: channel.kind, active: channel.active, version: channel.version, by };
  return createEvent({ source: '/crm/marketing', type, subject: channelId, time: channel.updatedAt, data: cost ? { ...state, ...cost } : state });
}
