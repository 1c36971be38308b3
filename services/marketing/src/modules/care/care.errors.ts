import { defineException } from '@crm/errors';

export type CareExceptionReason = 'CARE_INVALID_INPUT' | 'CARE_NOT_FOUND' | 'CARE_VERSION_CONFLICT';

/** The care module's one error type; each reason maps to one GraphQL error code. */
export const CareException = defineException<CareExceptionReason>('CareException', {
  CARE_INVALID_INPUT: 'BAD_USER_INPUT',
  CARE_NOT_FOUND: 'NOT_FOUND',
  CARE_VERSION_CONFLICT: 'CONFLICT',
});
