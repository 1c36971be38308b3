import { createEvent, type CloudEvent } from '@crm/events';
import type { CarePlanRecord } from './care.model.js';

/** Every event of the care module (topic `<prefix>.care-plan`, key = plan id). */
export const CarePlanEventType = {
  CREATED: 'care-plan.created',
  UPDATED: 'care-plan.updated',
} as const;

export interface CarePlanEventData {
  carePlanId: string;
  name: string;
  kind: CarePlanRecord['kind'];
  channel: CarePlanRecord['channel'];
  active: boolean;
  version: number;
  by: string;
}

export function carePlanEvent(type: (typeof CarePlanEventType)[keyof typeof CarePlanEventType], plan: CarePlanRecord, by: string): CloudEvent<CarePlanEventData> {
  const carePlanId = plan._id.toHexString();
  return createEvent({ source: '/crm/marketing', type, subject: carePlanId, time: plan.updatedAt, data: { carePlanId, name: plan.name, kind: plan.kind, channel: plan.channel, active: plan.active, version: plan.version, by } });
}
