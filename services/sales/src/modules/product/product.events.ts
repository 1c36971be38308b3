import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { ProductRecord, ProductStatus } from './product.model.js';

/** Every event the product aggregate publishes (topic `<prefix>.product`, default `crm.product`; key = product id). */
export const ProductEventType = {
  CREATED: 'product.created',
} as const;

export const PRODUCT_EVENT_SOURCE = '/crm/sales';

export interface ProductCreatedData {
  productId: string;
  sku: string;
  name: string;
  category: string | null;
  price: Money;
  status: ProductStatus;
  createdAt: string;
}

export function productCreated(product: ProductRecord): CloudEvent<ProductCreatedData> {
  const productId = product._id.toHexString();
  return createEvent({
    source: PRODUCT_EVENT_SOURCE,
    type: ProductEventType.CREATED,
    subject: productId,
    time: product.createdAt,
    // The cost is restricted to admins and sales managers, so it stays in this service.
    data: {
      productId,
      sku: product.sku,
      name: product.name,
      category: product.category ?? null,
      price: { amountMinor: product.price.amountMinor, currency: product.price.currency },
      status: product.status,
      createdAt: product.createdAt.toISOString(),
    },
  });
}
