import { defineException } from '@crm/errors';

export type CustomerExceptionReason = 'CUSTOMER_NOT_FOUND' | 'CUSTOMER_INVALID_INPUT';

export const CustomerException = defineException<CustomerExceptionReason>('CustomerException', {
  CUSTOMER_NOT_FOUND: 'NOT_FOUND',
  CUSTOMER_INVALID_INPUT: 'BAD_USER_INPUT',
});
