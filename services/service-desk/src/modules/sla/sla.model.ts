import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { WEEKDAYS, type BusinessCalendar, type BusinessInterval } from './sla.calendar.js';
import type { SlaTargetKind } from './sla.clock.js';
import { SLA_ESCALATIONS, SLA_PRIORITIES, type SlaEscalationAction, type SlaPriorityTarget } from './sla.policy.js';

/**
 * One version of the SLA policy; a change inserts the next version (`_id` = version), so two
 * managers saving at once cannot both win (a duplicate `_id` insert fails, also on FerretDB v1) and
 * every earlier version stays readable. No stored document: the built-in default, version 1.
 */
export interface SlaPolicyRecord {
  _id: number;
  targets: SlaPriorityTarget[];
  atRiskRatio: number;
  calendar: BusinessCalendar;
  createdAt: Date;
  createdBy: string;
}

/** One escalated breach: what the manager sees (`slaEscalations`) and acknowledges. */
export interface SlaEscalationRecord {
  _id: Types.ObjectId;
  /** `sla:<ticketId>:<kind>:<dueAt ISO>`, the scheduler claim key: one record per breach. */
  key: string;
  ticketId: string;
  kind: SlaTargetKind;
  /** When the target was due (the breach began). */
  dueAt: Date;
  /** When the scheduler found and escalated the breach. */
  breachedAt: Date;
  action: SlaEscalationAction;
  priority: string | null;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
}

const intervalSchema = new Schema<BusinessInterval>({ start: { type: String, required: true }, end: { type: String, required: true } }, { _id: false });

const calendarSchema = new Schema<BusinessCalendar>(
  {
    timeZone: { type: String, required: true },
    weeklyHours: new Schema(Object.fromEntries(WEEKDAYS.map((day) => [day, { type: [intervalSchema], default: undefined }])), { _id: false }),
    holidays: { type: [String], default: [] },
    extraWorkingDays: { type: [String], default: [] },
    extraWorkingDayHours: { type: [intervalSchema], default: undefined },
  },
  { _id: false },
);

const targetSchema = new Schema<SlaPriorityTarget>(
  {
    priority: { type: String, enum: SLA_PRIORITIES, required: true },
    firstResponseMinutes: { type: Number, required: true },
    resolutionMinutes: { type: Number, required: true },
    escalation: { type: String, enum: SLA_ESCALATIONS, required: true },
  },
  { _id: false },
);

const policySchema = new Schema<SlaPolicyRecord>(
  {
    _id: { type: Number, required: true },
    targets: { type: [targetSchema], required: true },
    atRiskRatio: { type: Number, required: true },
    calendar: { type: calendarSchema, required: true },
    createdAt: { type: Date, required: true },
    createdBy: { type: String, required: true },
  },
  { collection: 'sla_policies', versionKey: false },
);

const escalationSchema = new Schema<SlaEscalationRecord>(
  {
    key: { type: String, required: true },
    ticketId: { type: String, required: true },
    kind: { type: String, enum: ['FIRST_RESPONSE', 'RESOLUTION'], required: true },
    dueAt: { type: Date, required: true },
    breachedAt: { type: Date, required: true },
    action: { type: String, enum: SLA_ESCALATIONS, required: true },
    priority: { type: String, default: null },
    acknowledgedAt: { type: Date, default: null },
    acknowledgedBy: { type: String, default: null },
  },
  { collection: 'sla_escalations', versionKey: false },
);
// One record per breach (the claim already makes it so; MongoDB would enforce it too), the manager's
// list (newest first, optionally only unacknowledged) and a ticket's escalations.
escalationSchema.index({ key: 1 }, { unique: true });
escalationSchema.index({ breachedAt: -1, _id: -1 });
escalationSchema.index({ acknowledgedAt: 1, breachedAt: -1, _id: -1 });
escalationSchema.index({ ticketId: 1 });

export type SlaPolicyModel = Model<SlaPolicyRecord>;
export type SlaEscalationModel = Model<SlaEscalationRecord>;

export function slaModels(connection: Connection): { policies: SlaPolicyModel; escalations: SlaEscalationModel } {
  return {
    policies: connection.model<SlaPolicyRecord>('SlaPolicy', policySchema),
    escalations: connection.model<SlaEscalationRecord>('SlaEscalation', escalationSchema),
  };
}
