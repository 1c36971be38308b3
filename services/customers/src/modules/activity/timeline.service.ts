import { Types } from 'mongoose';
import { z } from 'zod';
import type { AuthUser } from '@crm/auth';
import { PoisonEventError, type CloudEvent } from '@crm/events';
import { findByIds, paginate, type Page, type PageArgs } from '@crm/mongo';
import type { CustomerModel } from '../customer/customer.model.js';
import type { CustomerService } from '../customer/customer.service.js';
import { canReadActivities } from './activity.access.js';
import { ActivityException } from './activity.errors.js';
import { ActivityEventType, activityLoggedData } from './activity.events.js';
import { ERASED_TEXT, type ActivityModel, type ActivityRecord, type ActivityType } from './activity.model.js';
import { TIMELINE_KINDS, timelineEntryId, type TimelineEntryModel, type TimelineEntryRecord, type TimelineEntryView, type TimelineKind } from './timeline.model.js';

/** `ticket.opened` of service-desk (services/service-desk ticket.events.ts; `ticket.created` before): the fields the timeline uses. */
export const ticketCreatedData = z.object({
  ticketId: z.string().min(1),
  customerId: z.string().regex(/^[0-9a-f]{24}$/i),
  type: z.string().min(1),
  priority: z.string().min(1),
  channel: z.string().min(1),
  status: z.string().min(1),
  createdAt: z.iso.datetime(),
});

/** Event types the timeline projects; the consumer subscribes to their topics. */
/** Service-desk's ticket opening: `ticket.opened`, and `ticket.created`, its name before (still on older topics). */
const TICKET_OPENED_TYPES: readonly string[] = ['ticket.opened', 'ticket.created'];
export const TIMELINE_EVENT_TYPES = [ActivityEventType.LOGGED, 'ticket.opened', 'ticket.created'] as const;

const ACTIVITY_LABELS: Record<ActivityType, string> = { CALL: 'Call', VISIT: 'Visit', MEETING: 'Meeting', EMAIL: 'Email', NOTE: 'Note', TASK: 'Task' };
const lower = (value: string) => value.toLowerCase().replace(/_/g, ' ');

function poison(event: CloudEvent, issues: z.core.$ZodIssue[]): never {
  throw new PoisonEventError(`${event.type} ${event.id}: ${issues.map((i) => i.path.join('.') || '(data)').join(', ')} invalid`);
}

/**
 * The timeline entry an event stands for, or PoisonEventError when its data is unusable. Pure: the
 * same event always gives the same entry (same `_id`), which is what makes projecting idempotent.
 */
export function timelineEntryOf(event: CloudEvent, recordedAt = new Date(), activitySubject?: string | null): TimelineEntryRecord {
  const base = { _id: timelineEntryId(event.id), eventId: event.id, eventType: event.type, recordedAt };
  if (event.type === ActivityEventType.LOGGED) {
    const parsed = activityLoggedData.safeParse(event.data);
    if (!parsed.success) poison(event, parsed.error.issues);
    const d = parsed.data;
    return {
      ...base,
      customerId: d.customerId,
      kind: 'ACTIVITY',
      occurredAt: new Date(d.occurredAt),
      actorId: d.actorId,
      // Older events carry the subject; newer ones leave it in this service (`activitySubject`).
      summary: (d.subject ?? activitySubject) ? `${ACTIVITY_LABELS[d.type]}: ${d.subject ?? activitySubject}` : ACTIVITY_LABELS[d.type],
      activityId: d.activityId,
      ticketId: null,
      details: { type: d.type, ...(d.dueAt ? { dueAt: d.dueAt } : {}) },
    };
  }
  if (TICKET_OPENED_TYPES.includes(event.type)) {
    const parsed = ticketCreatedData.safeParse(event.data);
    if (!parsed.success) poison(event, parsed.error.issues);
    const d = parsed.data;
    return {
      ...base,
      customerId: d.customerId.toLowerCase(),
      kind: 'TICKET',
      occurredAt: new Date(d.createdAt),
      // The event's actor is not copied; the Ticket entity (service-desk) says who opened it.
      actorId: null,
      summary: `Ticket opened: ${lower(d.type)}, ${lower(d.priority)} priority, via ${lower(d.channel)}`,
      activityId: null,
      ticketId: d.ticketId,
      details: { type: d.type, priority: d.priority, channel: d.channel, status: d.status },
    };
  }
  throw new PoisonEventError(`${event.type} ${event.id}: not a timeline event`);
}

export interface TimelineArgs extends PageArgs {
  kinds?: readonly TimelineKind[] | null;
  /** False when the caller does not need the total (saves a counting query). */
  count?: boolean;
}

/**
 * The customer timeline (CUS-4): a projection (`timeline_entries`) fed by events, ours and other
 * services', read newest first with keyset cursors. See "Timeline (CUS-4)" in the service README.
 */
export class TimelineService {
  constructor(
    private readonly entries: TimelineEntryModel,
    private readonly activities: ActivityModel,
    private readonly customerRecords: CustomerModel,
    private readonly customers: CustomerService,
  ) {}

  /** Erasure: entries keep kind, time and links; their summary and details (copies of text) go. */
  async eraseCustomer(customerId: string): Promise<void> {
    await this.entries.collection.updateMany({ customerId } as never, { $set: { summary: ERASED_TEXT, details: {} } } as never);
  }

  /**
   * Projects one event: stores its entry once (insert-if-absent on the id derived from the event id)
   * and moves the customer's `lastActivityAt` forward with `$max`. Both steps are idempotent, so an
   * at-least-once redelivery or a retry after a crash between them changes nothing twice.
   */
  async apply(event: CloudEvent): Promise<void> {
    const data = event.data as { activityId?: unknown; subject?: unknown } | null;
    const subject =
      event.type === ActivityEventType.LOGGED && typeof data?.subject !== 'string' && typeof data?.activityId === 'string' && /^[0-9a-f]{24}$/.test(data.activityId)
        ? ((await this.activities.findById(data.activityId, { subject: 1 }).lean<{ subject: string }>().exec())?.subject ?? null)
        : null;
    const entry = timelineEntryOf(event, new Date(), subject);
    entry.customerId = await this.survivorOf(entry.customerId);
    const { _id, ...fields } = entry;
    try {
      await this.entries.collection.updateOne({ _id } as never, { $setOnInsert: fields } as never, { upsert: true });
    } catch (error) {
      // Two writers upserting the same new entry at once (the mutation and the consumer): one inserts,
      // the other gets a duplicate key, and the entry is there either way.
      if ((error as { code?: number }).code !== 11000) throw error;
    }
    // A planned task (or a clock running ahead elsewhere) does not make the customer "active in the future".
    await this.touchCustomer(entry.customerId, new Date(Math.min(entry.occurredAt.getTime(), Date.parse(event.time) || Date.now())));
  }

  /** Moves a customer's `lastActivityAt` forward to `at` (never back, never past now). */
  async touchCustomer(customerId: string, at: Date): Promise<void> {
    await this.customers.touchLastActivity(customerId, at);
  }

  /** Follows `mergedInto` (CUS-6), so facts about a merged-away customer land on its survivor. */
  private async survivorOf(customerId: string): Promise<string> {
    let id = customerId;
    for (let hop = 0; hop < 5; hop += 1) {
      const found = await this.customerRecords.collection.findOne({ _id: new Types.ObjectId(id) } as never, { projection: { mergedInto: 1 } });
      const next = (found as { mergedInto?: string | null } | null)?.mergedInto;
      if (!next) return id;
      id = next;
    }
    return id;
  }

  /** Re-points one customer's entries to another (after a merge). */
  async moveCustomer(fromId: string, toId: string): Promise<void> {
    await this.entries.collection.updateMany({ customerId: fromId } as never, { $set: { customerId: toId } } as never);
  }

  /** One customer's timeline, newest first; only for staff who may read the customer. */
  async forCustomer(customerId: string, args: TimelineArgs, user: AuthUser): Promise<Page<TimelineEntryView>> {
    if (!canReadActivities(user)) throw new ActivityException('ACTIVITY_FORBIDDEN', 'Your role cannot read customer timelines');
    const customer = await this.customers.get(customerId, user);
    if (!customer) throw new ActivityException('ACTIVITY_NOT_FOUND', `No customer ${customerId}`);
    const kinds = args.kinds ?? [];
    const unknown = kinds.filter((k) => !(TIMELINE_KINDS as readonly string[]).includes(k));
    if (unknown.length) throw new ActivityException('ACTIVITY_INVALID_INPUT', 'Invalid kinds', [{ field: 'kinds', message: `One of ${TIMELINE_KINDS.join(', ')}` }]);
    const filter: Record<string, unknown> = { customerId: { $in: [customer._id.toHexString(), ...(customer.mergedFrom ?? [])] } };
    if (kinds.length) filter.kind = { $in: [...new Set(kinds)] };
    const page = await paginate(this.entries, filter, args, { sort: { field: 'occurredAt', direction: -1 }, count: args.count !== false });
    // The activities of this page, as they are now (a task may have been completed since).
    const activityIds = page.items.map((e) => e.activityId).filter((id): id is string => !!id);
    const found = await findByIds<ActivityRecord>(this.activities, activityIds.map((id) => new Types.ObjectId(id)));
    const byId = new Map(found.map((a) => [a._id.toHexString(), a]));
    return { ...page, items: page.items.map((entry) => ({ ...entry, activity: entry.activityId ? (byId.get(entry.activityId) ?? null) : null })) };
  }
}
