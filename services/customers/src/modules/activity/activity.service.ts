import { Types } from 'mongoose';
import { z } from 'zod';
import type { AuthUser } from '@crm/auth';
import { fieldProblems, type FieldProblem } from '@crm/errors';
import { OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import type { Logger } from '@crm/logger';
import { paginate, type Page, type PageArgs } from '@crm/mongo';
import { writeFilter } from '../customer/customer.access.js';
import type { CustomerModel, CustomerRecord } from '../customer/customer.model.js';
import type { CustomerService } from '../customer/customer.service.js';
import { canLogActivities, canReadActivities, serviceAgentMayLog } from './activity.access.js';
import { ActivityException } from './activity.errors.js';
import { activityLogged } from './activity.events.js';
import { ACTIVITY_TYPES, ERASED_TEXT, type ActivityModel, type ActivityRecord, type ActivityType } from './activity.model.js';
import type { TimelineService } from './timeline.service.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** How far in the future a call, visit, meeting, email or note may be dated (clock skew); tasks are planned. */
export const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

const logActivityInput = z.object({
  customerId: z.string().regex(OBJECT_ID, 'Not a customer id'),
  type: z.enum(ACTIVITY_TYPES),
  subject: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
  body: z
    .string()
    .trim()
    .max(10_000, 'At most 10000 characters')
    .nullish()
    .transform((v) => v || null),
  occurredAt: z.date().nullish(),
  dueAt: z.date().nullish(),
  remindAt: z.date().nullish(),
});
export type LogActivityInput = z.input<typeof logActivityInput>;

/** Cross-field rules: tasks need a due date and remind before it; other types are not dated in the future. */
function timingProblems(input: LogActivityInput, now: Date): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const { type, occurredAt, dueAt, remindAt } = input;
  if (type === 'TASK') {
    if (!dueAt) problems.push({ field: 'input.dueAt', message: 'Required for a task' });
    if (remindAt && dueAt && remindAt.getTime() > dueAt.getTime()) problems.push({ field: 'input.remindAt', message: 'Must not be after dueAt' });
  } else {
    if (dueAt) problems.push({ field: 'input.dueAt', message: 'Only for tasks' });
    if (remindAt) problems.push({ field: 'input.remindAt', message: 'Only for tasks' });
    if (occurredAt && occurredAt.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
      problems.push({ field: 'input.occurredAt', message: 'Must not be more than 5 minutes in the future' });
    }
  }
  return problems;
}

export interface ActivityListArgs extends PageArgs {
  type?: ActivityType | null;
  /** False when the caller does not need the total (saves a counting query). */
  count?: boolean;
}

/** The one facade resolvers call for activities (CUS-4). */
export class ActivityService {
  constructor(
    private readonly activities: ActivityModel,
    private readonly customerRecords: CustomerModel,
    private readonly customers: CustomerService,
    private readonly timeline: TimelineService,
    private readonly relay: OutboxRelay,
    private readonly logger: Logger,
  ) {
    // A merge (CUS-6) carries the merged customer's activities and timeline over to the survivor.
    customers.onMerge(async (mergedId, survivorId) => {
      // One by one in step with the relay (FerretDB v1: a bulk rewrite racing its removal of events could undo either).
      await this.relay.updateMatching(this.activities, { customerId: mergedId }, { $set: { customerId: survivorId } });
      await this.timeline.moveCustomer(mergedId, survivorId);
    });
    // Right to erasure (SYS-6): what was written about the person goes; type, times and actors stay.
    customers.onErase(async (customerId) => {
      await this.relay.updateMatching(this.activities, { customerId }, { $set: { subject: ERASED_TEXT, body: null } });
      await this.timeline.eraseCustomer(customerId);
    });
  }

  /** True when `user` may change this customer (the rule of customer.access.ts `writeFilter`). */
  private async mayWrite(customer: CustomerRecord, user: AuthUser): Promise<boolean> {
    const allowed = writeFilter(user);
    if (!allowed) return false;
    return (await this.customerRecords.countDocuments({ $and: [{ _id: customer._id }, allowed] }).exec()) > 0;
  }

  /**
   * Logs an activity on a customer the caller may change (service agents: calls, emails and notes on
   * customers they can read). The activity and its `activity.logged` event are one insert; the
   * timeline entry and the customer's `lastActivityAt` follow at once (read-your-writes) and again
   * when the event comes back through Kafka, which repairs a crash in between (both idempotent).
   */
  async log(input: LogActivityInput, user: AuthUser): Promise<ActivityRecord> {
    if (!canLogActivities(user)) throw new ActivityException('ACTIVITY_FORBIDDEN', 'Your role cannot log activities');
    const now = new Date();
    const parsed = logActivityInput.safeParse(input);
    const problems = [...(parsed.success ? [] : fieldProblems(parsed.error.issues)), ...timingProblems(input, now)];
    if (!parsed.success || problems.length > 0) throw new ActivityException('ACTIVITY_INVALID_INPUT', 'Invalid activity', problems);
    const data = parsed.data;
    const customer = await this.customers.get(data.customerId, user);
    if (!customer) throw new ActivityException('ACTIVITY_NOT_FOUND', `No customer ${data.customerId}`, [{ field: 'input.customerId', message: 'No such customer' }]);
    if (!(await this.mayWrite(customer, user)) && !serviceAgentMayLog(user, data.type)) {
      const agentOnly = !writeFilter(user);
      throw new ActivityException('ACTIVITY_FORBIDDEN', agentOnly ? 'Service agents log calls, emails and notes' : 'You may not log activities on this customer');
    }
    const isTask = data.type === 'TASK';
    const record: ActivityRecord = {
      _id: new Types.ObjectId(),
      customerId: customer._id.toHexString(),
      type: data.type,
      subject: data.subject,
      body: data.body,
      occurredAt: data.occurredAt ?? now,
      dueAt: isTask ? (data.dueAt ?? null) : null,
      remindAt: isTask ? (data.remindAt ?? null) : null,
      completedAt: null,
      completedBy: null,
      actorId: user.id,
      createdAt: now,
      updatedAt: now,
    };
    const event = activityLogged(record);
    await this.activities.collection.insertOne({ ...record, [OUTBOX_FIELD]: [event] } as never);
    this.relay.notify(this.activities, record._id);
    await this.timeline.apply(event).catch((error: unknown) => {
      // The activity is stored; the consumer of its event fills the timeline in a moment.
      this.logger.warn({ err: error, activityId: record._id.toHexString() }, 'timeline update deferred to the activity.logged consumer');
    });
    return record;
  }

  /** An activity whose customer the caller may read; `null` otherwise. */
  async get(id: string, user: AuthUser): Promise<ActivityRecord | null> {
    if (!canReadActivities(user) || !OBJECT_ID.test(id)) return null;
    const activity = await this.activities.findById(id).lean<ActivityRecord>().exec();
    if (!activity) return null;
    return (await this.customers.get(activity.customerId, user)) ? activity : null;
  }

  /** Marks a task done: its author or anyone who may change the customer. Completing it again changes nothing. */
  async completeTask(id: string, user: AuthUser): Promise<ActivityRecord> {
    const activity = OBJECT_ID.test(id) ? await this.activities.findById(id).lean<ActivityRecord>().exec() : null;
    const customer = activity ? await this.customers.get(activity.customerId, user) : null;
    if (!activity || (!customer && activity.actorId !== user.id) || !canReadActivities(user)) throw new ActivityException('ACTIVITY_NOT_FOUND', `No activity ${id}`);
    if (activity.actorId !== user.id && !(customer && (await this.mayWrite(customer, user)))) {
      throw new ActivityException('ACTIVITY_FORBIDDEN', 'Only its author or whoever may change the customer completes a task');
    }
    if (activity.type !== 'TASK') throw new ActivityException('ACTIVITY_NOT_A_TASK', `Activity ${id} is a ${activity.type}, not a task`, [{ field: 'id', message: 'Not a task' }]);
    if (activity.completedAt) return activity;
    const now = new Date();
    // A conditional single-document update (not findOneAndUpdate: FerretDB v1 rejects its projection):
    // of two concurrent completions, one wins and both return the stored result.
    const result = await this.relay.writing(this.activities, activity._id, () =>
      this.activities.collection.updateOne({ _id: activity._id, completedAt: null } as never, { $set: { completedAt: now, completedBy: user.id, updatedAt: now } } as never),
    );
    if (result.modifiedCount > 0) await this.timeline.touchCustomer(activity.customerId, now);
    return (await this.activities.findById(id).lean<ActivityRecord>().exec())!;
  }

  /** One customer's activities, newest first (optionally of one type). */
  async forCustomer(customerId: string, args: ActivityListArgs, user: AuthUser): Promise<Page<ActivityRecord>> {
    if (!canReadActivities(user)) throw new ActivityException('ACTIVITY_FORBIDDEN', 'Your role cannot read activities');
    const customer = await this.customers.get(customerId, user);
    if (!customer) throw new ActivityException('ACTIVITY_NOT_FOUND', `No customer ${customerId}`);
    const filter: Record<string, unknown> = { customerId: { $in: [customer._id.toHexString(), ...(customer.mergedFrom ?? [])] } };
    if (args.type) filter.type = args.type;
    return paginate(this.activities, filter, args, { sort: { field: 'occurredAt', direction: -1 }, count: args.count !== false });
  }

  /** The caller's open tasks, soonest due first; `dueBefore` keeps those due before an instant. */
  async myTasks(args: PageArgs & { dueBefore?: Date | null; count?: boolean }, user: AuthUser): Promise<Page<ActivityRecord>> {
    if (!canReadActivities(user)) throw new ActivityException('ACTIVITY_FORBIDDEN', 'Your role has no tasks');
    const filter: Record<string, unknown> = { actorId: user.id, type: 'TASK', completedAt: null };
    if (args.dueBefore) filter.dueAt = { $lt: args.dueBefore };
    return paginate(this.activities, filter, args, { sort: { field: 'dueAt', direction: 1 }, count: args.count !== false });
  }
}
