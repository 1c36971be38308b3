import { z } from 'zod';
import { createEvent, type CloudEvent } from '@crm/events';
import { ACTIVITY_TYPES, type ActivityRecord } from './activity.model.js';

/**
 * Every event the activity module publishes: topic `<prefix>.activity` (default `crm.activity`).
 * The key (CloudEvents `subject`) is the CUSTOMER id, not the activity id: one customer's history
 * stays ordered on one partition, which is what the timeline and other readers care about.
 */
export const ActivityEventType = {
  LOGGED: 'activity.logged',
} as const;
export type ActivityEventType = (typeof ActivityEventType)[keyof typeof ActivityEventType];

export const ACTIVITY_EVENT_SOURCE = '/crm/customers';

/**
 * `activity.logged`. The free text (`subject`, `body`) stays in this service (readers ask
 * `Query.activity`; the timeline reads the subject from the activity): no personal text in Kafka.
 */
export interface ActivityLoggedData {
  activityId: string;
  customerId: string;
  type: ActivityRecord['type'];
  occurredAt: string;
  dueAt: string | null;
  remindAt: string | null;
  actorId: string;
  createdAt: string;
}

/** The same shape, checked on the way in (the timeline consumer reads this service's own topic). */
export const activityLoggedData = z.object({
  activityId: z.string().regex(/^[0-9a-f]{24}$/),
  customerId: z.string().regex(/^[0-9a-f]{24}$/),
  type: z.enum(ACTIVITY_TYPES),
  /** Only in events from before the subject left the payload. */
  subject: z.string().min(1).optional(),
  occurredAt: z.iso.datetime(),
  dueAt: z.iso.datetime().nullable(),
  remindAt: z.iso.datetime().nullable(),
  actorId: z.string().min(1),
  createdAt: z.iso.datetime(),
});

export function activityLogged(activity: ActivityRecord): CloudEvent<ActivityLoggedData> {
  return createEvent({
    source: ACTIVITY_EVENT_SOURCE,
    type: ActivityEventType.LOGGED,
    subject: activity.customerId,
    time: activity.createdAt,
    data: {
      activityId: activity._id.toHexString(),
      customerId: activity.customerId,
      type: activity.type,
      occurredAt: activity.occurredAt.toISOString(),
      dueAt: activity.dueAt?.toISOString() ?? null,
      remindAt: activity.remindAt?.toISOString() ?? null,
      actorId: activity.actorId,
      createdAt: activity.createdAt.toISOString(),
    },
  });
}
