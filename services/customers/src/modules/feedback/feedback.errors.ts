import { defineException } from '@crm/errors';

export const FeedbackException = defineException<'FEEDBACK_INVALID_INPUT' | 'FEEDBACK_NO_CUSTOMER' | 'FEEDBACK_FORBIDDEN'>('FeedbackException', {
  FEEDBACK_INVALID_INPUT: 'BAD_USER_INPUT',
  FEEDBACK_NO_CUSTOMER: 'NOT_FOUND',
  FEEDBACK_FORBIDDEN: 'FORBIDDEN',
});
