import { createEvent } from '@crm/events';
import type { FeedbackRecord } from './feedback.model.js';

/** Events of customer feedback (topic `<prefix>.feedback`, key = customer id). */
export const FeedbackEventType = { SUBMITTED: 'feedback.submitted' } as const;

export interface FeedbackSubmittedData {
  feedbackId: string;
  customerId: string;
  productId: string;
  feature: string | null;
  rating: number;
  createdAt: string;
}

export const feedbackSubmitted = (f: FeedbackRecord) =>
  createEvent<FeedbackSubmittedData>({
    source: '/crm/customers',
    type: FeedbackEventType.SUBMITTED,
    // Keyed by customer: one customer's feedback stays in order.
    subject: f.customerId,
    time: f.createdAt,
    data: { feedbackId: f._id.toHexString(), customerId: f.customerId, productId: f.productId, feature: f.feature, rating: f.rating, createdAt: f.createdAt.toISOString() },
  });
