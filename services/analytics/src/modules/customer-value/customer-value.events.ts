import { createEvent, type CloudEvent } from '@crm/events';
import type { ChurnLevel } from './customer-value.model.js';

/** Events of the customer value module (topic `<prefix>.analytics`; key = customer id). */
export const CustomerValueEventType = {
  /** A customer's churn risk rose to HIGH (or was HIGH when first computed): marketing may act on it. */
  CHURN_RISK_RAISED: 'analytics.churn-risk-raised',
} as const;

export interface ChurnRiskRaisedData {
  customerId: string;
  score: number;
  level: ChurnLevel;
  previousLevel: ChurnLevel | null;
  reasons: string[];
  computedAt: string;
}

export const churnRiskRaised = (data: ChurnRiskRaisedData): CloudEvent<ChurnRiskRaisedData> =>
  createEvent({ source: '/crm/analytics', type: CustomerValueEventType.CHURN_RISK_RAISED, subject: data.customerId, time: new Date(data.computedAt), data });
