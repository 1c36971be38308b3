import { createEvent, type CloudEvent } from '@crm/events';
import type { SegmentKind, SegmentRecord } from './segment.model.js';
import type { SegmentRule } from './segment.rules.js';

/** Every event of the segment module (topic `<prefix>.segment`, default `crm.segment`; key = segment id). */
export const SegmentEventType = {
  CREATED: 'segment.created',
  UPDATED: 'segment.updated',
  MEMBERSHIP_CHANGED: 'segment.membership-changed',
} as const;

export const SEGMENT_EVENT_SOURCE = '/crm/marketing';

export interface SegmentStateData {
  segmentId: string;
  name: string;
  kind: SegmentKind;
  rule: SegmentRule | null;
  version: number;
  by: string;
}

/** Why a membership changed: the rule on a profile change, a recompute, or a marketer (static segments). */
export type MembershipReason = 'PROFILE_CHANGED' | 'RECOMPUTED' | 'MANUAL';

export interface SegmentMembershipChangedData {
  segmentId: string;
  customerId: string;
  change: 'JOINED' | 'LEFT';
  reason: MembershipReason;
  /** The membership's own version (1, 2, ...): consumers keep the highest. */
  version: number;
  at: string;
}

export function segmentStateEvent(type: typeof SegmentEventType.CREATED | typeof SegmentEventType.UPDATED, segment: SegmentRecord, by: string): CloudEvent<SegmentStateData> {
  const segmentId = segment._id.toHexString();
  return createEvent({ source: SEGMENT_EVENT_SOURCE, type, subject: segmentId, time: segment.updatedAt, data: { segmentId, name: segment.name, kind: segment.kind, rule: segment.rule, version: segment.version, by } });
}

export function membershipChanged(segmentId: string, customerId: string, joined: boolean, reason: MembershipReason, version: number, at: Date): CloudEvent<SegmentMembershipChangedData> {
  return createEvent({
    source: SEGMENT_EVENT_SOURCE,
    type: SegmentEventType.MEMBERSHIP_CHANGED,
    subject: segmentId,
    time: at,
    data: { segmentId, customerId, change: joined ? 'JOINED' : 'LEFT', reason, version, at: at.toISOString() },
  });
}
