import { defineException } from '@crm/errors';

export type AfterSalesExceptionReason =
  | 'AFTER_SALES_NOT_FOUND'
  | 'AFTER_SALES_INVALID_INPUT'
  | 'AFTER_SALES_FORBIDDEN'
  | 'AFTER_SALES_INVALID_TRANSITION'
  | 'AFTER_SALES_ORDER_INELIGIBLE'
  | 'AFTER_SALES_VERSION_CONFLICT';

export const AfterSalesException = defineException<AfterSalesExceptionReason>('AfterSalesException', {
  /** Also a customer naming another customer's record (its existence is not revealed). */
  AFTER_SALES_NOT_FOUND: 'NOT_FOUND',
  /** Bad fields, and an order that is unknown, not the customer's, or without the product. */
  AFTER_SALES_INVALID_INPUT: 'BAD_USER_INPUT',
  AFTER_SALES_FORBIDDEN: 'FORBIDDEN',
  AFTER_SALES_INVALID_TRANSITION: 'CONFLICT',
  /** The order is cancelled, rejected or not delivered yet, or (returns) delivered longer ago than the return window. */
  AFTER_SALES_ORDER_INELIGIBLE: 'CONFLICT',
  AFTER_SALES_VERSION_CONFLICT: 'CONFLICT',
});
