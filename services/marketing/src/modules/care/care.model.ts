import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { ContactChannel } from '../consent/consent.model.js';

export const CARE_PLAN_KINDS = ['BIRTHDAY', 'HOLIDAY', 'NEWS'] as const;
export type CarePlanKind = (typeof CARE_PLAN_KINDS)[number];

export interface CarePlanRecord {
  _id: Types.ObjectId;
  name: string;
  kind: CarePlanKind;
  channel: ContactChannel;
  subject: string;
  body: string;
  holiday: string | null;
  sendOn: string | null;
  segmentId: string | null;
  active: boolean;
  version: number;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

const carePlanSchema = new Schema<CarePlanRecord>(
  {
    name: { type: String, required: true },
    kind: { type: String, enum: CARE_PLAN_KINDS, required: true },
    channel: { type: String, required: true },
    subject: { type: String, required: true },
    body: { type: String, required: true },
    holiday: { type: String, default: null },
    sendOn: { type: String, default: null },
    segmentId: { type: String, default: null },
    active: { type: Boolean, required: true },
    version: { type: Number, required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'care_plans' },
);
carePlanSchema.plugin(outboxPlugin);

export type CarePlanModel = Model<CarePlanRecord>;

export function carePlanModel(connection: Connection): CarePlanModel {
  return connection.model<CarePlanRecord>('CarePlan', carePlanSchema);
}
