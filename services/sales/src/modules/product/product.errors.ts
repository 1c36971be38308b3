import { defineException } from '@crm/errors';

export type ProductExceptionReason =
  | 'PRODUCT_INVALID_INPUT'
  | 'PRODUCT_SKU_TAKEN'
  | 'PRODUCT_NOT_FOUND'
  | 'PRODUCT_STATUS_TRANSITION'
  | 'PRODUCT_VERSION_CONFLICT';

export const ProductException = defineException<ProductExceptionReason>('ProductException', {
  PRODUCT_INVALID_INPUT: 'BAD_USER_INPUT',
  PRODUCT_SKU_TAKEN: 'CONFLICT',
  PRODUCT_NOT_FOUND: 'NOT_FOUND',
  PRODUCT_STATUS_TRANSITION: 'BAD_USER_INPUT',
  PRODUCT_VERSION_CONFLICT: 'CONFLICT',
});
