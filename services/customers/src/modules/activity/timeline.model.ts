import { createHash } from 'node:crypto';
import { Schema, Types, type Connection, type Model } from 'mongoose';
import type { ActivityRecord } from './activity.model.js';

/** Kinds of facts on a customer's timeline. Planned: ORDER (sales), CAMPAIGN_RESPONSE (marketing). */
export const TIMELINE_KINDS = ['ACTIVITY', 'TICKET'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/**
 * One fact on a customer's timeline (CUS-4), projected from an event: our own `activity.logged` and
 * other services' facts (`ticket.created`, later orders and campaign responses). The `_id` is derived
 * from the source event's id, so a redelivered event finds its entry instead of adding a second one.
 */
export interface TimelineEntryRecord {
  _id: Types.ObjectId;
  /** The CloudEvent this entry was projected from. */
  eventId: string;
  eventType: string;
  customerId: string;
  kind: TimelineKind;
  occurredAt: Date;
  /** Keycloak user id of who did it, when the source event says. */
  actorId: string | null;
  /** One line for lists. */
  summary: string;
  activityId: string | null;
  ticketId: string | null;
  /** Source-specific facts kept for display (e.g. a ticket's type, priority, channel, status). */
  details: Record<string, unknown>;
  recordedAt: Date;
}

/** A `Ticket` of the service-desk subgraph as this subgraph knows it: only the key. */
export interface TicketReference {
  __typename: 'Ticket';
  id: string;
}

/** A timeline entry as resolvers see it: the stored entry plus, for activities, the activity as it is now. */
export interface TimelineEntryView extends TimelineEntryRecord {
  activity: ActivityRecord | null;
}

/**
 * The entry id for an event id: the first 12 bytes of its SHA-256, as an ObjectId. Event ids are
 * UUIDs, but keyset cursors (`paginate`) need ObjectId `_id`s as the tie-breaker; the derivation keeps
 * "one event, one entry" without a second unique index.
 */
export function timelineEntryId(eventId: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(eventId).digest().subarray(0, 12));
}

const timelineEntrySchema = new Schema<TimelineEntryRecord>(
  {
    eventId: { type: String, required: true },
    eventType: { type: String, required: true },
    customerId: { type: String, required: true },
    kind: { type: String, enum: TIMELINE_KINDS, required: true },
    occurredAt: { type: Date, required: true },
    actorId: { type: String, default: null },
    summary: { type: String, required: true },
    activityId: { type: String, default: null },
    ticketId: { type: String, default: null },
    details: { type: Schema.Types.Mixed, default: {} },
    recordedAt: { type: Date, required: true },
  },
  { collection: 'timeline_entries', minimize: false },
);
// `Customer.timeline`: one customer's entries newest first (optionally of some kinds).
timelineEntrySchema.index({ customerId: 1, occurredAt: -1, _id: -1 });
timelineEntrySchema.index({ customerId: 1, kind: 1, occurredAt: -1, _id: -1 });

export type TimelineEntryModel = Model<TimelineEntryRecord>;

export function timelineEntryModel(connection: Connection): TimelineEntryModel {
  return connection.model<TimelineEntryRecord>('TimelineEntry', timelineEntrySchema);
}
