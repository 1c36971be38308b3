import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { SegmentRule } from './segment.rules.js';

export const SEGMENT_KINDS = ['DYNAMIC', 'STATIC'] as const;
export type SegmentKind = (typeof SEGMENT_KINDS)[number];

export interface SegmentRecord {
  _id: Types.ObjectId;
  name: string;
  description: string | null;
  kind: SegmentKind;
  rule: SegmentRule | null;
  version: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * Whether one customer is in one segment (`_id` `<segment>:<customer>`; kept after leaving, with
 * `member: false`, so its `segment.membership-changed` events have a document to live in).
 */
export interface SegmentMembershipRecord {
  _id: string;
  segmentId: string;
  customerId: string;
  member: boolean;
  since: Date | null;
  version: number;
  updatedAt: Date;
}

const segmentSchema = new Schema<SegmentRecord>(
  {
    name: { type: String, required: true },
    description: { type: String, default: null },
    kind: { type: String, enum: SEGMENT_KINDS, required: true },
    rule: { type: Schema.Types.Mixed, default: null },
    version: { type: Number, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'segments' },
);
segmentSchema.plugin(outboxPlugin);
segmentSchema.index({ kind: 1 });

const membershipSchema = new Schema<SegmentMembershipRecord>(
  {
    _id: { type: String, required: true },
    segmentId: { type: String, required: true },
    customerId: { type: String, required: true },
    member: { type: Boolean, required: true },
    since: { type: Date, default: null },
    version: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'segment_memberships' },
);
membershipSchema.plugin(outboxPlugin);
membershipSchema.index({ segmentId: 1, member: 1, customerId: 1 });
membershipSchema.index({ customerId: 1, member: 1 });

export type SegmentModel = Model<SegmentRecord>;
export type SegmentMembershipModel = Model<SegmentMembershipRecord>;

export function segmentModels(connection: Connection): { segments: SegmentModel; memberships: SegmentMembershipModel } {
  return {
    segments: connection.model<SegmentRecord>('Segment', segmentSchema),
    memberships: connection.model<SegmentMembershipRecord>('SegmentMembership', membershipSchema),
  };
}

/** `Customer` as this subgraph resolves it: the id only (the customers service owns the entity). */
export interface CustomerReference {
  id: string;
}
