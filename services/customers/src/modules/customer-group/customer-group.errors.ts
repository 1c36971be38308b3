import { defineException } from '@crm/errors';

export const CustomerGroupException = defineException<'GROUP_INVALID_INPUT' | 'GROUP_NAME_TAKEN' | 'GROUP_NOT_FOUND' | 'GROUP_FORBIDDEN'>('CustomerGroupException', {
  GROUP_INVALID_INPUT: 'BAD_USER_INPUT',
  GROUP_NAME_TAKEN: 'CONFLICT',
  GROUP_NOT_FOUND: 'NOT_FOUND',
  GROUP_FORBIDDEN: 'FORBIDDEN',
});
