import { defineException } from '@crm/errors';

export type ExpenseExceptionReason = 'EXPENSE_INVALID_INPUT' | 'EXPENSE_NOT_FOUND' | 'EXPENSE_FORBIDDEN' | 'EXPENSE_VERSION_CONFLICT';

export const ExpenseException = defineException<ExpenseExceptionReason>('ExpenseException', {
  EXPENSE_INVALID_INPUT: 'BAD_USER_INPUT',
  EXPENSE_NOT_FOUND: 'NOT_FOUND',
  EXPENSE_FORBIDDEN: 'FORBIDDEN',
  EXPENSE_VERSION_CONFLICT: 'CONFLICT',
});
