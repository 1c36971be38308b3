import { defineException } from '@crm/errors';

export type AuditExceptionReason = 'AUDIT_INVALID_FILTER';

/** The audit module's one error type. */
export const AuditException = defineException<AuditExceptionReason>('AuditException', {
  AUDIT_INVALID_FILTER: 'BAD_USER_INPUT',
});
