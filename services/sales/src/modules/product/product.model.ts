import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';
import { moneySubdocument } from '@crm/mongo';

export const PRODUCT_STATUSES = ['ACTIVE', 'DISCONTINUED'] as const;
export type ProductStatus = (typeof PRODUCT_STATUSES)[number];

/** A product as stored; also the GraphQL `Product` parent type (codegen mapper). */
export interface ProductRecord {
  _id: Types.ObjectId;
  /** Upper-case, unique. */
  sku: string;
  name: string;
  category?: string | null;
  price: Money;
  /** Same currency as `price`; shown only to admins and sales managers. */
  cost?: Money | null;
  status: ProductStatus;
  createdAt: Date;
  updatedAt: Date;
}

const moneySchema = moneySubdocument();

const productSchema = new Schema<ProductRecord>(
  {
    sku: { type: String, required: true, uppercase: true, trim: true },
    name: { type: String, required: true, trim: true },
    category: { type: String, trim: true },
    price: { type: moneySchema, required: true },
    cost: { type: moneySchema },
    status: { type: String, enum: PRODUCT_STATUSES, required: true, default: 'ACTIVE' },
  },
  { collection: 'products', timestamps: true },
);
productSchema.plugin(outboxPlugin);
// The rule "one product per SKU" lives in the database: a duplicate insert fails with 11000.
productSchema.index({ sku: 1 }, { unique: true });

export type ProductModel = Model<ProductRecord>;

export function productModel(connection: Connection): ProductModel {
  return connection.model<ProductRecord>('Product', productSchema);
}
