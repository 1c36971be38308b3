import { defineException } from '@crm/errors';

export type UserAccountExceptionReason =
  | 'USER_ACCOUNT_INVALID_INPUT'
  | 'USER_ACCOUNT_NOT_FOUND'
  | 'USER_ACCOUNT_TAKEN'
  | 'USER_ACCOUNT_SELF_LOCKOUT'
  | 'USER_ACCOUNT_EMAIL_FAILED';

/** The user-account module's one error type; each reason maps to one GraphQL error code. */
export const UserAccountException = defineException<UserAccountExceptionReason>('UserAccountException', {
  USER_ACCOUNT_INVALID_INPUT: 'BAD_USER_INPUT',
  USER_ACCOUNT_NOT_FOUND: 'NOT_FOUND',
  USER_ACCOUNT_TAKEN: 'CONFLICT',
  USER_ACCOUNT_SELF_LOCKOUT: 'CONFLICT',
  USER_ACCOUNT_EMAIL_FAILED: 'CONFLICT',
});
