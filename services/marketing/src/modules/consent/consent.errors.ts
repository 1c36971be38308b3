import { defineException } from '@crm/errors';

export type ConsentExceptionReason = 'CONSENT_INVALID_INPUT';

/** The consent module's one error type. */
export const ConsentException = defineException<ConsentExceptionReason>('ConsentException', {
  CONSENT_INVALID_INPUT: 'BAD_USER_INPUT',
});
