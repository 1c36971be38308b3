import { Types } from 'mongoose';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { AggregateWriter, type OutboxRelay } from '@crm/events';
import type { FieldProblem } from '@crm/errors';
import type { ScheduledJob } from '@crm/scheduler';
import { CONTACT_CHANNELS, type ContactChannel } from '../consent/consent.model.js';
import type { CustomerProfiles } from '../customer-profile/customer-profile.service.js';
import { MessageService, unknownPlaceholders } from '../message/message.service.js';
import type { SegmentService } from '../segment/segment.service.js';
import { localDate, type Holiday } from './care.holidays.js';
import { CareException } from './care.errors.js';
import { carePlanEvent, CarePlanEventType } from './care.events.js';
import { CARE_PLAN_KINDS, type CarePlanKind, type CarePlanModel, type CarePlanRecord } from './care.model.js';

const MARKETERS = [Role.MARKETER] as const;
const DAY = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const OBJECT_ID = /^[0-9a-f]{24}$/i;

export interface CareRunResult {
  day: string;
  sent: number;
  skipped: number;
  failed: number;
}

/**
 * Care plans (MKT-3): birthday, holiday and company-news greetings. Each run works out today's
 * occasion per plan (in the care time zone) and hands every recipient to the message module, whose
 * claim per occasion and customer makes each greeting go out once — across replicas, repeated runs
 * and restarts. Consent is the message module's check: customers without it are SKIPPED.
 */
export class CareService {
  private readonly writer: AggregateWriter<CarePlanRecord>;

  constructor(
    private readonly plans: CarePlanModel,
    relay: OutboxRelay,
    private readonly messages: MessageService,
    private readonly profiles: CustomerProfiles,
    private readonly segments: SegmentService,
    private readonly calendar: Map<string, Holiday>,
    private readonly timeZone: string,
  ) {
    this.writer = new AggregateWriter(plans, relay, {
      notFound: (id) => new CareException('CARE_NOT_FOUND', `No care plan ${id}`),
      conflict: (message) => new CareException('CARE_VERSION_CONFLICT', message),
    });
  }

  get serial() {
    return this.writer.serial;
  }

  holidays(): Holiday[] {
    return [...this.calendar.values()];
  }

  async create(input: { name: string; kind: CarePlanKind; channel: ContactChannel; subject: string; body: string; holiday?: string | null; sendOn?: string | null; segmentId?: string | null }, user: AuthUser): Promise<CarePlanRecord> {
    requireRole(user, MARKETERS);
    const problems: FieldProblem[] = [];
    const name = input.name.trim();
    if (!name || name.length > 200) problems.push({ field: 'input.name', message: '1 to 200 characters' });
    if (!CARE_PLAN_KINDS.includes(input.kind)) problems.push({ field: 'input.kind', message: 'BIRTHDAY, HOLIDAY or NEWS' });
    if (!CONTACT_CHANNELS.includes(input.channel)) problems.push({ field: 'input.channel', message: 'EMAIL, SMS or WECHAT' });
    const known = input.kind === 'HOLIDAY' ? [...MessageService.PLACEHOLDERS, 'holiday'] : [...MessageService.PLACEHOLDERS];
    for (const field of ['subject', 'body'] as const) {
      if (!input[field].trim() || input[field].length > (field === 'subject' ? 200 : 20_000)) problems.push({ field: `input.${field}`, message: field === 'subject' ? '1 to 200 characters' : '1 to 20000 characters' });
      const unknown = unknownPlaceholders(input[field], known);
      if (unknown.length) problems.push({ field: `input.${field}`, message: `Unknown placeholder ${unknown.map((u) => `{{${u}}}`).join(', ')} (known: ${known.map((k) => `{{${k}}}`).join(', ')})` });
    }
    if (input.kind === 'HOLIDAY' && !this.calendar.has(input.holiday ?? '')) problems.push({ field: 'input.holiday', message: `One of ${[...this.calendar.keys()].join(', ')}` });
    if (input.kind !== 'HOLIDAY' && input.holiday) problems.push({ field: 'input.holiday', message: 'Only HOLIDAY plans name a holiday' });
    if (input.kind === 'NEWS' && !DAY.test(input.sendOn ?? '')) problems.push({ field: 'input.sendOn', message: 'The day to send, YYYY-MM-DD' });
    if (input.kind !== 'NEWS' && input.sendOn) problems.push({ field: 'input.sendOn', message: 'Only NEWS plans have a day' });
    if (input.segmentId && !OBJECT_ID.test(input.segmentId)) problems.push({ field: 'input.segmentId', message: 'Not a segment id' });
    if (problems.length) throw new CareException('CARE_INVALID_INPUT', 'Invalid care plan', problems);
    if (input.segmentId) await this.segments.membersOf(input.segmentId);
    const now = new Date();
    const plan: CarePlanRecord = { _id: new Types.ObjectId(), name, kind: input.kind, channel: input.channel, subject: input.subject, body: input.body, holiday: input.holiday ?? null, sendOn: input.sendOn ?? null, segmentId: input.segmentId?.toLowerCase() ?? null, active: true, version: 1, createdBy: user.id, createdAt: now, updatedAt: now };
    return this.writer.insert(plan, [carePlanEvent(CarePlanEventType.CREATED, plan, user.id)]);
  }

  setActive(id: string, expectedVersion: number, active: boolean, user: AuthUser): Promise<CarePlanRecord> {
    requireRole(user, MARKETERS);
    return this.writer.mutate(id, expectedVersion, () => ({ changes: { active }, events: (next) => [carePlanEvent(CarePlanEventType.UPDATED, next, user.id)] }));
  }

  async list(user: AuthUser): Promise<CarePlanRecord[]> {
    requireRole(user, [Role.MARKETER, Role.ANALYST]);
    return this.plans.find({}).sort({ createdAt: 1 }).lean<CarePlanRecord[]>().exec();
  }

  async runByHand(day: string | null | undefined, user: AuthUser): Promise<CareRunResult> {
    requireRole(user, MARKETERS);
    if (day != null && !DAY.test(day)) throw new CareException('CARE_INVALID_INPUT', 'Invalid day', [{ field: 'day', message: 'YYYY-MM-DD' }]);
    return this.run(day ?? localDate(new Date(), this.timeZone));
  }

  job(): ScheduledJob {
    return { name: 'care-plans', run: async (now) => (await this.run(localDate(now, this.timeZone))).sent };
  }

  /** Greets everyone due on `day` (YYYY-MM-DD in the care time zone). */
  async run(day: string): Promise<CareRunResult> {
    const result: CareRunResult = { day, sent: 0, skipped: 0, failed: 0 };
    const [year] = day.split('-');
    for (const plan of await this.plans.find({ active: true }).lean<CarePlanRecord[]>().exec()) {
      const planId = plan._id.toHexString();
      let occasion: string | null = null;
      let recipients: string[] = [];
      const extra: Record<string, string> = {};
      if (plan.kind === 'BIRTHDAY') {
        occasion = `care:${planId}:birthday:${year}`;
        recipients = (await this.profiles.birthdaysOn(day.slice(5), Number(year))).map((p) => p._id);
      } else if (plan.kind === 'HOLIDAY') {
        const holiday = this.calendar.get(plan.holiday ?? '');
        if (holiday?.dates.includes(day)) {
          occasion = `care:${planId}:${holiday.key}:${year}`;
          extra.holiday = holiday.name;
          recipients = await this.everyone();
        }
      } else if (plan.sendOn && day >= plan.sendOn) {
        occasion = `care:${planId}:news`;
        recipients = await this.everyone();
      }
      if (!occasion) continue;
      if (plan.segmentId) {
        const members = new Set(await this.segments.membersOf(plan.segmentId).catch(() => [] as string[]));
        recipients = recipients.filter((r) => members.has(r));
      }
      for (const customerId of recipients) {
        const { outcome } = await this.messages.send({ customerId, channel: plan.channel, occasion, subject: plan.subject, body: plan.body }, extra);
        if (outcome === 'SENT') result.sent += 1;
        else if (outcome === 'SKIPPED') result.skipped += 1;
        else if (outcome === 'FAILED') result.failed += 1;
      }
    }
    return result;
  }

  private async everyone(): Promise<string[]> {
    const ids: string[] = [];
    for await (const profile of this.profiles.active()) ids.push(profile._id);
    return ids;
  }
}
