import { addBusinessMinutes, addBusinessMs, businessMsBetween, type BusinessCalendar } from './sla.calendar.js';
import { targetFor, type SlaEscalationAction, type SlaPolicy } from './sla.policy.js';

export type { BusinessCalendar } from './sla.calendar.js';
export type { SlaPolicy, SlaPriority, SlaEscalationAction } from './sla.policy.js';

/**
 * A ticket's SLA clock, pure: the ticket module stores it on the ticket document (field `sla`) and
 * replaces it with what these functions return on each transition. Every function returns a new
 * object and is idempotent (marking twice keeps the first instant). At-risk / breached are never
 * stored: `slaStatus` derives them at query time.
 *
 * Targets and the at-risk ratio are copied from the policy when the clock starts, so a policy change
 * applies to new tickets only; the calendar passed to `resumeClock`, `reopenClock` and `slaStatus` is
 * the current one (a holiday added later counts for the remaining time of running clocks).
 */

export type SlaTargetKind = 'FIRST_RESPONSE' | 'RESOLUTION';

export interface SlaClock {
  policyVersion: number;
  priority: string;
  startedAt: Date;
  firstResponseTargetMinutes: number;
  resolutionTargetMinutes: number;
  firstResponseDueAt: Date;
  resolutionDueAt: Date;
  firstRespondedAt: Date | null;
  resolvedAt: Date | null;
  /** Set while waiting on the customer; neither target consumes time then. */
  pausedAt: Date | null;
  /** Business minutes spent waiting on the customer in pauses ended by `resumeClock` (rounded per pause). */
  pausedMinutes: number;
  escalation: SlaEscalationAction;
  atRiskRatio: number;
  /**
   * The instant whose used business time counts against the first-response target: the response
   * itself, or the start of the pause when it happened while waiting on the customer (no time ran).
   * Optional so clocks stored without it still work (then `firstRespondedAt` counts).
   */
  firstResponseCountedAt?: Date | null;
  /** As `firstResponseCountedAt`, for the resolution. */
  resolvedCountedAt?: Date | null;
  /** How often the ticket was reopened; each reopen starts a fresh resolution target. */
  reopenCount?: number;
}

export type SlaTargetState = 'ON_TRACK' | 'AT_RISK' | 'BREACHED' | 'MET' | 'MET_LATE' | 'PAUSED';

export interface SlaTargetStatus {
  kind: SlaTargetKind;
  dueAt: Date;
  state: SlaTargetState;
  /**
   * Business minutes left (whole minutes, rounded down): negative once breached (how late), frozen
   * while paused, and for a met target what was left (or how late it was) when it was met.
   */
  remainingMinutes: number;
  metAt: Date | null;
}

const MINUTE_MS = 60_000;

/** Starts both targets at `at` (opening of the ticket) with the policy's targets for `priority`. */
export function startClock(policy: SlaPolicy, priority: string, at: Date): SlaClock {
  const target = targetFor(policy, priority);
  return {
    policyVersion: policy.version,
    priority,
    startedAt: at,
    firstResponseTargetMinutes: target.firstResponseMinutes,
    resolutionTargetMinutes: target.resolutionMinutes,
    firstResponseDueAt: addBusinessMinutes(at, target.firstResponseMinutes, policy.calendar),
    resolutionDueAt: addBusinessMinutes(at, target.resolutionMinutes, policy.calendar),
    firstRespondedAt: null,
    resolvedAt: null,
    pausedAt: null,
    pausedMinutes: 0,
    escalation: target.escalation,
    atRiskRatio: policy.atRiskRatio,
    firstResponseCountedAt: null,
    resolvedCountedAt: null,
    reopenCount: 0,
  };
}

/** The first public response to the customer; later responses change nothing. */
export function markFirstResponse(clock: SlaClock, at: Date): SlaClock {
  if (clock.firstRespondedAt) return clock;
  return { ...clock, firstRespondedAt: at, firstResponseCountedAt: clock.pausedAt ?? at };
}

/** Waiting on the customer from `at`: no-op when already paused or resolved. */
export function pauseClock(clock: SlaClock, at: Date): SlaClock {
  if (clock.pausedAt || clock.resolvedAt) return clock;
  return { ...clock, pausedAt: at };
}

/**
 * The customer answered: each target not yet met and not already breached when the pause began gets
 * the business time it had left at the pause, counted from `at`. A target breached before the pause
 * keeps its due date (waiting on the customer does not undo a breach).
 */
export function resumeClock(clock: SlaClock, at: Date, cal: BusinessCalendar): SlaClock {
  if (!clock.pausedAt) return clock;
  const pausedAt = clock.pausedAt;
  const resumeAt = at.getTime() < pausedAt.getTime() ? pausedAt : at;
  const moved = (dueAt: Date, met: Date | null): Date => {
    if (met || dueAt.getTime() <= pausedAt.getTime()) return dueAt;
    return addBusinessMs(resumeAt, businessMsBetween(pausedAt, dueAt, cal), cal);
  };
  return {
    ...clock,
    firstResponseDueAt: moved(clock.firstResponseDueAt, clock.firstRespondedAt),
    resolutionDueAt: moved(clock.resolutionDueAt, clock.resolvedAt),
    pausedAt: null,
    pausedMinutes: clock.pausedMinutes + Math.round(businessMsBetween(pausedAt, resumeAt, cal) / MINUTE_MS),
  };
}

/**
 * Resolved at `at` (ends a pause). Resolving answers the customer, so an unanswered ticket also gets
 * its first response at `at`. Resolved while waiting on the customer, the targets are judged at the
 * start of the pause (no business time ran since).
 */
export function markResolved(clock: SlaClock, at: Date): SlaClock {
  if (clock.resolvedAt) return clock;
  const counted = clock.pausedAt ?? at;
  return {
    ...clock,
    firstRespondedAt: clock.firstRespondedAt ?? at,
    firstResponseCountedAt: clock.firstRespondedAt ? (clock.firstResponseCountedAt ?? clock.firstRespondedAt) : counted,
    resolvedAt: at,
    resolvedCountedAt: counted,
    pausedAt: null,
  };
}

/**
 * Reopened at `at`: a fresh resolution target (the full `resolutionTargetMinutes` from `at`, so the
 * ticket can breach again with a new due date); the first response stays met. No-op when not resolved.
 */
export function reopenClock(clock: SlaClock, at: Date, cal: BusinessCalendar): SlaClock {
  if (!clock.resolvedAt) return clock;
  return {
    ...clock,
    resolvedAt: null,
    resolvedCountedAt: null,
    pausedAt: null,
    resolutionDueAt: addBusinessMinutes(at, clock.resolutionTargetMinutes, cal),
    reopenCount: (clock.reopenCount ?? 0) + 1,
  };
}

function wholeMinutes(ms: number): number {
  return Math.floor(ms / MINUTE_MS) + 0;
}

function targetStatus(
  clock: SlaClock,
  kind: SlaTargetKind,
  now: Date,
  cal: BusinessCalendar,
): SlaTargetStatus {
  const first = kind === 'FIRST_RESPONSE';
  const dueAt = first ? clock.firstResponseDueAt : clock.resolutionDueAt;
  const metAt = first ? clock.firstRespondedAt : clock.resolvedAt;
  const targetMs = (first ? clock.firstResponseTargetMinutes : clock.resolutionTargetMinutes) * MINUTE_MS;
  if (metAt) {
    const counted = (first ? clock.firstResponseCountedAt : clock.resolvedCountedAt) ?? metAt;
    const left = businessMsBetween(counted, dueAt, cal);
    return { kind, dueAt, metAt, state: counted.getTime() <= dueAt.getTime() ? 'MET' : 'MET_LATE', remainingMinutes: wholeMinutes(left) };
  }
  const at = clock.pausedAt ?? now;
  const left = businessMsBetween(at, dueAt, cal);
  if (at.getTime() >= dueAt.getTime()) return { kind, dueAt, metAt: null, state: 'BREACHED', remainingMinutes: wholeMinutes(left) };
  if (clock.pausedAt) return { kind, dueAt, metAt: null, state: 'PAUSED', remainingMinutes: wholeMinutes(left) };
  const atRisk = targetMs - left >= clock.atRiskRatio * targetMs;
  return { kind, dueAt, metAt: null, state: atRisk ? 'AT_RISK' : 'ON_TRACK', remainingMinutes: wholeMinutes(left) };
}

/** Both targets as they stand at `now` (what `Ticket.sla` shows). */
export function slaStatus(
  clock: SlaClock,
  now: Date,
  cal: BusinessCalendar,
): { firstResponse: SlaTargetStatus; resolution: SlaTargetStatus } {
  return { firstResponse: targetStatus(clock, 'FIRST_RESPONSE', now, cal), resolution: targetStatus(clock, 'RESOLUTION', now, cal) };
}

/**
 * The targets of a clock that are breached at `now` and not met: what the ticket module's
 * `SlaTicketPort.dueForEscalation` returns per ticket (a breach before a pause still counts).
 */
export function breachedTargets(clock: SlaClock, now: Date): Array<{ kind: SlaTargetKind; dueAt: Date }> {
  const at = (clock.pausedAt ?? now).getTime();
  const out: Array<{ kind: SlaTargetKind; dueAt: Date }> = [];
  if (!clock.firstRespondedAt && clock.firstResponseDueAt.getTime() <= at) out.push({ kind: 'FIRST_RESPONSE', dueAt: clock.firstResponseDueAt });
  if (!clock.resolvedAt && clock.resolutionDueAt.getTime() <= at) out.push({ kind: 'RESOLUTION', dueAt: clock.resolutionDueAt });
  return out;
}
