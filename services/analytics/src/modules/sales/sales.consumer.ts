import { z } from 'zod';
import { PoisonEventError, type CloudEvent, type EventConsumer } from '@crm/events';
import { findByIds, type Connection } from '@crm/mongo';
import { incDiff, settlePending, type PendingChange } from '../read-model/read-model.pending.js';
import type { ReadModelConsumerFactory } from '../read-model/read-model.consumers.js';
import { periodOf, utcSlotOf } from '../read-model/zoned-time.js';
import { DEFAULT_TIME_ZONE } from '../report/report.range.js';
import { CUSTOMER_MONTHS, CUSTOMER_VALUES, recomputeOrderDates } from '../customer-value/customer-value.model.js';
import { ORDER_FACTS, SALES_DAYS, SALES_PERIODS, type Contribution, type OrderFactRecord, type SalesModels } from './sales.model.js';

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

/** Reporting zones (`ANALYTICS_TIME_ZONES`) whose local days, months and years are kept as sums. */
export type ReportingZones = readonly string[];

function contributionOf(fact: Pick<OrderFactRecord, 'customerId' | 'currency' | 'totalMinor' | 'placedAt' | 'counted'>, zones: ReportingZones): Contribution | null {
  if (!fact.counted) return null;
  const instant = fact.placedAt.getTime();
  const { day, slot } = utcSlotOf(instant);
  const month = day.slice(0, 6);
  const cur = fact.currency;
  const periods = zones.flatMap((zone) => (['DAY', 'MONTH', 'YEAR'] as const).map((g) => ({ collection: SALES_PERIODS, key: `${cur}|${zone}|${periodOf(instant, zone, g)}`, inc: { a: fact.totalMinor, n: 1 } })));
  return {
    customerId: fact.customerId,
    targets: [
      { collection: SALES_DAYS, key: `${cur}|${day}`, inc: { [`a/${slot}`]: fact.totalMinor, [`n/${slot}`]: 1 } },
      ...periods,
      { collection: CUSTOMER_VALUES, key: fact.customerId, inc: { orders: 1, [`amount/${cur}`]: fact.totalMinor } },
      { collection: CUSTOMER_MONTHS, key: fact.customerId, inc: { [`m/${month}/n`]: 1, [`m/${month}/${cur}`]: fact.totalMinor } },
    ],
  };
}

/** Order facts written before the targets list (sales day + customer value with months) read as targets. */
function targetsOf(contribution: Contribution | null): Contribution['targets'] {
  if (!contribution) return [];
  const legacy = contribution as unknown as { salesDay?: string; salesInc?: Record<string, number>; customerInc?: Record<string, number> };
  if (!legacy.salesDay) return contribution.targets;
  return [{ collection: SALES_DAYS, key: legacy.salesDay, inc: legacy.salesInc ?? {} }, { collection: CUSTOMER_VALUES, key: contribution.customerId, inc: legacy.customerInc ?? {} }];
}

/**
 * The aggregate changes that turn `before`'s contribution into `after`'s: per target document the
 * difference of the increments. The customer's value also moves its first/last order (`$min`/`$max`)
 * when the order counts for it after, or derives them again when it no longer does.
 */
export function changesBetween(opPrefix: string, before: Contribution | null, after: Contribution | null, placedAt: Date): PendingChange[] {
  const changes: PendingChange[] = [];
  const id = (t: { collection: string; key: string }) => `${t.collection}\u0000${t.key}`;
  const was = new Map(targetsOf(before).map((t) => [id(t), t]));
  const now = new Map(targetsOf(after).map((t) => [id(t), t]));
  for (const key of new Set([...was.keys(), ...now.keys()])) {
    const target = (now.get(key) ?? was.get(key))!;
    const inc = incDiff(now.get(key)?.inc ?? {}, was.get(key)?.inc ?? {});
    const extra: Partial<PendingChange> = {};
    if (target.collection === CUSTOMER_VALUES) {
      if (now.has(key)) Object.assign(extra, { max: { lastOrderAt: placedAt }, min: { firstOrderAt: placedAt } });
      else extra.recompute = true;
      if (now.has(key) && was.has(key) && !Object.keys(inc).length) continue;
    } else if (!Object.keys(inc).length) continue;
    changes.push({ opId: `${opPrefix}:${changes.length}`, collection: target.collection, key: target.key, inc, ...extra });
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
function nextFact(previous: Pick<OrderFactRecord, 'placedAt'> | null, data: OrderData, event: CloudEvent, zones: ReportingZones): Omit<OrderFactRecord, 'pending'> {
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
  fact.contribution = contributionOf(fact, zones);
  return fact;
}

const settleHooks = (connection: Connection) => ({ recompute: (change: PendingChange) => recomputeOrderDates(connection, change.key) });

/**
 * Folds one order event into the order facts and, through them, into sales days and customer values
 * (a batch of one, see {@link applyOrderEvents}). Idempotent and order-safe per order: an event whose
 * version is not newer than the fact's only finishes the fact's pending changes.
 */
export function applyOrderEvent(models: SalesModels, connection: Connection, event: CloudEvent, zones: ReportingZones = [DEFAULT_TIME_ZONE]): Promise<void> {
  return applyOrderEvents(models, connection, [event], zones);
}

/**
 * Folds a batch of one partition's order events: each order's events are folded in memory (newest
 * version wins), its facts written in one bulk write, and the changes to sales days and customer
 * values merged per document (a busy day is one update per batch, not one per order). Op ids are
 * `<order>:<version>:<n>` whatever the batch, so a retry or a later single event stays exact.
 */
export async function applyOrderEvents(models: SalesModels, connection: Connection, events: CloudEvent[], zones: ReportingZones = [DEFAULT_TIME_ZONE]): Promise<void> {
  const byOrder = new Map<string, Array<{ event: CloudEvent; data: OrderData }>>();
  for (const event of events) {
    const data = parseOrder(event);
    byOrder.set(data.orderId, [...(byOrder.get(data.orderId) ?? []), { event, data }]);
  }
  const found = await findByIds<OrderFactRecord>(models.orderFacts, [...byOrder.keys()], undefined, { pointLookups: true });
  const existing = new Map<string, OrderFactRecord | null>(found.map((f) => [f._id, f]));
  // Changes a crash left behind are finished first, so each fact's contribution below is what counts now.
  const leftovers = [...existing.values()].filter((f): f is OrderFactRecord => Boolean(f?.pending?.length));
  await settlePending(connection, ORDER_FACTS, leftovers, settleHooks(connection));

  const writes: unknown[] = [];
  const facts: OrderFactRecord[] = [];
  for (const [orderId, list] of byOrder) {
    const before = existing.get(orderId) ?? null;
    let current: Omit<OrderFactRecord, 'pending'> | null = before;
    for (const { event, data } of list) if (!current || data.version > current.version) current = nextFact(current, data, event, zones);
    if (!current || current === before) continue;
    const fact: OrderFactRecord = { ...current, pending: changesBetween(`${orderId}:${current.version}`, before?.contribution ?? null, current.contribution, current.placedAt) };
    writes.push(before ? { updateOne: { filter: { _id: orderId, version: before.version }, update: { $set: fact } } } : { insertOne: { document: fact } });
    facts.push(fact);
  }
  if (!writes.length) return;
  const result = await models.orderFacts.collection.bulkWrite(writes as never, { ordered: false });
  if (result.matchedCount + result.insertedCount !== writes.length) throw new Error('order facts changed while a batch was written; retrying');
  await settlePending(connection, ORDER_FACTS, facts, settleHooks(connection));
}

export function createSalesConsumer(factory: ReadModelConsumerFactory, models: SalesModels, connection: Connection, zones: ReportingZones): EventConsumer {
  return factory.create('sales', ['order'], ORDER_EVENT_TYPES, (event) => applyOrderEvent(models, connection, event, zones), (events) => applyOrderEvents(models, connection, events, zones));
}
