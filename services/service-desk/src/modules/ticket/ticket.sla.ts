import { markFirstResponse, markResolved, pauseClock, reopenClock, resumeClock, startClock, type SlaClock } from '../sla/sla.clock.js';
import type { SlaPolicy } from '../sla/sla.policy.js';
import type { TicketPriority } from './ticket.model.js';

/**
 * The SLA clock calls the ticket lifecycle makes (the SLA module's pure functions, src/modules/sla).
 * Every hook returns the new clock, which is stored as `ticket.sla` in the same write as the change.
 * The clock is opaque here.
 */
export interface TicketSlaHooks {
  /** At open (`startClock`). */
  start(ticket: { priority: TicketPriority; createdAt: Date }, now: Date): unknown;
  /** First public comment or working status change by staff (`markFirstResponse`). */
  firstResponse(clock: unknown, now: Date): unknown;
  /** Entering WAITING_ON_CUSTOMER (`pauseClock`). */
  pause(clock: unknown, now: Date): unknown;
  /** Leaving WAITING_ON_CUSTOMER (`resumeClock`). */
  resume(clock: unknown, now: Date): unknown;
  /** RESOLVED (`markResolved`). */
  resolved(clock: unknown, now: Date): unknown;
  /** Reopened (`reopenClock`). */
  reopen(clock: unknown, now: Date): unknown;
}

/** No SLA: the clock stays as it is (null). Used until the SLA module is wired in app.ts. */
export const noSlaHooks: TicketSlaHooks = {
  start: () => null,
  firstResponse: (clock) => clock,
  pause: (clock) => clock,
  resume: (clock) => clock,
  resolved: (clock) => clock,
  reopen: (clock) => clock,
};

/**
 * The SLA module's clock functions as hooks, with the policy in force at each call (`policy()`: the
 * SLA module's current policy; its targets are copied into the clock at start, its calendar is used
 * when a pause ends and on reopen).
 */
export function slaClockHooks(policy: () => SlaPolicy): TicketSlaHooks {
  const clockOf = (clock: unknown): SlaClock | null => (clock && typeof clock === 'object' && 'firstResponseDueAt' in clock ? (clock as SlaClock) : null);
  const apply = (clock: unknown, change: (c: SlaClock) => SlaClock) => {
    const current = clockOf(clock);
    return current ? change(current) : clock;
  };
  return {
    start: (ticket, now) => startClock(policy(), ticket.priority, now),
    firstResponse: (clock, now) => apply(clock, (c) => markFirstResponse(c, now)),
    pause: (clock, now) => apply(clock, (c) => pauseClock(c, now)),
    resume: (clock, now) => apply(clock, (c) => resumeClock(c, now, policy().calendar)),
    resolved: (clock, now) => apply(clock, (c) => markResolved(c, now)),
    reopen: (clock, now) => apply(clock, (c) => reopenClock(c, now, policy().calendar)),
  };
}
