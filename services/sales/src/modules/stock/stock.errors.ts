import { defineException } from '@crm/errors';

export type StockExceptionReason =
  | 'STOCK_INVALID_INPUT'
  | 'STOCK_PRODUCT_NOT_FOUND'
  | 'STOCK_INSUFFICIENT'
  | 'STOCK_NOT_RESERVED'
  | 'STOCK_BUSY';

export const StockException = defineException<StockExceptionReason>('StockException', {
  STOCK_INVALID_INPUT: 'BAD_USER_INPUT',
  STOCK_PRODUCT_NOT_FOUND: 'NOT_FOUND',
  /** A movement would make on hand or available negative; nothing was changed. */
  STOCK_INSUFFICIENT: 'CONFLICT',
  /** `shipForOrder` for an order that reserved nothing. */
  STOCK_NOT_RESERVED: 'CONFLICT',
  /** Too many concurrent writers on one stock level (other replicas); retry. */
  STOCK_BUSY: 'CONFLICT',
});
