import { Types } from 'mongoose';
import { z } from 'zod';
import { hasAnyRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems, type FieldProblem } from '@crm/errors';
import { paginate, PerKeySerializer, type Page, type PageArgs } from '@crm/mongo';
import { DEFAULT_TIME_ZONE, validateCalendar, WEEKDAYS, type BusinessCalendar, type BusinessInterval, type Weekday } from './sla.calendar.js';
import { slaStatus, startClock, type SlaClock, type SlaTargetStatus } from './sla.clock.js';
import { SlaException } from './sla.errors.js';
import type { SlaEscalationModel, SlaEscalationRecord, SlaPolicyModel, SlaPolicyRecord } from './sla.model.js';
import { DEFAULT_SLA_POLICY, SLA_ESCALATIONS, SLA_PRIORITIES, type SlaPolicy, type SlaPriority } from './sla.policy.js';

/** Who reads the policy: every staff role (not customers). */
const READERS = [Role.SERVICE_AGENT, Role.SERVICE_MANAGER, Role.ANALYST, Role.SALES_MANAGER, Role.SALES_REP, Role.MARKETER] as const;
/** Who changes the policy and handles escalations (admins pass every check). */
const MANAGERS = [Role.SERVICE_MANAGER] as const;
/** A year of minutes: the longest target accepted. */
const MAX_TARGET_MINUTES = 525_600;
const DUPLICATE_KEY = 11000;

const interval = z.object({ start: z.string().trim(), end: z.string().trim() });
const target = z
  .object({
    priority: z.enum(SLA_PRIORITIES),
    firstResponseMinutes: z.number().int('Whole minutes').min(1, 'At least 1 minute').max(MAX_TARGET_MINUTES, `At most ${MAX_TARGET_MINUTES} minutes`),
    resolutionMinutes: z.number().int('Whole minutes').min(1, 'At least 1 minute').max(MAX_TARGET_MINUTES, `At most ${MAX_TARGET_MINUTES} minutes`),
    escalation: z.enum(SLA_ESCALATIONS),
  })
  .refine((t) => t.resolutionMinutes >= t.firstResponseMinutes, { path: ['resolutionMinutes'], message: 'Must not be shorter than the first-response target' });
const calendarInput = z.object({
  timeZone: z.string().trim().min(1, 'Required').nullish().transform((v) => v ?? DEFAULT_TIME_ZONE),
  weeklyHours: z.array(z.object({ weekday: z.enum(WEEKDAYS), intervals: z.array(interval).max(6, 'At most 6 intervals a day') })).max(7, 'At most one entry per weekday'),
  holidays: z.array(z.string().trim()).max(1000, 'At most 1000 holidays').nullish().transform((v) => v ?? []),
  extraWorkingDays: z.array(z.string().trim()).max(400, 'At most 400 extra working days').nullish().transform((v) => v ?? []),
  extraWorkingDayHours: z.array(interval).max(6, 'At most 6 intervals a day').nullish(),
});
export const slaPolicyInput = z.object({
  /** Targets given replace those of the same priority; priorities not given keep theirs. */
  targets: z
    .array(target)
    .max(SLA_PRIORITIES.length, `At most ${SLA_PRIORITIES.length} targets`)
    .nullish()
    .superRefine((targets, ctx) => {
      const seen = new Set<string>();
      targets?.forEach((t, index) => {
        if (seen.has(t.priority)) ctx.addIssue({ code: 'custom', path: [index, 'priority'], message: 'Listed twice' });
        seen.add(t.priority);
      });
    }),
  atRiskRatio: z.number().gt(0, 'Must be above 0').lt(1, 'Must be below 1').nullish(),
  calendar: calendarInput.nullish(),
});
export type SlaPolicyInput = z.input<typeof slaPolicyInput>;

export interface SlaOptions {
  /** How long `current()` reuses the policy it read (env SLA_POLICY_CACHE_MS); other replicas see a change within it. */
  cacheMs?: number;
}

/** `Ticket.sla` as the GraphQL type `TicketSla` shows it, derived at query time. */
export interface TicketSlaView {
  policyVersion: number;
  priority: string;
  startedAt: Date;
  firstResponse: SlaTargetStatus & { targetMinutes: number };
  resolution: SlaTargetStatus & { targetMinutes: number };
  paused: boolean;
  pausedAt: Date | null;
  pausedMinutes: number;
  escalation: SlaClock['escalation'];
  atRisk: boolean;
  breached: boolean;
  /** False when the ticket has no stored clock (opened before SLAs were on): shown from its opening with the current policy. */
  tracked: boolean;
}

export interface EscalationFilter extends PageArgs {
  acknowledged?: boolean | null;
  count?: boolean;
}

function invalid(problems: FieldProblem[]): never {
  throw new SlaException('SLA_INVALID_INPUT', 'Invalid SLA policy', problems);
}

function toPolicy(record: SlaPolicyRecord): SlaPolicy {
  const calendar = record.calendar;
  return {
    version: record._id,
    targets: SLA_PRIORITIES.map((priority) => {
      const t = record.targets.find((x) => x.priority === priority) ?? DEFAULT_SLA_POLICY.targets.find((x) => x.priority === priority)!;
      return { priority, firstResponseMinutes: t.firstResponseMinutes, resolutionMinutes: t.resolutionMinutes, escalation: t.escalation };
    }),
    atRiskRatio: record.atRiskRatio,
    calendar: {
      timeZone: calendar.timeZone,
      weeklyHours: Object.fromEntries(
        WEEKDAYS.filter((d) => (calendar.weeklyHours?.[d]?.length ?? 0) > 0).map((d) => [d, calendar.weeklyHours[d]!.map((i) => ({ start: i.start, end: i.end }))]),
      ),
      holidays: [...(calendar.holidays ?? [])],
      extraWorkingDays: [...(calendar.extraWorkingDays ?? [])],
      ...(calendar.extraWorkingDayHours?.length ? { extraWorkingDayHours: calendar.extraWorkingDayHours.map((i) => ({ start: i.start, end: i.end })) } : {}),
    },
    updatedAt: record.createdAt,
    updatedBy: record.createdBy,
  };
}

/** Calendar input (GraphQL lists) → the calendar, with problems named by the input's own paths. */
function calendarOf(input: z.output<typeof calendarInput>, problems: FieldProblem[]): BusinessCalendar {
  const weeklyHours: Partial<Record<Weekday, BusinessInterval[]>> = {};
  const indexOf = new Map<string, number>();
  input.weeklyHours.forEach((day, index) => {
    if (indexOf.has(day.weekday)) problems.push({ field: `input.calendar.weeklyHours.${index}.weekday`, message: 'Listed twice' });
    else {
      indexOf.set(day.weekday, index);
      weeklyHours[day.weekday] = day.intervals;
    }
  });
  const calendar: BusinessCalendar = {
    timeZone: input.timeZone,
    weeklyHours,
    holidays: input.holidays,
    extraWorkingDays: input.extraWorkingDays,
    ...(input.extraWorkingDayHours ? { extraWorkingDayHours: input.extraWorkingDayHours } : {}),
  };
  for (const problem of validateCalendar(calendar)) {
    // weeklyHours.MON.0.end → weeklyHours.<index of MON in the input>.intervals.0.end
    const field = problem.field.replace(/^weeklyHours\.([A-Z]+)\.(\d+)/, (_m, day: string, i: string) => `weeklyHours.${indexOf.get(day) ?? day}.intervals.${i}`);
    problems.push({ field: `input.calendar.${field}`, message: problem.message });
  }
  return calendar;
}

/**
 * The one facade of the SLA module (SVC-2): the policy (versioned, cached briefly), `Ticket.sla` at
 * query time, and the escalations the scheduler recorded (the manager's notification channel).
 */
export class SlaService {
  readonly serial = new PerKeySerializer();
  private cached: { policy: SlaPolicy; readAt: number } | undefined;
  private loading: Promise<SlaPolicy> | undefined;
  private readonly cacheMs: number;

  constructor(
    private readonly policies: SlaPolicyModel,
    private readonly escalations: SlaEscalationModel,
    options: SlaOptions = {},
  ) {
    this.cacheMs = options.cacheMs ?? 5_000;
  }

  // ---- policy ----------------------------------------------------------------------------------

  private async latest(): Promise<SlaPolicy> {
    const [record] = await this.policies.find({}).sort({ _id: -1 }).limit(1).lean<SlaPolicyRecord[]>().exec();
    return record ? toPolicy(record) : DEFAULT_SLA_POLICY;
  }

  /** The policy in force and its calendar; read at most every `cacheMs` (a change here is seen at once). */
  async current(): Promise<{ policy: SlaPolicy; calendar: BusinessCalendar }> {
    const now = Date.now();
    if (!this.cached || now - this.cached.readAt >= this.cacheMs) {
      this.loading ??= this.latest().finally(() => (this.loading = undefined));
      const policy = await this.loading;
      // The same version keeps its object, so the calendar's memoised working days stay warm.
      if (this.cached && this.cached.policy.version === policy.version) this.cached.readAt = now;
      else if (!this.cached || this.cached.policy.version < policy.version) this.cached = { policy, readAt: now };
    }
    return { policy: this.cached.policy, calendar: this.cached.policy.calendar };
  }

  /**
   * The policy as last read, without waiting (the ticket lifecycle's clock hooks are synchronous); a
   * stale cache is refreshed in the background. Before the first read: the built-in default, so call
   * `current()` once at start-up.
   */
  policyNow(): SlaPolicy {
    if (!this.cached || Date.now() - this.cached.readAt >= this.cacheMs) void this.current().catch(() => undefined);
    return this.cached?.policy ?? DEFAULT_SLA_POLICY;
  }

  /** A policy version (the current one without `version`); staff only. */
  async policy(user: AuthUser, version?: number | null): Promise<SlaPolicy> {
    if (!hasAnyRole(user, READERS)) throw new SlaException('SLA_FORBIDDEN', 'Only staff read the SLA policy');
    if (version === undefined || version === null) return (await this.current()).policy;
    const record = Number.isInteger(version) && version > 0 ? await this.policies.findById(version).lean<SlaPolicyRecord>().exec() : null;
    if (!record && version === 1) return DEFAULT_SLA_POLICY;
    if (!record) throw new SlaException('SLA_NOT_FOUND', `No SLA policy version ${version}`);
    return toPolicy(record);
  }

  /**
   * A new policy version from the current one with the given changes (service manager, admin). Running
   * clocks keep the targets they started with; new tickets get the new ones. `expectedVersion`, when
   * given, must be the current version (CONFLICT otherwise); two saves at once: one wins, one CONFLICT.
   */
  async updatePolicy(input: SlaPolicyInput, user: AuthUser, expectedVersion?: number | null): Promise<SlaPolicy> {
    if (!hasAnyRole(user, MANAGERS)) throw new SlaException('SLA_FORBIDDEN', 'Only service managers change the SLA policy');
    const parsed = slaPolicyInput.safeParse(input);
    if (!parsed.success) invalid(fieldProblems(parsed.error.issues));
    const problems: FieldProblem[] = [];
    const calendar = parsed.data.calendar ? calendarOf(parsed.data.calendar, problems) : undefined;
    if (problems.length > 0) invalid(problems);
    const base = await this.latest();
    if (expectedVersion !== undefined && expectedVersion !== null && expectedVersion !== base.version) {
      throw new SlaException('SLA_VERSION_CONFLICT', `The SLA policy is at version ${base.version}, not ${expectedVersion}`);
    }
    const given = new Map((parsed.data.targets ?? []).map((t) => [t.priority, t]));
    const record: SlaPolicyRecord = {
      _id: base.version + 1,
      targets: base.targets.map((t) => ({ ...(given.get(t.priority) ?? t) })),
      atRiskRatio: parsed.data.atRiskRatio ?? base.atRiskRatio,
      calendar: calendar ?? base.calendar,
      createdAt: new Date(),
      createdBy: user.id,
    };
    try {
      await this.policies.collection.insertOne(record as never);
    } catch (error) {
      if ((error as { code?: number }).code === DUPLICATE_KEY) {
        throw new SlaException('SLA_VERSION_CONFLICT', `The SLA policy was changed at the same time (version ${record._id} exists); read it again`);
      }
      throw error;
    }
    const policy = toPolicy(record);
    this.cached = { policy, readAt: Date.now() };
    return policy;
  }

  // ---- Ticket.sla -------------------------------------------------------------------------------

  /**
   * `Ticket.sla` at `now` from the ticket's stored clock and the current calendar. A ticket without a
   * clock is shown as if its clock had started at opening with the current policy (`tracked: false`).
   */
  async ticketSla(ticket: { sla?: unknown; priority: string; createdAt: Date }, now = new Date()): Promise<TicketSlaView> {
    const { policy, calendar } = await this.current();
    const stored = ticket.sla && typeof ticket.sla === 'object' && 'firstResponseDueAt' in ticket.sla ? (ticket.sla as SlaClock) : null;
    const clock = stored ?? startClock(policy, (SLA_PRIORITIES as readonly string[]).includes(ticket.priority) ? (ticket.priority as SlaPriority) : 'NORMAL', ticket.createdAt);
    const status = slaStatus(clock, now, calendar);
    const states = [status.firstResponse.state, status.resolution.state];
    return {
      policyVersion: clock.policyVersion,
      priority: clock.priority,
      startedAt: clock.startedAt,
      firstResponse: { ...status.firstResponse, targetMinutes: clock.firstResponseTargetMinutes },
      resolution: { ...status.resolution, targetMinutes: clock.resolutionTargetMinutes },
      paused: clock.pausedAt !== null,
      pausedAt: clock.pausedAt,
      pausedMinutes: clock.pausedMinutes,
      escalation: clock.escalation,
      atRisk: states.includes('AT_RISK'),
      breached: states.includes('BREACHED'),
      tracked: stored !== null,
    };
  }

  // ---- escalations ------------------------------------------------------------------------------

  private requireManager(user: AuthUser): void {
    if (!hasAnyRole(user, MANAGERS)) throw new SlaException('SLA_FORBIDDEN', 'Only service managers see SLA escalations');
  }

  /** Escalations, newest breach first; `acknowledged` filters (null: all). Service manager, admin. */
  async listEscalations(filter: EscalationFilter, user: AuthUser): Promise<Page<SlaEscalationRecord>> {
    this.requireManager(user);
    const query = filter.acknowledged === true ? { acknowledgedAt: { $ne: null } } : filter.acknowledged === false ? { acknowledgedAt: null } : {};
    return paginate(this.escalations, query, filter, { sort: { field: 'breachedAt', direction: -1 }, count: filter.count ?? true });
  }

  /** Marks an escalation as seen (idempotent: a second acknowledgement keeps the first). */
  async acknowledge(id: string, user: AuthUser): Promise<SlaEscalationRecord> {
    this.requireManager(user);
    if (!Types.ObjectId.isValid(id) || !/^[0-9a-f]{24}$/i.test(id)) throw new SlaException('SLA_NOT_FOUND', `No SLA escalation ${id}`);
    const _id = new Types.ObjectId(id);
    return this.serial.run(id, async () => {
      const current = await this.escalations.findById(_id).lean<SlaEscalationRecord>().exec();
      if (!current) throw new SlaException('SLA_NOT_FOUND', `No SLA escalation ${id}`);
      if (current.acknowledgedAt) return current;
      const changes = { acknowledgedAt: new Date(), acknowledgedBy: user.id };
      await this.escalations.updateOne({ _id, acknowledgedAt: null }, { $set: changes }).exec();
      return { ...current, ...changes };
    });
  }

  /** The record of one escalated breach, written by the scheduler replica holding its claim (once per key). */
  async recordEscalation(escalation: Omit<SlaEscalationRecord, '_id' | 'acknowledgedAt' | 'acknowledgedBy'>): Promise<SlaEscalationRecord> {
    const existing = await this.escalations.findOne({ key: escalation.key }).lean<SlaEscalationRecord>().exec();
    if (existing) return existing;
    const record: SlaEscalationRecord = { _id: new Types.ObjectId(), ...escalation, acknowledgedAt: null, acknowledgedBy: null };
    await this.escalations.collection.insertOne(record as never);
    return record;
  }

  /** A ticket's escalations, oldest first (tests, support). */
  async escalationsOf(ticketId: string): Promise<SlaEscalationRecord[]> {
    return this.escalations.find({ ticketId }).sort({ breachedAt: 1, _id: 1 }).lean<SlaEscalationRecord[]>().exec();
  }
}
