import { createEvent, type CloudEvent } from '@crm/events';
import type { StockMovementKind, StockMovementRecord } from './stock.model.js';

/** Every event the stock level aggregate publishes (topic `<prefix>.stock`; key = product id). */
export const StockEventType = {
  MOVED: 'stock.moved',
} as const;

export const STOCK_EVENT_SOURCE = '/crm/sales';

export interface StockMovedData {
  productId: string;
  movementId: string;
  /** Position of the movement in the product's history (1, 2, ...): consumers drop duplicates by it. */
  seq: number;
  kind: StockMovementKind;
  /** Always positive; the signed changes are `onHandDelta` and `reservedDelta`. */
  quantity: number;
  onHandDelta: number;
  reservedDelta: number;
  /** Levels after the movement. */
  onHand: number;
  reserved: number;
  available: number;
  orderId: string | null;
  reason: string | null;
  by: string;
  at: string;
}

export function stockMoved(movement: StockMovementRecord): CloudEvent<StockMovedData> {
  const productId = movement.productId.toHexString();
  return createEvent({
    source: STOCK_EVENT_SOURCE,
    type: StockEventType.MOVED,
    subject: productId,
    time: movement.at,
    data: {
      productId,
      movementId: movement._id.toHexString(),
      seq: movement.seq,
      kind: movement.kind,
      quantity: movement.quantity,
      onHandDelta: movement.onHandDelta,
      reservedDelta: movement.reservedDelta,
      onHand: movement.onHand,
      reserved: movement.reserved,
      available: movement.onHand - movement.reserved,
      orderId: movement.orderId,
      reason: movement.reason,
      by: movement.by,
      at: movement.at.toISOString(),
    },
  });
}
