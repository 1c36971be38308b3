import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';
import { moneySubdocument } from '@crm/mongo';

export const PRODUCT_STATUSES = ['DRAFT', 'ACTIVE', 'DISCONTINUED'] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];

/**
 * Where a product may go from each status: a draft is published or dropped; an active product is
 * discontinued; a discontinued one can be sold again. Nothing goes back to DRAFT.
 */
export const PRODUCT_TRANSITIONS: Record<ProductStatus, readonly ProductStatus[]> = {
  DRAFT: ['ACTIVE', 'DISCONTINUED'],
  ACTIVE: ['DISCONTINUED'],
  DISCONTINUED: ['ACTIVE'],
};

/** A product as stored; also the GraphQL `Product` parent type (codegen mapper). */
export interface ProductRecord {
  _id: Types.ObjectId;
  /** Upper-case, unique, never changes (imports skip a SKU already there). */
  sku: string;
  name: string;
  category?: string | null;
  /** Where it is made (SAL-1 "place of production"). */
  placeOfProduction?: string | null;
  /** Production date as a calendar date, stored at 00:00 UTC. */
  productionDate?: Date | null;
  /** Further processing notes (SAL-1): finishing, packaging, assembly done after production. */
  processingNotes?: string | null;
  /** List price. */
  price: Money;
  /** Same currency as `price`; shown only to admins and sales managers. */
  cost?: Money | null;
  status: ProductStatus;
  /** 1 on create, +1 on every update (optimistic concurrency). */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const moneySchema = moneySubdocument();

const productSchema = new Schema<ProductRecord>(
  {
    sku: { type: String, required: true, uppercase: true, trim: true },
    name: { type: String, required: true, trim: true },
    category: { type: String, trim: true },
    placeOfProduction: { type: String, trim: true, default: null },
    productionDate: { type: Date, default: null },
    processingNotes: { type: String, default: null },
    price: { type: moneySchema, required: true },
    cost: { type: moneySchema },
    status: { type: String, enum: PRODUCT_STATUSES, required: true, default: 'ACTIVE' },
    version: { type: Number, required: true, default: 1 },
  },
  { collection: 'products', timestamps: true },
);
productSchema.plugin(outboxPlugin);
// The rule "one product per SKU" lives in the database: a duplicate insert fails with 11000.
productSchema.index({ sku: 1 }, { unique: true });
// List filters (FerretDB scans; MongoDB uses these).
productSchema.index({ status: 1, _id: 1 });
productSchema.index({ category: 1, _id: 1 });

export type ProductModel = Model<ProductRecord>;

export function productModel(connection: Connection): ProductModel {
  return connection.model<ProductRecord>('Product', productSchema);
}
