import { PoisonEventError, type CloudEvent } from '@crm/events';
import { ORDER_STATUSES, type OrderDirectoryModel, type OrderDirectoryRecord, type OrderStatus } from './order-directory.model.js';

/** The sales service's order events (services/sales/src/modules/order/order.events.ts, `OrderEventData`). */
export const ORDER_EVENTS = [
  'order.placed',
  'order.updated',
  'order.approved',
  'order.rejected',
  'order.shipped',
  'order.delivered',
  'order.payment-recorded',
  'order.paid',
  'order.refunded',
  'order.cancelled',
] as const;

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const DUPLICATE_KEY = 11000;

interface OrderSnapshot {
  orderId: string;
  customerId: string;
  productIds: string[];
  status: OrderStatus;
  version: number;
}

function snapshotOf(event: CloudEvent): OrderSnapshot {
  const data = event.data as { orderId?: unknown; customerId?: unknown; status?: unknown; version?: unknown; lines?: unknown } | null;
  const orderId = typeof data?.orderId === 'string' ? data.orderId.toLowerCase() : '';
  const customerId = typeof data?.customerId === 'string' ? data.customerId.toLowerCase() : '';
  const status = data?.status as OrderStatus;
  if (!OBJECT_ID.test(orderId) || !OBJECT_ID.test(customerId) || !ORDER_STATUSES.includes(status) || typeof data?.version !== 'number' || !Array.isArray(data.lines)) {
    throw new PoisonEventError(`${event.type} ${event.id} lacks a valid orderId/customerId/status/version/lines`);
  }
  const productIds = [...new Set((data.lines as Array<{ productId?: unknown }>).map((l) => (typeof l?.productId === 'string' ? l.productId.toLowerCase() : '')).filter((id) => id))];
  return { orderId, customerId, productIds, status, version: data.version };
}

const dateOf = (value: unknown): Date | null => {
  if (typeof value !== 'string') return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
};

/**
 * Orders as the service desk knows them, kept from the sales service's `order.*` events (SVC-6): an
 * entry only moves forward in the order's version, so a redelivered or late event never undoes a newer
 * one; the delivery and cancellation instants are kept from the events that carry them.
 */
export class OrderDirectory {
  constructor(private readonly entries: OrderDirectoryModel) {}

  async get(orderId: string): Promise<OrderDirectoryRecord | null> {
    if (!OBJECT_ID.test(orderId)) return null;
    return this.entries.findById(orderId.toLowerCase()).lean<OrderDirectoryRecord>().exec();
  }

  /** Applies one sales order event; idempotent. */
  async apply(event: CloudEvent): Promise<void> {
    const s = snapshotOf(event);
    const data = event.data as Record<string, unknown>;
    const at = new Date(event.time ?? Date.now());
    try {
      await this.entries.updateOne(
        { _id: s.orderId, version: { $lt: s.version } },
        { $set: { customerId: s.customerId, productIds: s.productIds, status: s.status, version: s.version, updatedAt: at }, $setOnInsert: { deliveredAt: null, cancelledAt: null } },
        { upsert: true },
      );
    } catch (error) {
      // A newer (or the same) version is stored: the filter missed and the upsert collided on _id.
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
    }
    // The instants only come with their own events; set whatever the order of arrival.
    const deliveredAt = event.type === 'order.delivered' ? (dateOf(data.deliveredAt) ?? at) : null;
    const cancelledAt = event.type === 'order.cancelled' ? at : null;
    if (deliveredAt) await this.entries.updateOne({ _id: s.orderId }, { $set: { deliveredAt } });
    if (cancelledAt) await this.entries.updateOne({ _id: s.orderId }, { $set: { cancelledAt } });
  }
}
