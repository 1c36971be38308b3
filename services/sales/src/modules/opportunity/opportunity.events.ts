import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { OpportunityRecord, OpportunityStatus } from './opportunity.model.js';
import type { Priority } from './opportunity.validation.js';

/** Every event the opportunity aggregate publishes (topic `<prefix>.opportunity`; key = opportunity id). */
export const OpportunityEventType = {
  CREATED: 'opportunity.created',
  UPDATED: 'opportunity.updated',
  STAGE_CHANGED: 'opportunity.stage-changed',
  WON: 'opportunity.won',
  LOST: 'opportunity.lost',
} as const;
export type OpportunityEventType = (typeof OpportunityEventType)[keyof typeof OpportunityEventType];

export const OPPORTUNITY_EVENT_SOURCE = '/crm/sales';

/** What other services may know of an opportunity (every opportunity event carries it). */
export interface OpportunitySnapshot {
  opportunityId: string;
  name: string;
  customerId: string;
  leadId: string | null;
  ownerId: string;
  department: string | null;
  ownerTeams: string[];
  amount: Money;
  stage: string;
  status: OpportunityStatus;
  /** Effective probability in whole percent (the stage default unless overridden). */
  probability: number;
  expectedCloseDate: string;
  priority: Priority;
  competitors: string[];
  campaignCode: string | null;
  closedAt: string | null;
  version: number;
}

export interface OpportunityUpdatedData extends OpportunitySnapshot {
  changed: string[];
}
export interface OpportunityStageChangedData extends OpportunitySnapshot {
  fromStage: string;
  toStage: string;
}
export interface OpportunityClosedData extends OpportunitySnapshot {
  /** Why it was won (may be null) or lost (always given). */
  reason: string | null;
}

export function snapshotOf(opportunity: OpportunityRecord, probability: number): OpportunitySnapshot {
  return {
    opportunityId: opportunity._id.toHexString(),
    name: opportunity.name,
    customerId: opportunity.customerId,
    leadId: opportunity.leadId,
    ownerId: opportunity.ownerId,
    department: opportunity.department,
    ownerTeams: opportunity.ownerTeams,
    amount: { amountMinor: opportunity.amount.amountMinor, currency: opportunity.amount.currency },
    stage: opportunity.stage,
    status: opportunity.status,
    probability,
    expectedCloseDate: opportunity.expectedCloseDate.toISOString(),
    priority: opportunity.priority,
    competitors: opportunity.competitors,
    campaignCode: opportunity.campaignCode,
    closedAt: opportunity.closedAt?.toISOString() ?? null,
    version: opportunity.version,
  };
}

function opportunityEvent<T>(type: OpportunityEventType, opportunity: OpportunityRecord, data: T): CloudEvent<T> {
  return createEvent({ source: OPPORTUNITY_EVENT_SOURCE, type, subject: opportunity._id.toHexString(), time: opportunity.updatedAt, data });
}

export const opportunityCreated = (o: OpportunityRecord, probability: number) => opportunityEvent(OpportunityEventType.CREATED, o, snapshotOf(o, probability));
export const opportunityUpdated = (o: OpportunityRecord, probability: number, changed: string[]) =>
  opportunityEvent<OpportunityUpdatedData>(OpportunityEventType.UPDATED, o, { ...snapshotOf(o, probability), changed });
export const opportunityStageChanged = (o: OpportunityRecord, probability: number, fromStage: string) =>
  opportunityEvent<OpportunityStageChangedData>(OpportunityEventType.STAGE_CHANGED, o, { ...snapshotOf(o, probability), fromStage, toStage: o.stage });
export const opportunityWon = (o: OpportunityRecord) => opportunityEvent<OpportunityClosedData>(OpportunityEventType.WON, o, { ...snapshotOf(o, 100), reason: o.closeReason });
export const opportunityLost = (o: OpportunityRecord) => opportunityEvent<OpportunityClosedData>(OpportunityEventType.LOST, o, { ...snapshotOf(o, 0), reason: o.closeReason });
