import { defineException } from '@crm/errors';

export type ProductExceptionReason = 'PRODUCT_INVALID_INPUT' | 'PRODUCT_SKU_TAKEN';

export const ProductException = defineException<ProductExceptionReason>('ProductException', {
  PRODUCT_INVALID_INPUT: 'BAD_USER_INPUT',
  PRODUCT_SKU_TAKEN: 'CONFLICT',
});
