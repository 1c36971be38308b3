import { defineException } from '@crm/errors';

export type SlaExceptionReason = 'SLA_INVALID_INPUT' | 'SLA_FORBIDDEN' | 'SLA_NOT_FOUND' | 'SLA_VERSION_CONFLICT';

export const SlaException = defineException<SlaExceptionReason>('SlaException', {
  SLA_INVALID_INPUT: 'BAD_USER_INPUT',
  SLA_FORBIDDEN: 'FORBIDDEN',
  SLA_NOT_FOUND: 'NOT_FOUND',
  SLA_VERSION_CONFLICT: 'CONFLICT',
});
