import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

export const STOCK_MOVEMENT_KINDS = ['RECEIVED', 'RESERVED', 'RELEASED', 'SHIPPED', 'RETURNED', 'ADJUSTED'] as const;
export type StockMovementKind = (typeof STOCK_MOVEMENT_KINDS)[number];

export const ORDER_STOCK_STATES = ['RESERVED', 'RELEASED', 'SHIPPED'] as const;
export type OrderStockState = (typeof ORDER_STOCK_STATES)[number];

/** What one order holds of one product: the per-order idempotency record inside the stock level. */
export interface OrderStockEntry {
  orderId: string;
  quantity: number;
  state: OrderStockState;
  /** Of a shipped entry: how much came back with `returnStock(orderId)`. */
  returned?: number;
  at: Date;
}

/** A movement as stored in the stock level until it is copied into `stock_movements` (see StockService). */
export interface StockMovementRecord {
  /** Derived from (productId, seq): copying it twice writes one document. */
  _id: Types.ObjectId;
  productId: Types.ObjectId;
  /** Position in the product's history, 1, 2, ... */
  seq: number;
  kind: StockMovementKind;
  /** Always positive; `delta` carries the sign of an adjustment. */
  quantity: number;
  /** Change of on hand (RECEIVED +, SHIPPED -, RETURNED +, ADJUSTED ±; 0 for RESERVED/RELEASED). */
  onHandDelta: number;
  /** Change of reserved (RESERVED +, RELEASED -, SHIPPED -). */
  reservedDelta: number;
  /** Levels after the movement. */
  onHand: number;
  reserved: number;
  reason: string | null;
  orderId: string | null;
  /** Keycloak user id and name of who moved the stock. */
  by: string;
  byName: string | null;
  at: Date;
}

/**
 * One product's stock (the aggregate; `_id` is the product id). `available` = `onHand` - `reserved`,
 * never negative, and neither is `onHand` nor `reserved`.
 */
export interface StockLevelRecord {
  _id: Types.ObjectId;
  onHand: number;
  reserved: number;
  /** Count of movements so far; the next movement gets `seq + 1`. Doubles as the optimistic version. */
  seq: number;
  /** Open reservations of orders (all kept) and finished ones (the most recent, bounded). */
  orders: OrderStockEntry[];
  /** Movements written with the level and not yet copied into `stock_movements`. */
  pendingMovements: StockMovementRecord[];
  createdAt: Date;
  updatedAt: Date;
}

const orderEntrySchema = new Schema<OrderStockEntry>(
  {
    orderId: { type: String, required: true },
    quantity: { type: Number, required: true },
    state: { type: String, enum: ORDER_STOCK_STATES, required: true },
    returned: { type: Number, default: 0 },
    at: { type: Date, required: true },
  },
  { _id: false },
);

const movementFields = {
  productId: { type: Schema.Types.ObjectId, required: true },
  seq: { type: Number, required: true },
  kind: { type: String, enum: STOCK_MOVEMENT_KINDS, required: true },
  quantity: { type: Number, required: true },
  onHandDelta: { type: Number, required: true },
  reservedDelta: { type: Number, required: true },
  onHand: { type: Number, required: true },
  reserved: { type: Number, required: true },
  reason: { type: String, default: null },
  orderId: { type: String, default: null },
  by: { type: String, required: true },
  byName: { type: String, default: null },
  at: { type: Date, required: true },
};

const stockLevelSchema = new Schema<StockLevelRecord>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    onHand: { type: Number, required: true, default: 0, min: 0 },
    reserved: { type: Number, required: true, default: 0, min: 0 },
    seq: { type: Number, required: true, default: 0 },
    orders: { type: [orderEntrySchema], default: [] },
    pendingMovements: { type: [new Schema<StockMovementRecord>({ _id: { type: Schema.Types.ObjectId, required: true }, ...movementFields })], default: [], select: false },
  },
  { collection: 'stock_levels', timestamps: true },
);
stockLevelSchema.plugin(outboxPlugin);
// releaseForOrder/shipForOrder find the levels an order touched.
stockLevelSchema.index({ 'orders.orderId': 1 });

const stockMovementSchema = new Schema<StockMovementRecord>({ ...movementFields }, { collection: 'stock_movements' });
// stockMovements(productId): newest first.
stockMovementSchema.index({ productId: 1, seq: -1 });

export type StockLevelModel = Model<StockLevelRecord>;
export type StockMovementModel = Model<StockMovementRecord>;

export function stockLevelModel(connection: Connection): StockLevelModel {
  return connection.model<StockLevelRecord>('StockLevel', stockLevelSchema);
}

export function stockMovementModel(connection: Connection): StockMovementModel {
  return connection.model<StockMovementRecord>('StockMovement', stockMovementSchema);
}
