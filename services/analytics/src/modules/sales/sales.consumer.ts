import { z } from 'zod';
import { PoisonEventError, type CloudEvent, type EventConsumer } from '@crm/events';
import type { Connection } from '@crm/mongo';
import { incDiff, settlePending, settlePendingMany, type PendingChange } from '../read-model/read-model.pending.js';
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

type OrderData = z.infer<typeof orderData>;

function parseOrder(event: CloudEvent): OrderData {
  const parsed = orderData.safeParse(event.data);
  if (!parsed.success) throw new PoisonEventError(`${event.type} ${event.id}: ${parsed.error.issues.map((i) => i.path.join('.') || 'data').join(', ')} invalid`);
  return parsed.data;
}

/** The fact after one event (no pending changes yet); `previous` gives the instant the order was placed. */
function nextFact(previous: Pick<OrderFactRecord, 'placedAt'> | null, data: OrderData, event: CloudEvent): Omit<OrderFactRecord, 'pending'> {
  const fact: Omit<OrderFactRecord, 'pending'> = {
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
    placedAt: previous?.placedAt ?? new Date(event.time ?? Date.now()),
    counted: isCounted(data.status, data.paymentStatus),
    contribution: null,
    updatedAt: new Date(event.time ?? Date.now()),
  };
  fact.contribution = contributionOf(fact);
  return fact;
}

const settleHooks = (connection: Connection) => ({ recompute: (change: PendingChange) => recomputeOrderDates(connection, change.key) });

/**
 * Folds one order event into the order facts and, through them, into sales days and customer values.
 * Idempotent and order-safe per order: an event whose version is not newer than the fact's only
 * finishes the fact's pending changes.
 */
export async function applyOrderEvent(models: SalesModels, connection: Connection, event: CloudEvent): Promise<void> {
  const data = parseOrder(event);
  const settle = (fact: OrderFactRecord) => settlePending(connection, ORDER_FACTS, fact, settleHooks(connection));
  const existing = await models.orderFacts.findById(data.orderId).lean<OrderFactRecord>().exec();
  if (existing && existing.version >= data.version) return settle(existing);
  if (existing?.pending?.length) await settle(existing);
  const next = nextFact(existing, data, event);
  const pending = changesBetween(`${data.orderId}:${data.version}`, existing?.contribution ?? null, next.contribution, next.placedAt);
  const fact: OrderFactRecord = { ...next, pending };
  if (existing) {
    const written = await models.orderFacts.collection.updateOne({ _id: data.orderId, version: existing.version } as never, { $set: fact } as never);
    if (written.matchedCount === 0) throw new Error(`order fact ${data.orderId} changed while it was being updated; retrying`);
  } else {
    await models.orderFacts.collection.insertOne(fact as never);
  }
  await settle(fact);
}

/**
 * {@link applyOrderEvent} for a batch of one partition's events: each order's events are folded in
 * memory (newest version wins), its facts written in one bulk write, and the changes to sales days and
 * customer values merged per document (a busy day is one update per batch, not one per order). The
 * same op ids as event by event (`<order>:<version>`), so a retry or a later single event stays exact.
 */
export async function applyOrderEvents(models: SalesModels, connection: Connection, events: CloudEvent[]): Promise<void> {
  const byOrder = new Map<string, Array<{ event: CloudEvent; data: OrderData }>>();
  for (const event of events) {
    const data = parseOrder(event);
    byOrder.set(data.orderId, [...(byOrder.get(data.orderId) ?? []), { event, data }]);
  }
  // One lookup per order, 16 at a time: FerretDB v1 serves `_id` equality from the index but scans for
  // `$in`, and more concurrent requests than its PostgreSQL pool holds can wedge it.
  const existing = new Map<string, OrderFactRecord | null>();
  const ids = [...byOrder.keys()];
  for (let i = 0; i < ids.length; i += 16) {
    const chunk = ids.slice(i, i + 16);
    const found = await Promise.all(chunk.map((id) => models.orderFacts.findById(id).lean<OrderFactRecord>().exec()));
    chunk.forEach((id, k) => existing.set(id, found[k] ?? null));
  }
  // Changes a crash left behind are finished first, so each fact's contribution below is what counts now.
  const leftovers = [...existing.values()].filter((f): f is OrderFactRecord => Boolean(f?.pending?.length));
  await settlePendingMany(connection, ORDER_FACTS, leftovers, settleHooks(connection));

  const writes: unknown[] = [];
  const facts: OrderFactRecord[] = [];
  for (const [orderId, list] of byOrder) {
    const before = existing.get(orderId) ?? null;
    let current: Omit<OrderFactRecord, 'pending'> | null = before;
    for (const { event, data } of list) if (!current || data.version > current.version) current = nextFact(current, data, event);
    if (!current || current === before) continue;
    const fact: OrderFactRecord = { ...current, pending: changesBetween(`${orderId}:${current.version}`, before?.contribution ?? null, current.contribution, current.placedAt) };
    writes.push(before ? { updateOne: { filter: { _id: orderId, version: before.version }, update: { $set: fact } } } : { insertOne: { document: fact } });
    facts.push(fact);
  }
  if (!writes.length) return;
  const result = await models.orderFacts.collection.bulkWrite(writes as never, { ordered: false });
  if (result.matchedCount + result.insertedCount !== writes.length) throw new Error('order facts changed while a batch was written; retrying');
  await settlePendingMany(connection, ORDER_FACTS, facts, settleHooks(connection));
}

export function createSalesConsumer(factory: ReadModelConsumerFactory, models: SalesModels, connection: Connection): EventConsumer {
  return factory.create('sales', ['order'], ORDER_EVENT_TYPES, (event) => applyOrderEvent(models, connection, event), (events) => applyOrderEvents(models, connection, events));
}
