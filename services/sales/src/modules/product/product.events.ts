import { createEvent, type CloudEvent } from '@crm/events';
import type { Money } from '@crm/money';
import type { ProductRecord, ProductStatus } from './product.model.js';

/** Every event the product aggregate publishes (topic `<prefix>.product`, default `crm.product`; key = product id). */
export const ProductEventType = {
  CREATED: 'product.created',
  UPDATED: 'product.updated',
} as const;

export const PRODUCT_EVENT_SOURCE = '/crm/sales';

/**
 * What other services may know of a product. The cost is restricted to admins and sales managers,
 * so it stays in this service; so do the free-text processing notes.
 */
export interface ProductSnapshot {
  productId: string;
  sku: string;
  name: string;
  category: string | null;
  placeOfProduction: string | null;
  /** YYYY-MM-DD or null. */
  productionDate: string | null;
  price: Money;
  status: ProductStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
}

export type ProductCreatedData = ProductSnapshot;
export interface ProductUpdatedData extends ProductSnapshot {
  /** Names of the fields this update changed (`cost` may be among them; its value never is). */
  changed: string[];
  /** The status before, when `status` changed. */
  previousStatus: ProductStatus | null;
}

function snapshot(product: ProductRecord): ProductSnapshot {
  return {
    productId: product._id.toHexString(),
    sku: product.sku,
    name: product.name,
    category: product.category ?? null,
    placeOfProduction: product.placeOfProduction ?? null,
    productionDate: product.productionDate ? product.productionDate.toISOString().slice(0, 10) : null,
    price: { amountMinor: product.price.amountMinor, currency: product.price.currency },
    status: product.status,
    version: product.version,
    createdAt: product.createdAt.toISOString(),
    updatedAt: product.updatedAt.toISOString(),
  };
}

export function productCreated(product: ProductRecord): CloudEvent<ProductCreatedData> {
  return createEvent({ source: PRODUCT_EVENT_SOURCE, type: ProductEventType.CREATED, subject: product._id.toHexString(), time: product.createdAt, data: snapshot(product) });
}

export function productUpdated(product: ProductRecord, changed: string[], previousStatus: ProductStatus | null): CloudEvent<ProductUpdatedData> {
  return createEvent({
    source: PRODUCT_EVENT_SOURCE,
    type: ProductEventType.UPDATED,
    subject: product._id.toHexString(),
    time: product.updatedAt,
    data: { ...snapshot(product), changed, previousStatus },
  });
}
