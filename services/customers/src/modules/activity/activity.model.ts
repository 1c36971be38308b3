import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

/** What stays of an erased person's free text (right to erasure). */
export const ERASED_TEXT = '[erased]';

export const ACTIVITY_TYPES = ['CALL', 'VISIT', 'MEETING', 'EMAIL', 'NOTE', 'TASK'] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];

/** What a service agent may log on any customer it can read (without write rights on the customer). */
export const SERVICE_AGENT_ACTIVITY_TYPES: readonly ActivityType[] = ['CALL', 'EMAIL', 'NOTE'];

/** An activity as stored (CUS-4); also the GraphQL `Activity` parent type (codegen mapper). */
export interface ActivityRecord {
  _id: Types.ObjectId;
  /** The customer it belongs to (the survivor's id when the given id was merged away). */
  customerId: string;
  type: ActivityType;
  subject: string;
  body: string | null;
  /** When it happened; for a task, when it was planned (may lie in the future). */
  occurredAt: Date;
  /** Tasks only: when it must be done, and optionally when to remind (not after `dueAt`). */
  dueAt: Date | null;
  remindAt: Date | null;
  completedAt: Date | null;
  completedBy: string | null;
  /** Keycloak user id of who logged it. */
  actorId: string;
  createdAt: Date;
  updatedAt: Date;
}

const activitySchema = new Schema<ActivityRecord>(
  {
    customerId: { type: String, required: true },
    type: { type: String, enum: ACTIVITY_TYPES, required: true },
    subject: { type: String, required: true },
    body: { type: String, default: null },
    occurredAt: { type: Date, required: true },
    dueAt: { type: Date, default: null },
    remindAt: { type: Date, default: null },
    completedAt: { type: Date, default: null },
    completedBy: { type: String, default: null },
    actorId: { type: String, required: true },
  },
  { collection: 'activities', timestamps: true },
);
// The activity and its `activity.logged` event are one insert (outbox in the activity document).
activitySchema.plugin(outboxPlugin);
// `Customer.activities` (newest first) and `myTasks` (open tasks of one user, soonest due first).
activitySchema.index({ customerId: 1, occurredAt: -1, _id: -1 });
activitySchema.index({ actorId: 1, type: 1, completedAt: 1, dueAt: 1, _id: 1 });

export type ActivityModel = Model<ActivityRecord>;

export function activityModel(connection: Connection): ActivityModel {
  return connection.model<ActivityRecord>('Activity', activitySchema);
}
