import { defineException } from '@crm/errors';

export type OrderExceptionReason =
  | 'ORDER_INVALID_INPUT'
  | 'ORDER_NOT_FOUND'
  | 'ORDER_FORBIDDEN'
  | 'ORDER_INVALID_TRANSITION'
  | 'ORDER_STOCK_UNAVAILABLE'
  | 'ORDER_PAYMENT_INVALID'
  | 'ORDER_VERSION_CONFLICT';

export const OrderException = defineException<OrderExceptionReason>('OrderException', {
  ORDER_INVALID_INPUT: 'BAD_USER_INPUT',
  ORDER_NOT_FOUND: 'NOT_FOUND',
  ORDER_FORBIDDEN: 'FORBIDDEN',
  /** E.g. shipping an order that is not approved, approving a cancelled one. */
  ORDER_INVALID_TRANSITION: 'CONFLICT',
  /** The stock reservation failed (fields name the short lines); the order stays un-approved. */
  ORDER_STOCK_UNAVAILABLE: 'CONFLICT',
  /** More than is outstanding, another currency, nothing to refund. */
  ORDER_PAYMENT_INVALID: 'BAD_USER_INPUT',
  ORDER_VERSION_CONFLICT: 'CONFLICT',
});
