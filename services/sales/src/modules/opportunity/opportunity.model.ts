import { Schema, type Connection, type Model, type SchemaDefinition, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';
import { moneySubdocument } from '@crm/mongo';
import { ownershipFields, type Ownership } from '../../shared/ownership.js';
import type { StageKind } from '../pipeline/pipeline.model.js';
import { PRIORITIES, QUALIFICATION_LEVELS, type Priority, type QualificationLevel } from './opportunity.validation.js';

export type OpportunityStatus = StageKind;

/** One stage move: the history the board and reports read. */
export interface StageChange {
  /** Null for the stage the opportunity was created in. */
  from: string | null;
  to: string;
  at: Date;
  /** Keycloak user id. */
  by: string;
}

/** An opportunity as stored; also the GraphQL `Opportunity` parent type (codegen mapper). */
export interface OpportunityRecord extends Ownership {
  _id: Types.ObjectId;
  name: string;
  /** The customers subgraph's customer (an id only; re-pointed when customers merge). */
  customerId: string;
  /** The lead it was converted from. */
  leadId: string | null;
  amount: Money;
  expectedCloseDate: Date;
  /** Overrides the stage's default probability (whole percent) until the next stage move. */
  probabilityOverride: number | null;
  stage: string;
  /** OPEN, or WON/LOST once in that terminal stage. */
  status: OpportunityStatus;
  stageHistory: StageChange[];
  need: QualificationLevel | null;
  budget: QualificationLevel | null;
  decisionProcess: QualificationLevel | null;
  priority: Priority;
  priorityScore: number;
  competitors: string[];
  campaignCode: string | null;
  description: string | null;
  /** When it was won or lost. */
  closedAt: Date | null;
  /** Why it was won (optional) or lost (required). */
  closeReason: string | null;
  createdBy: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const moneySchema = moneySubdocument();
const stageChangeSchema = new Schema<StageChange>(
  { from: { type: String, default: null }, to: { type: String, required: true }, at: { type: Date, required: true }, by: { type: String, required: true } },
  { _id: false },
);

const opportunitySchema = new Schema<OpportunityRecord>(
  {
    name: { type: String, required: true },
    customerId: { type: String, required: true, index: true },
    leadId: { type: String, default: null, index: true },
    amount: { type: moneySchema, required: true },
    expectedCloseDate: { type: Date, required: true, index: true },
    probabilityOverride: { type: Number, default: null, min: 0, max: 100 },
    stage: { type: String, required: true, index: true },
    status: { type: String, enum: ['OPEN', 'WON', 'LOST'], required: true, index: true },
    stageHistory: { type: [stageChangeSchema], default: [] },
    need: { type: String, enum: QUALIFICATION_LEVELS, default: null },
    budget: { type: String, enum: QUALIFICATION_LEVELS, default: null },
    decisionProcess: { type: String, enum: QUALIFICATION_LEVELS, default: null },
    priority: { type: String, enum: PRIORITIES, required: true },
    priorityScore: { type: Number, required: true },
    competitors: { type: [String], default: [] },
    campaignCode: { type: String, default: null, index: true },
    description: { type: String, default: null },
    closedAt: { type: Date, default: null, index: true },
    closeReason: { type: String, default: null },
    ...(ownershipFields as unknown as SchemaDefinition<Ownership>),
    createdBy: { type: String, required: true },
    version: { type: Number, required: true, default: 1 },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'opportunities' },
);
opportunitySchema.plugin(outboxPlugin);
// Lists (newest first), the board (expected close within a stage) and the forecast (close dates by status).
opportunitySchema.index({ createdAt: -1, _id: -1 });
opportunitySchema.index({ stage: 1, expectedCloseDate: 1, _id: 1 });
opportunitySchema.index({ status: 1, expectedCloseDate: 1 });
opportunitySchema.index({ status: 1, closedAt: 1 });

export type OpportunityModel = Model<OpportunityRecord>;

export function opportunityModel(connection: Connection): OpportunityModel {
  return connection.model<OpportunityRecord>('Opportunity', opportunitySchema);
}
