import { defineException } from '@crm/errors';

export type QueueExceptionReason = 'QUEUE_INVALID_INPUT' | 'QUEUE_NOT_FOUND' | 'QUEUE_FORBIDDEN' | 'QUEUE_VERSION_CONFLICT' | 'QUEUE_NAME_TAKEN';

export const QueueException = defineException<QueueExceptionReason>('QueueException', {
  QUEUE_INVALID_INPUT: 'BAD_USER_INPUT',
  QUEUE_NOT_FOUND: 'NOT_FOUND',
  QUEUE_FORBIDDEN: 'FORBIDDEN',
  QUEUE_VERSION_CONFLICT: 'CONFLICT',
  QUEUE_NAME_TAKEN: 'CONFLICT',
});
