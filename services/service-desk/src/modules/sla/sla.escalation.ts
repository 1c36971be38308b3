import type { Logger } from '@crm/logger';
import type { OnceClaims, ScheduledJob } from '@crm/scheduler';
import type { SlaTargetKind } from './sla.clock.js';
import { targetFor, type SlaEscalationAction } from './sla.policy.js';
import type { SlaService } from './sla.service.js';

/** One breached target as the ticket module reports it. */
export interface SlaDueBreach {
  ticketId: string;
  kind: SlaTargetKind;
  dueAt: Date;
  /** The escalation the ticket's clock copied from the policy; the current policy's for `priority` when absent. */
  action?: SlaEscalationAction;
  priority?: string;
}

/**
 * What the escalation job needs from tickets (implemented by the ticket module). `dueForEscalation`
 * lists breached, unmet targets (it may list one again until the ticket records the escalation);
 * `escalate` does the action on the ticket (reassign, history, `ticket.sla-breached`) and should be
 * idempotent per breach: after a crash mid-way the job calls it again.
 */
export interface SlaTicketPort {
  dueForEscalation(now: Date, limit: number): Promise<SlaDueBreach[]>;
  escalate(breach: { ticketId: string; kind: SlaTargetKind; dueAt: Date; action: SlaEscalationAction; at: Date }): Promise<unknown>;
}

export interface SlaEscalatorOptions {
  /** Breaches handled per pass (env SLA_ESCALATION_BATCH). */
  batchSize: number;
  logger: Logger;
}

/** The claim key of one breach: a reopened ticket's new due date is a new breach. */
export function breachKey(breach: { ticketId: string; kind: SlaTargetKind; dueAt: Date }): string {
  return `sla:${breach.ticketId}:${breach.kind}:${breach.dueAt.toISOString()}`;
}

/**
 * The scheduler job that escalates each SLA breach exactly once, in any number of replicas and across
 * restarts: each breach is claimed first (`scheduler_claims`, `_id` = {@link breachKey}; a duplicate
 * insert fails on FerretDB too), then the ticket is escalated through the port, then the breach is
 * recorded in `sla_escalations` (the manager's list) and the claim completed. A failure gives the
 * claim back for the next pass; a replica that dies mid-way leaves a claim another replica takes over
 * after two minutes (the port's `escalate` and the record are idempotent for that case).
 * A breach that happened while no replica ran is found on the first pass after start.
 */
export class SlaEscalator {
  constructor(
    private readonly port: SlaTicketPort,
    private readonly sla: SlaService,
    private readonly claims: OnceClaims,
    private readonly options: SlaEscalatorOptions,
  ) {}

  job(): ScheduledJob {
    return { name: 'sla-escalation', run: (now) => this.run(now) };
  }

  /** One pass: escalates what is due at `now`; returns how many breaches this replica escalated. */
  async run(now = new Date()): Promise<number> {
    const due = await this.port.dueForEscalation(now, this.options.batchSize);
    if (due.length === 0) return 0;
    const { policy } = await this.sla.current();
    let escalated = 0;
    for (const breach of due) {
      const key = breachKey(breach);
      if (!(await this.claims.claim(key, now))) continue;
      try {
        let action = breach.action;
        if (!action) {
          try {
            action = targetFor(policy, breach.priority ?? 'NORMAL').escalation;
          } catch {
            action = 'NOTIFY_MANAGER';
          }
        }
        await this.port.escalate({ ticketId: breach.ticketId, kind: breach.kind, dueAt: breach.dueAt, action, at: now });
        await this.sla.recordEscalation({ key, ticketId: breach.ticketId, kind: breach.kind, dueAt: breach.dueAt, breachedAt: now, action, priority: breach.priority ?? null });
        // Done: the claim is never taken over as stale, even if the ticket side lists the breach again.
        await this.claims.complete(key, now);
        escalated += 1;
      } catch (error) {
        await this.claims.release(key).catch(() => undefined);
        this.options.logger.warn({ err: error, ticketId: breach.ticketId, kind: breach.kind }, 'SLA escalation failed; the next pass retries it');
      }
    }
    return escalated;
  }
}
