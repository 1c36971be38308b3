import { DEFAULT_CALENDAR, type BusinessCalendar } from './sla.calendar.js';

/** Pure policy types and defaults (no database): what the clock needs to start. */

export const SLA_PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;
export type SlaPriority = (typeof SLA_PRIORITIES)[number];

export const SLA_ESCALATIONS = ['REASSIGN', 'NOTIFY_MANAGER'] as const;
export type SlaEscalationAction = (typeof SLA_ESCALATIONS)[number];

export interface SlaPriorityTarget {
  priority: SlaPriority;
  /** Business minutes from opening to the first public agent response. */
  firstResponseMinutes: number;
  /** Business minutes from opening to resolution (time waiting on the customer not counted). */
  resolutionMinutes: number;
  /** What happens once when a target of this priority is breached. */
  escalation: SlaEscalationAction;
}

export interface SlaPolicy {
  /** 1 for the built-in default, +1 per change. */
  version: number;
  /** One entry per priority. */
  targets: SlaPriorityTarget[];
  /** Share of a target used (0 < ratio < 1) from which a running target is AT_RISK, e.g. 0.8. */
  atRiskRatio: number;
  calendar: BusinessCalendar;
  updatedAt: Date | null;
  updatedBy: string | null;
}

/**
 * Defaults (business minutes on an 8-hour day): URGENT 30 min / 4 h, HIGH 1 h / 1 day,
 * NORMAL 4 h / 3 days, LOW 1 day / 5 days; URGENT and HIGH breaches reassign, the others notify
 * the manager. At risk from 80 % used.
 */
export const DEFAULT_SLA_POLICY: SlaPolicy = {
  version: 1,
  targets: [
    { priority: 'LOW', firstResponseMinutes: 480, resolutionMinutes: 2400, escalation: 'NOTIFY_MANAGER' },
    { priority: 'NORMAL', firstResponseMinutes: 240, resolutionMinutes: 1440, escalation: 'NOTIFY_MANAGER' },
    { priority: 'HIGH', firstResponseMinutes: 60, resolutionMinutes: 480, escalation: 'REASSIGN' },
    { priority: 'URGENT', firstResponseMinutes: 30, resolutionMinutes: 240, escalation: 'REASSIGN' },
  ],
  atRiskRatio: 0.8,
  calendar: DEFAULT_CALENDAR,
  updatedAt: null,
  updatedBy: null,
};

/** The policy's target for a priority; throws a RangeError for a priority the policy does not know. */
export function targetFor(policy: SlaPolicy, priority: string): SlaPriorityTarget {
  const target = policy.targets.find((t) => t.priority === priority);
  if (!target) throw new RangeError(`the SLA policy has no target for priority ${priority}`);
  return target;
}
