import { defineException } from '@crm/errors';

export type ActivityExceptionReason = 'ACTIVITY_INVALID_INPUT' | 'ACTIVITY_NOT_FOUND' | 'ACTIVITY_FORBIDDEN' | 'ACTIVITY_NOT_A_TASK';

export const ActivityException = defineException<ActivityExceptionReason>('ActivityException', {
  ACTIVITY_INVALID_INPUT: 'BAD_USER_INPUT',
  ACTIVITY_NOT_FOUND: 'NOT_FOUND',
  ACTIVITY_FORBIDDEN: 'FORBIDDEN',
  ACTIVITY_NOT_A_TASK: 'BAD_USER_INPUT',
});
