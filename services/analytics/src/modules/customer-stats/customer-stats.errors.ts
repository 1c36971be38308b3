import { defineException } from '@crm/errors';

export type CustomerStatsExceptionReason = 'CUSTOMER_EVENT_INVALID';

/** Raised while folding events; never reaches GraphQL clients, but keeps the one-type-per-module rule. */
export const CustomerStatsException = defineException<CustomerStatsExceptionReason>('CustomerStatsException', {
  CUSTOMER_EVENT_INVALID: 'BAD_USER_INPUT',
});
