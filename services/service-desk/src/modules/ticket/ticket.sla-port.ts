import { breachedTargets, type SlaClock, type SlaTargetKind } from '../sla/sla.clock.js';
import type { SlaTicketPort } from '../sla/sla.escalation.js';
import type { SlaEscalationAction } from '../sla/sla.policy.js';
import type { TicketRecord } from './ticket.model.js';
import type { TicketService } from './ticket.service.js';

/** One open ticket with a breached, not yet escalated SLA target. */
export interface SlaDueTicket {
  ticketId: string;
  kind: SlaTargetKind;
  dueAt: Date;
  /** The escalation the clock copied from the policy when it started. */
  action: SlaEscalationAction;
  priority: TicketRecord['priority'];
  queueId: string | null;
  assigneeId: string | null;
  /** Counts reopen cycles: a reopened ticket's new resolution target is a new breach. */
  reopenCount: number;
}

const isClock = (value: unknown): value is SlaClock => !!value && typeof value === 'object' && 'firstResponseDueAt' in value;

/**
 * The ticket module's side of the SLA scheduler (src/modules/sla/sla.escalation.ts `SlaTicketPort`):
 * the scheduler claims each breach once across replicas, then calls `escalate`.
 */
export class TicketSlaPort implements SlaTicketPort {
  constructor(
    private readonly tickets: TicketService,
    /** Open tickets read per call (FerretDB scans the collection per query either way). */
    private readonly scanSize = 1000,
  ) {}

  async dueForEscalation(now: Date, limit: number): Promise<SlaDueTicket[]> {
    const due: SlaDueTicket[] = [];
    for (const ticket of await this.tickets.openWithClock(this.scanSize)) {
      if (!isClock(ticket.sla)) continue;
      for (const breach of breachedTargets(ticket.sla, now)) {
        if (ticket.slaBreaches.includes(`${breach.kind}:${ticket.reopenCount}`)) continue;
        due.push({
          ticketId: ticket._id.toHexString(),
          kind: breach.kind,
          dueAt: breach.dueAt,
          action: ticket.sla.escalation,
          priority: ticket.priority,
          queueId: ticket.queueId,
          assigneeId: ticket.assigneeId,
          reopenCount: ticket.reopenCount,
        });
        if (due.length >= limit) return due;
      }
    }
    return due;
  }

  /**
   * Records the breach on the ticket's history (internal), publishes `ticket.sla-breached`, and with
   * REASSIGN hands the ticket to the next agent of its queue. Idempotent per ticket, target and reopen
   * cycle (the ticket remembers what it escalated): false when there was nothing (left) to do.
   */
  async escalate(due: Pick<SlaDueTicket, 'ticketId' | 'kind' | 'action'> & { dueAt?: Date; at?: Date }): Promise<boolean> {
    return this.tickets.recordBreach(due.ticketId, { kind: due.kind, action: due.action, detail: { dueAt: due.dueAt?.toISOString() ?? null } });
  }
}
