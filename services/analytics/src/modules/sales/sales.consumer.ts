import { z } from 'zod';
import { PoisonEventError, type CloudEvent, type EventConsumer } from '@crm/events';
import type { Connection } from '@crm/mongo';
import { incDiff, settlePending, type PendingChange } from '../read-model/read-model.pending.js';
import type { ReadModelConsumerFactory } from '../read-model/read-model.consumers.js';
import { utcSlotOf } from '../read-model/zoned-time.js';
import { CUSTOMER_VALUES, recomputeOrderDates } from '../customer-value/customer-value.model.js';
import { ORDER_FACTS, SALES_DAYS, type Contribution, type OrderFactRecord, type SalesModels } from './sales.model.js';

const money = z.object({ amountMinor: z.number().int().safe(), currency: z.string().regex(/^[A-Z]{3}$/) });
/** The fields of sales' order events analytics uses (services/sales order.events.ts). */
const orderData = z.object({
  orderId: z.string().min(1),
  customerId: z.string().min(1),
  ownerId: z.string().min(1),
  department: z.string().nullable(),
  campaignCode: z.string().nullable(),
  status: z.string().min(1),
  paymentStatus: z.string().min(1),
  currency: z.string().regex(/^[A-Z]{3}$/),
  lines: z.array(z.object({ productId: z.string().min(1), quantity: z.number().int().positive(), lineTotal: money })),
  totals: z.object({ total: money }),
  version: z.number().int().nonnegative(),
});

export const ORDER_EVENT_TYPES = ['order.placed', 'order.updated', 'order.approved', 'order.rejected', 'order.shipped', 'order.delivered', 'order.payment-recorded', 'order.paid', 'order.refunded', 'order.cancelled'];

/** Sales counts an order from the moment it is placed, unless it was rejected, cancelled or refunded. */
export function isCounted(status: string, paymentStatus: string): boolean {
  return status !== 'REJECTED' && status !== 'CANCELLED' && paymentStatus !== 'REFUNDED';
}

function contributionOf(fact: Pick<OrderFactRecord, 'customerId' | 'currency' | 'totalMinor' | 'placedAt' | 'counted'>): Contribution | null {
  if (!fact.counted) return null;
  const { day, slot } = utcSlotOf(fact.placedAt.getTime());
  const month = day.slice(0, 6);
  return {
    salesDay: `${fact.currency}|${day}`,
    salesInc: { [`a/${slot}`]: fact.totalMinor, [`n/${slot}`]: 1 },
    customerId: fact.customerId,
    customerInc: { orders: 1, [`amount/${fact.currency}`]: fact.totalMinor, [`m/${month}/n`]: 1, [`m/${month}/${fact.currency}`]: fact.totalMinor },
  };
}

/** The aggregate changes that turn `before`'s contribution into `after`'s. */
export function changesBetween(opPrefix: string, before: Contribution | null, after: Contribution | null, placedAt: Date): PendingChange[] {
  const changes: PendingChange[] = [];
  const add = (collection: string, key: string, inc: Record<string, number>, extra: Partial<PendingChange> = {}) => {
    if (Object.keys(inc).length || extra.max || extra.recompute) changes.push({ opId: `${opPrefix}:${changes.length}`, collection, key, inc, ...extra });
  };
  if (before && after && before.salesDay === after.salesDay) add(SALES_DAYS, after.salesDay, incDiff(after.salesInc, before.salesInc));
  else {
    if (before) add(SALES_DAYS, before.salesDay, incDiff({}, before.salesInc));
    if (after) add(SALES_DAYS, after.salesDay, after.salesInc);
  }
  const dates = { max: { lastOrderAt: placedAt }, min: { firstOrderAt: placedAt } };
  if (before && after && before.customerId === after.customerId) {
    const inc = incDiff(after.customerInc, before.customerInc);
    if (Object.keys(inc).length) add(CUSTOMER_VALUES, after.customerId, inc, dates);
  } else {
    if (before) add(CUSTOMER_VALUES, before.customerId, incDiff({}, before.customerInc), { recompute: true });
    if (after) add(CUSTOMER_VALUES, after.customerId, after.customerInc, dates);
  }
  return changes;
}

/**
 * Folds one order event into the order facts and, through them, into sales days and customer values.
 * Idempotent and order-safe per order: an event whose version is not newer than the fact's only
 * finishes the fact's pending changes.
 */
export async function applyOrderEvent(models: SalesModels, connection: Connection, event: CloudEvent): Promise<void> {
  const parsed = orderData.safeParse(event.data);
  if (!parsed.success) throw new PoisonEventError(`${event.type} ${event.id}: ${parsed.error.issues.map((i) => i.path.join('.') || 'data').join(', ')} invalid`);
  const data = parsed.data;
  const settle = (fact: OrderFactRecord) => settlePending(connection, ORDER_FACTS, fact, { recompute: (change) => recomputeOrderDates(connection, change.key) });
  const existing = await models.orderFacts.findById(data.orderId).lean<OrderFactRecord>().exec();
  if (existing && existing.version >= data.version) return settle(existing);
  if (existing?.pending?.length) await settle(existing);

  const placedAt = existing?.placedAt ?? new Date(event.time ?? Date.now());
  const next: Omit<OrderFactRecord, 'pending'> = {
    _id: data.orderId,
    version: data.version,
    customerId: data.customerId,
    ownerId: data.ownerId,
    department: data.department,
    campaignCode: data.campaignCode,
    status: data.status,
    paymentStatus: data.paymentStatus,
    currency: data.currency,
    totalMinor: data.totals.total.amountMinor,
    lines: data.lines.map((l) => ({ productId: l.productId, quantity: l.quantity, lineTotalMinor: l.lineTotal.amountMinor })),
    placedAt,
    counted: isCounted(data.status, data.paymentStatus),
    contribution: null,
    updatedAt: new Date(event.time ?? Date.now()),
  };
  next.contribution = contributionOf(next);
  const pending = changesBetween(`${data.orderId}:${data.version}`, existing?.contribution ?? null, next.contribution, placedAt);
  const fact: OrderFactRecord = { ...next, pending };
  if (existing) {
    const written = await models.orderFacts.collection.updateOne({ _id: data.orderId, version: existing.version } as never, { $set: fact } as never);
    if (written.matchedCount === 0) throw new Error(`order fact ${data.orderId} changed while it was being updated; retrying`);
  } else {
    await models.orderFacts.collection.insertOne(fact as never);
  }
  await settle(fact);
}

export function createSalesConsumer(factory: ReadModelConsumerFactory, models: SalesModels, connection: Connection): EventConsumer {
  return factory.create('sales', ['order'], ORDER_EVENT_TYPES, (event) => applyOrderEvent(models, connection, event));
}
