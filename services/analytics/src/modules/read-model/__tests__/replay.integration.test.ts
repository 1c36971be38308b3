import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { createEvent, KafkaClient, KafkaEventPublisher, type CloudEvent } from '@crm/events';
import { createLogger } from '@crm/logger';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startAnalytics } from '../../../app.js';
import { analyticsEnvSchema } from '../../../env.js';

/**
 * A generated history of customers, orders, tickets, leads and opportunities is published to real
 * Kafka (with duplicates, an out-of-order pair, cancellations, refunds and a merge); every figure the
 * reports give is compared with one computed here directly from the same data, before and after a
 * rebuild that replays the topics from the start.
 */
const infra = await testInfra();
const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'analytics'), ANALYTICS_GROUP_PREFIX: uniqueName('analytics-replay'), ANALYTICS_JOB_INTERVAL_MS: '0', PATTERNS_WINDOW_DAYS: '3660', CUSTOMER_CLUSTERS: '4' };
const running = await startAnalytics(parseEnv(analyticsEnvSchema, rawEnv));
const [analyst, admin, customerToken] = await Promise.all([login(infra, 'analyst'), login(infra, 'admin'), login(infra, 'customer')]);
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = analyst) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET));
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('replay-test'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: rawEnv.KAFKA_TOPIC_PREFIX });
const publisher = new KafkaEventPublisher(kafka);
const churnTopic = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.analytics`);
const orderDlq = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.order.dlq`);

afterAll(async () => {
  await churnTopic.stop();
  await orderDlq.stop();
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

// A small deterministic generator (mulberry32), so a failure can be replayed exactly.
let seed = 20261122;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T,>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const hex = (prefix: string, n: number) => `${prefix}${String(n).padStart(24 - prefix.length, '0')}`;

const PLACES = [['中国', '广东', '深圳'], ['中国', '广东', '广州'], ['中国', '浙江', '杭州'], ['中国', '北京', '北京'], ['USA', 'CA', 'San Francisco']] as const;
const PRODUCTS = Array.from({ length: 8 }, (_, i) => hex('p', i));
const YEAR_START = Date.UTC(2025, 0, 1) - 8 * 3600_000; // 2025-01-01T00:00 in Asia/Shanghai

interface Order { id: string; customerId: string; placedAt: Date; lines: { productId: string; quantity: number; lineTotalMinor: number }[]; totalMinor: number; currency: string; status: string; paymentStatus: string; campaignCode: string | null; version: number }
const customers = Array.from({ length: 30 }, (_, i) => ({ id: hex('c', i), place: pick(PLACES) }));
const orders: Order[] = [];
const events: CloudEvent[] = [];

const customerEvent = (type: string, c: { id: string; place: readonly string[] }, extra: Record<string, unknown> = {}, version = 1) =>
  createEvent({ source: '/crm/customers', type, subject: c.id, time: new Date(YEAR_START), data: { customerId: c.id, name: 'n', organization: null, lifecycleStage: 'CUSTOMER', level: null, source: null, tags: [], ownerId: 'u1', department: 'sales', country: c.place[0], province: c.place[1], city: c.place[2], createdAt: new Date(YEAR_START).toISOString(), version, ...extra } });
const orderEvent = (type: string, o: Order, time: Date) =>
  createEvent({
    source: '/crm/sales',
    type,
    subject: o.id,
    time,
    data: {
      orderId: o.id, customerId: o.customerId, ownerId: 'u1', department: 'sales', quoteId: null, campaignCode: o.campaignCode, status: o.status, paymentStatus: o.paymentStatus, currency: o.currency,
      lines: o.lines.map((l) => ({ productId: l.productId, sku: 'S', quantity: l.quantity, unitPrice: { amountMinor: l.lineTotalMinor / l.quantity, currency: o.currency }, lineTotal: { amountMinor: l.lineTotalMinor, currency: o.currency } })),
      totals: { total: { amountMinor: o.totalMinor, currency: o.currency } }, paidAmount: { amountMinor: 0, currency: o.currency }, version: o.version,
    },
  });

for (const c of customers) events.push(customerEvent('customer.created', c));
for (let i = 0; i < 160; i += 1) {
  const lines = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
    const quantity = 1 + Math.floor(random() * 3);
    return { productId: pick(PRODUCTS), quantity, lineTotalMinor: quantity * (100 + Math.floor(random() * 5000)) * 100 };
  });
  const order: Order = {
    id: hex('o', i), customerId: pick(customers).id, placedAt: new Date(YEAR_START + Math.floor(random() * 365 * 86_400_000)), lines, totalMinor: lines.reduce((s, l) => s + l.lineTotalMinor, 0),
    currency: i % 17 === 0 ? 'USD' : 'CNY', status: 'APPROVED', paymentStatus: 'UNPAID', campaignCode: i % 5 === 0 ? 'SPRING' : null, version: 1,
  };
  orders.push(order);
  events.push(orderEvent('order.placed', order, order.placedAt));
  const later = new Date(order.placedAt.getTime() + 3600_000);
  const roll = random();
  if (roll < 0.1) events.push(orderEvent('order.cancelled', Object.assign(order, { status: 'CANCELLED', version: 2 }), later));
  else if (roll < 0.15) events.push(orderEvent('order.refunded', Object.assign(order, { paymentStatus: 'REFUNDED', version: 2 }), later));
  else if (roll < 0.6) events.push(orderEvent('order.paid', Object.assign(order, { paymentStatus: 'PAID', version: 2 }), later));
}
// customer 1 merged into customer 0: its orders are re-pointed by sales (order.updated, a new version).
const [survivor, mergedAway] = [customers[0]!, customers[1]!];
events.push(customerEvent('customer.merged', survivor, { survivorId: survivor.id, mergedId: mergedAway.id }, 2));
for (const o of orders.filter((x) => x.customerId === mergedAway.id)) {
  o.customerId = survivor.id;
  o.version += 1;
  events.push(orderEvent('order.updated', o, new Date(o.placedAt.getTime() + 7200_000)));
}
// Out of order: a newer event of one order arrives before an older one.
const late = orders[3]!;
const newer = orderEvent('order.delivered', Object.assign(late, { status: 'DELIVERED', version: late.version + 5 }), new Date(late.placedAt.getTime() + 9 * 86_400_000));
const older = orderEvent('order.shipped', { ...late, status: 'SHIPPED', version: late.version - 1 }, new Date(late.placedAt.getTime() + 86_400_000));
events.push(newer, older);

// Tickets: opened, answered, resolved, rated; customer 5 has open complaints and poor ratings.
interface Ticket { id: string; customerId: string; productId: string | null; type: string; openedAt: Date; firstResponseAt: Date | null; resolvedAt: Date | null; rating: number | null }
const tickets: Ticket[] = [];
const TYPES = ['CONSULTATION', 'COMPLAINT', 'AFTER_SALES', 'TECHNICAL'] as const;
for (let i = 0; i < 40; i += 1) {
  const openedAt = new Date(YEAR_START + Math.floor(random() * 365 * 86_400_000));
  const answered = random() < 0.8;
  const resolved = answered && random() < 0.7;
  tickets.push({ id: hex('t', i), customerId: i < 3 ? customers[5]!.id : pick(customers).id, productId: random() < 0.8 ? pick(PRODUCTS) : null, type: i < 3 ? 'COMPLAINT' : pick(TYPES), openedAt, firstResponseAt: answered ? new Date(openedAt.getTime() + Math.floor(random() * 600) * 60_000) : null, resolvedAt: null, rating: null });
  const t = tickets.at(-1)!;
  if (i >= 3 && resolved) t.resolvedAt = new Date(openedAt.getTime() + Math.floor(600 + random() * 5000) * 60_000);
  if (i < 3 || (resolved && random() < 0.6)) t.rating = i < 3 ? 1 : 1 + Math.floor(random() * 5);
}
const ticketData = (t: Ticket, version: number, status: string) => ({ ticketId: t.id, customerId: t.customerId, productId: t.productId, orderId: null, type: t.type, priority: 'NORMAL', channel: 'WEB', status, queueId: null, assigneeId: null, version, createdAt: t.openedAt.toISOString(), firstResponseAt: t.firstResponseAt?.toISOString() ?? null, resolvedAt: t.resolvedAt?.toISOString() ?? null });
for (const t of tickets) {
  events.push(createEvent({ source: '/crm/service-desk', type: 'ticket.opened', subject: t.id, time: t.openedAt, data: { ...ticketData({ ...t, firstResponseAt: null, resolvedAt: null }, 1, 'NEW') } }));
  if (t.firstResponseAt) events.push(createEvent({ source: '/crm/service-desk', type: 'ticket.commented', subject: t.id, time: t.firstResponseAt, data: ticketData({ ...t, resolvedAt: null }, 2, 'IN_PROGRESS') }));
  if (t.resolvedAt) events.push(createEvent({ source: '/crm/service-desk', type: 'ticket.resolved', subject: t.id, time: t.resolvedAt, data: ticketData(t, 3, 'RESOLVED') }));
  if (t.rating) events.push(createEvent({ source: '/crm/service-desk', type: 'satisfaction.rated', subject: t.id, time: t.resolvedAt ?? t.openedAt, data: { ...ticketData(t, 4, t.resolvedAt ? 'RESOLVED' : 'IN_PROGRESS'), rating: t.rating, ratedAt: (t.resolvedAt ?? t.openedAt).toISOString() } }));
}

// Leads and opportunities: 30 leads, 12 converted with an opportunity, 5 of those won.
const leads = Array.from({ length: 30 }, (_, i) => ({ id: hex('l', i), source: pick(['WEBSITE', 'EVENT', 'CAMPAIGN'] as const), createdAt: new Date(YEAR_START + Math.floor(random() * 365 * 86_400_000)), campaignCode: i % 4 === 0 ? 'SPRING' : null, opportunity: i < 12 ? hex('y', i) : null, won: i < 5 }));
for (const l of leads) {
  const lead = { leadId: l.id, name: 'x', company: null, source: l.source, campaignCode: l.campaignCode, status: 'NEW', ownerId: 'u1', department: 'sales', ownerTeams: [], createdAt: l.createdAt.toISOString(), version: 1 };
  events.push(createEvent({ source: '/crm/sales', type: 'lead.created', subject: l.id, time: l.createdAt, data: lead }));
  if (!l.opportunity) continue;
  const at = new Date(l.createdAt.getTime() + 86_400_000);
  events.push(createEvent({ source: '/crm/sales', type: 'lead.converted', subject: l.id, time: at, data: { ...lead, status: 'CONVERTED', version: 2, customerId: customers[2]!.id, newCustomer: false, contact: null, notes: null, opportunityId: l.opportunity, convertedBy: 'u1', convertedAt: at.toISOString() } }));
  const opportunity = { opportunityId: l.opportunity, name: 'o', customerId: customers[2]!.id, leadId: l.id, ownerId: 'u1', department: 'sales', ownerTeams: [], amount: { amountMinor: 1_000_000, currency: 'CNY' }, stage: 'qualify', status: 'OPEN', probability: 10, expectedCloseDate: at.toISOString(), priority: 'NORMAL', competitors: [], campaignCode: l.campaignCode, closedAt: null, version: 1 };
  events.push(createEvent({ source: '/crm/sales', type: 'opportunity.created', subject: l.opportunity, time: at, data: opportunity }));
  if (l.won) events.push(createEvent({ source: '/crm/sales', type: 'opportunity.won', subject: l.opportunity, time: at, data: { ...opportunity, status: 'WON', version: 2, closedAt: at.toISOString(), reason: null } }));
}

// ---- the same figures, computed directly from the generated data ----
const localMonth = (d: Date) => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 7);
const counted = orders.filter((o) => o.status !== 'CANCELLED' && o.paymentStatus !== 'REFUNDED');
const cny = counted.filter((o) => o.currency === 'CNY');
function expectedMonths() {
  const months = new Map<string, { amount: number; orders: number }>();
  for (let m = 1; m <= 12; m += 1) months.set(`2025-${String(m).padStart(2, '0')}`, { amount: 0, orders: 0 });
  for (const o of cny) {
    const m = months.get(localMonth(o.placedAt));
    if (m) {
      m.amount += o.totalMinor;
      m.orders += 1;
    }
  }
  return [...months.entries()].map(([period, v]) => ({ period, amount: { amountMinor: v.amount }, orders: v.orders }));
}

const REPORTS = `query Reports {
  year: salesTrend(from: "2025-01-01", to: "2025-12-31", granularity: MONTH) { points { period amount { amountMinor currency } orders } total { amountMinor } orders }
  ny: salesTrend(from: "2024-12-31", to: "2025-12-31", granularity: YEAR, timeZone: "America/New_York") { points { period amount { amountMinor } orders } }
  products: salesComposition(by: PRODUCT, from: "2025-01-01", to: "2025-12-31", top: 3) { total { amountMinor } orders rows { key amount { amountMinor } quantity share } rest { count amount { amountMinor } } }
  buyers: salesComposition(by: CUSTOMER, from: "2025-01-01", to: "2025-12-31", top: 5) { rows { key amount { amountMinor } orders } rest { count amount { amountMinor } } }
  provinces: customerDistribution(level: PROVINCE, country: "中国") { total rows { key customers orders amount { amountMinor } } }
  bands: customerValueDistribution { byOrders { band customers amount { amountMinor } } }
  service: serviceTrend(from: "2025-01-01", to: "2025-12-31", granularity: MONTH) { opened resolved points { period opened resolved } }
  types: serviceComposition(by: TYPE, from: "2025-01-01", to: "2025-12-31") { total rows { key count } }
  times: serviceTimes(from: "2025-01-01", to: "2025-12-31") { tickets firstResponse { count averageMinutes medianMinutes } resolution { count averageMinutes } satisfaction { count average distribution } }
  funnel: salesFunnel(from: "2025-01-01", to: "2025-12-31") { total { leads opportunities won wonAmount { amountMinor } leadToWon } sources { key leads } }
  campaigns: campaignEffect(from: "2025-01-01", to: "2025-12-31") { rows { campaignCode leads opportunities won orders revenue { amountMinor } } }
  stats: customerStats { totalCustomers }
}`;

/** Every distinct event published so far has been handled (each group records the ids it processed). */
async function reportsWhenCaughtUp(extra = 0) {
  const processed = running.deps.connection.collection('processed_events');
  await eventually(async () => (await processed.countDocuments({ groupId: { $regex: `^${rawEnv.ANALYTICS_GROUP_PREFIX}` } })) === events.length + extra, 120_000, 500);
  const { data, errors } = await call(REPORTS);
  expect(errors).toBeUndefined();
  return data!;
}

describe('analytics read models replayed from real Kafka', () => {
  let first: Record<string, any>;

  it('gives the figures computed directly from the generated history, despite duplicates and out-of-order events', { timeout: 180_000 }, async () => {
    await publisher.publish(events);
    await publisher.publish(events.slice(0, 40)); // redelivered: nothing may count twice
    first = await reportsWhenCaughtUp();

    expect(first.year.points.map((p: any) => ({ period: p.period, amount: { amountMinor: p.amount.amountMinor }, orders: p.orders }))).toEqual(expectedMonths());
    expect(first.year.total.amountMinor).toBe(cny.reduce((s, o) => s + o.totalMinor, 0));
    // New York: the same orders, cut by that zone's calendar years.
    const nyYear = (d: Date) => new Date(d.getTime() + (new Date(d).toLocaleString('en-US', { timeZone: 'America/New_York', timeZoneName: 'short' }).includes('EDT') ? -4 : -5) * 3600_000).getUTCFullYear();
    const ny2024 = cny.filter((o) => nyYear(o.placedAt) === 2024);
    expect(first.ny.points[0]).toEqual({ period: '2024', amount: { amountMinor: ny2024.reduce((s, o) => s + o.totalMinor, 0) }, orders: ny2024.length });
    expect(first.ny.points[1].orders).toBe(cny.length - ny2024.length);

    const byProduct = new Map<string, { amount: number; quantity: number }>();
    for (const o of cny) for (const l of o.lines) {
      const p = byProduct.get(l.productId) ?? { amount: 0, quantity: 0 };
      p.amount += l.lineTotalMinor;
      p.quantity += l.quantity;
      byProduct.set(l.productId, p);
    }
    const ranked = [...byProduct.entries()].sort((a, b) => b[1].amount - a[1].amount || a[0].localeCompare(b[0]));
    expect(first.products.rows.map((r: any) => [r.key, r.amount.amountMinor, r.quantity])).toEqual(ranked.slice(0, 3).map(([k, v]) => [k, v.amount, v.quantity]));
    expect(first.products.rest).toEqual({ count: ranked.length - 3, amount: { amountMinor: ranked.slice(3).reduce((s, [, v]) => s + v.amount, 0) } });

    const byCustomer = new Map<string, { amount: number; orders: number }>();
    for (const o of cny) {
      const c = byCustomer.get(o.customerId) ?? { amount: 0, orders: 0 };
      c.amount += o.totalMinor;
      c.orders += 1;
      byCustomer.set(o.customerId, c);
    }
    const buyers = [...byCustomer.entries()].sort((a, b) => b[1].amount - a[1].amount || a[0].localeCompare(b[0]));
    expect(first.buyers.rows.map((r: any) => [r.key, r.amount.amountMinor, r.orders])).toEqual(buyers.slice(0, 5).map(([k, v]) => [k, v.amount, v.orders]));
    expect(byCustomer.has(mergedAway.id)).toBe(false);
    expect(first.buyers.rows.concat().some((r: any) => r.key === mergedAway.id)).toBe(false);

    const live = customers.filter((c) => c.id !== mergedAway.id && c.place[0] === '中国');
    const provinces = new Map<string, { customers: number; orders: number; amount: number }>();
    for (const c of live) {
      const p = provinces.get(c.place[1]) ?? { customers: 0, orders: 0, amount: 0 };
      p.customers += 1;
      p.orders += counted.filter((o) => o.customerId === c.id).length;
      p.amount += cny.filter((o) => o.customerId === c.id).reduce((s, o) => s + o.totalMinor, 0);
      provinces.set(c.place[1], p);
    }
    expect(first.provinces.total).toBe(live.length);
    expect(Object.fromEntries(first.provinces.rows.map((r: any) => [r.key, { customers: r.customers, orders: r.orders, amount: r.amount.amountMinor }]))).toEqual(Object.fromEntries(provinces));

    expect(first.service.opened).toBe(tickets.length);
    expect(first.service.resolved).toBe(tickets.filter((t) => t.resolvedAt && t.resolvedAt.getTime() < Date.UTC(2025, 11, 31, 16)).length);
    const typeCounts = Object.fromEntries(TYPES.map((t) => [t, tickets.filter((x) => x.type === t).length]).filter(([, n]) => n));
    expect(Object.fromEntries(first.types.rows.map((r: any) => [r.key, r.count]))).toEqual(typeCounts);
    const answered = tickets.filter((t) => t.firstResponseAt).map((t) => (t.firstResponseAt!.getTime() - t.openedAt.getTime()) / 60_000);
    expect(first.times.firstResponse.count).toBe(answered.length);
    expect(first.times.firstResponse.averageMinutes).toBeCloseTo(answered.reduce((s, m) => s + m, 0) / answered.length, 1);
    const ratings = tickets.filter((t) => t.rating && (t.resolvedAt ?? t.openedAt).getTime() < Date.UTC(2025, 11, 31, 16)).map((t) => t.rating!);
    expect(first.times.satisfaction.distribution).toEqual([1, 2, 3, 4, 5].map((r) => ratings.filter((x) => x === r).length));

    expect(first.funnel.total).toEqual({ leads: 30, opportunities: 12, won: 5, wonAmount: { amountMinor: 5_000_000 }, leadToWon: Math.round((5 / 30) * 10_000) / 10_000 });
    const spring = first.campaigns.rows.find((r: any) => r.campaignCode === 'SPRING');
    const springOrders = cny.filter((o) => o.campaignCode === 'SPRING');
    // An opportunity counts in the range it was opened in (a day after its lead here).
    const opened = (l: (typeof leads)[number]) => l.createdAt.getTime() + 86_400_000 < Date.UTC(2025, 11, 31, 16);
    expect(spring).toEqual({ campaignCode: 'SPRING', leads: leads.filter((l) => l.campaignCode).length, opportunities: leads.filter((l) => l.campaignCode && l.opportunity && opened(l)).length, won: leads.filter((l) => l.campaignCode && l.won && opened(l)).length, orders: springOrders.length, revenue: { amountMinor: springOrders.reduce((s, o) => s + o.totalMinor, 0) } });
  });

  it('Customer.value: orders, spend, last order and lifetime value through the entity reference; churn warnings and the churn event after the scheduled run', { timeout: 60_000 }, async () => {
    const mine = cny.filter((o) => o.customerId === survivor.id);
    const { data } = await call<any>(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { value { orders revenue { amountMinor currency } lastOrderAt lifetimeValue { amountMinor } churnRisk { level } } } } }`, { r: [{ __typename: 'Customer', id: survivor.id }] });
    const value = (data as any)._entities[0].value;
    expect(value.orders).toBe(counted.filter((o) => o.customerId === survivor.id).length);
    expect(value.revenue.find((m: any) => m.currency === 'CNY').amountMinor).toBe(mine.reduce((s, o) => s + o.totalMinor, 0));
    expect(value.lastOrderAt).toBe(new Date(Math.max(...counted.filter((o) => o.customerId === survivor.id).map((o) => o.placedAt.getTime()))).toISOString());
    expect(value.lifetimeValue.amountMinor).toBeGreaterThan(0);

    const ran = await running.scheduler.tick(new Date());
    expect(ran['customer-value']).toBeGreaterThan(0); // present only when the job succeeded
    const { data: warned } = await call<any>(`{ churnWarnings(minLevel: LOW, first: 500) { customerId score level reasons } rfmTop(limit: 3) { customerId rfm { score segment } } }`);
    // Customer 5: three open complaints rated 1, and no order for most of a year.
    const { data: five } = await call<any>(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { value { churnRisk { score level reasons } } } } }`, { r: [{ __typename: 'Customer', id: customers[5]!.id }] });
    const risk = five._entities[0].value.churnRisk;
    const open = tickets.filter((t) => t.customerId === customers[5]!.id && t.type === 'COMPLAINT' && !t.resolvedAt).length;
    const rated = tickets.filter((t) => t.customerId === customers[5]!.id && t.rating).map((t) => t.rating!);
    expect(risk.reasons.join(' ')).toContain(`${open} open complaints Average satisfaction ${(rated.reduce((x, y) => x + y, 0) / rated.length).toFixed(1)} from ${rated.length} ratings`);
    const listed = warned!.churnWarnings.find((w: any) => w.customerId === customers[5]!.id);
    expect(listed).toMatchObject({ score: risk.score, level: risk.level });
    expect(warned!.rfmTop).toHaveLength(3);
    expect(warned!.rfmTop[0].rfm.score).toBeGreaterThanOrEqual(warned!.rfmTop[2].rfm.score);
    const high = warned!.churnWarnings.filter((w: any) => w.level === 'HIGH');
    if (high.length) {
      const raised = await churnTopic.find((e) => e.type === 'analytics.churn-risk-raised' && e.subject === high[0].customerId);
      expect(raised.key).toBe(high[0].customerId);
    }
    expect(warned!.churnWarnings.length).toBeGreaterThan(0);
  });

  it('counts products bought together and clusters the customers on the scheduled run (ANA-9)', async () => {
    // The scheduled run of the previous test computed the patterns. Expected pairs, counted here directly.
    const baskets = counted.map((o) => [...new Set(o.lines.map((l) => l.productId))].sort());
    const single = new Map<string, number>();
    const both = new Map<string, number>();
    for (const b of baskets) {
      for (const p of b) single.set(p, (single.get(p) ?? 0) + 1);
      for (const x of b) for (const y of b) if (x < y) both.set(`${x}+${y}`, (both.get(`${x}+${y}`) ?? 0) + 1);
    }
    const { data, errors } = await call<any>(`{ productPairs(limit: 500) { computedAt baskets pairs { productId otherProductId orders support confidence reverseConfidence lift } }
      one: productPairs(productId: "${PRODUCTS[0]}", limit: 3) { productOrders pairs { productId otherProductId confidence } }
      customerClusters { customers clusters { id label customers recencyDays orders spend { amountMinor currency } } } }`);
    expect(errors).toBeUndefined();
    expect(data!.productPairs.baskets).toBe(baskets.length);
    const expected = [...both.entries()].filter(([, n]) => n >= 2);
    expect(data!.productPairs.pairs).toHaveLength(expected.length);
    for (const pair of data!.productPairs.pairs) {
      const n = both.get(`${pair.productId}+${pair.otherProductId}`)!;
      const [na, nb] = [single.get(pair.productId)!, single.get(pair.otherProductId)!];
      expect(pair.orders).toBe(n);
      expect(pair.support).toBeCloseTo(n / baskets.length, 4);
      expect(pair.confidence).toBeCloseTo(n / na, 4);
      expect(pair.reverseConfidence).toBeCloseTo(n / nb, 4);
      expect(pair.lift).toBeCloseTo((n * baskets.length) / (na * nb), 3);
    }
    // Seen from one product: it comes first in each pair, the most likely companion first.
    expect(data!.one.productOrders).toBe(single.get(PRODUCTS[0]!));
    expect(data!.one.pairs.every((p: any) => p.productId === PRODUCTS[0])).toBe(true);
    const confidences = data!.one.pairs.map((p: any) => p.confidence);
    expect(confidences).toEqual([...confidences].sort((x: number, y: number) => y - x));

    const buyers = new Set(counted.map((o) => o.customerId));
    const clusters = data!.customerClusters;
    expect(clusters.customers).toBe(buyers.size);
    expect(clusters.clusters.length).toBeGreaterThanOrEqual(2);
    expect(clusters.clusters.reduce((s: number, c: any) => s + c.customers, 0)).toBe(buyers.size);
    expect(clusters.clusters.map((c: any) => c.id)).toEqual(clusters.clusters.map((_: unknown, i: number) => i + 1));
    const spends = clusters.clusters.map((c: any) => c.spend.amountMinor);
    expect(spends).toEqual([...spends].sort((x: number, y: number) => y - x));
    const { data: mine } = await call<any>(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { value { cluster { id label } } } } }`, { r: [{ __typename: 'Customer', id: survivor.id }] });
    const cluster = mine!._entities[0].value.cluster;
    expect(clusters.clusters.find((c: any) => c.id === cluster.id).label).toBe(cluster.label);
  });

  it('serves every report as CSV, XLSX and XML and as an SVG chart, with the GraphQL figures (ANA-8, ANA-10)', { timeout: 120_000 }, async () => {
    const base = running.url.replace(/\/graphql$/, '');
    const get = (path: string, token: string | undefined = analyst) => fetch(`${base}${path}`, { headers: gatewayHeaders(token, rawEnv.GATEWAY_SECRET) });
    const year = 'from=2025-01-01&to=2025-12-31';

    const csv = await get(`/reports/sales-trend.csv?${year}&granularity=MONTH`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="sales-trend-\d{8}-\d{6}\.csv"$/);
    const decimal = (minor: number) => `${Math.trunc(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
    expect(parse(await csv.text(), { bom: true, columns: true })).toEqual(first.year.points.map((p: any) => ({ period: p.period, orders: String(p.orders), amount: decimal(p.amount.amountMinor) })));

    const xlsx = await get(`/reports/sales-composition.xlsx?by=PRODUCT&${year}&top=3`);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await xlsx.arrayBuffer()) as never);
    const sheet = workbook.getWorksheet('sales-composition')!;
    expect(sheet.getRow(1).values).toEqual([undefined, 'key', 'orders', 'quantity', 'amount', 'share']);
    expect([2, 3, 4].map((r) => [sheet.getCell(r, 1).value, sheet.getCell(r, 4).value])).toEqual(first.products.rows.map((r: any) => [r.key, r.amount.amountMinor / 100]));
    expect(sheet.getCell(5, 1).value).toBe(`(others) ${first.products.rest.count}`);

    const xml = await (await get(`/reports/campaign-effect.xml?${year}`)).text();
    const spring = first.campaigns.rows.find((r: any) => r.campaignCode === 'SPRING');
    expect(xml).toContain(`<report name="campaign-effect" title="Campaign effect" from="2025-01-01" to="2025-12-31" timeZone="Asia/Shanghai" currency="CNY">`);
    expect(xml).toContain(`<row><campaignCode>SPRING</campaignCode><leads>${spring.leads}</leads><opportunities>${spring.opportunities}</opportunities><won>${spring.won}</won><orders>${spring.orders}</orders><revenue currency="CNY">${decimal(spring.revenue.amountMinor)}</revenue></row>`);

    const trend = await get(`/reports/sales-trend.svg?${year}`);
    expect(trend.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    const svg = await trend.text();
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('Sales by period');
    expect(svg).toContain('mark-line');
    expect(svg.match(/<path[^>]*class="[^"]*"/g)?.length ?? svg.match(/mark-symbol/g)?.length).toBeGreaterThan(0);
    for (const period of ['2025-01', '2025-12']) expect(svg).toContain(`>${period}<`);
    expect(await (await get(`/reports/customer-distribution.svg?level=PROVINCE`)).text()).toContain('mark-rect');

    // Every report in every format.
    const queries: Record<string, string> = {
      'sales-trend': year, 'sales-composition': `by=CUSTOMER&${year}`, 'customer-distribution': 'level=COUNTRY', 'customer-value-distribution': 'by=AMOUNT', 'rfm-top': 'limit=5',
      'churn-warnings': 'minLevel=LOW', 'service-trend': `${year}&granularity=MONTH`, 'service-composition': `by=TYPE&${year}`, 'service-times': year, 'sales-funnel': `${year}&by=SOURCE`,
      'campaign-effect': year, 'product-pairs': 'limit=10', 'customer-clusters': '',
    };
    for (const [name, query] of Object.entries(queries)) for (const format of ['csv', 'xlsx', 'xml', 'svg']) {
      const response = await get(`/reports/${name}.${format}?${query}`);
      expect({ name, format, status: response.status }).toEqual({ name, format, status: 200 });
      const body = Buffer.from(await response.arrayBuffer());
      expect(body.length).toBeGreaterThan(50);
    }
  });

  it('refuses unknown reports, formats and parameters, bad ranges, customers and callers without a token', async () => {
    const base = running.url.replace(/\/graphql$/, '');
    const get = (path: string, headers: Record<string, string> = gatewayHeaders(analyst, rawEnv.GATEWAY_SECRET)) => fetch(`${base}${path}`, { headers });
    const body = async (response: Response) => ((await response.json()) as any).errors[0];
    const unknown = await get('/reports/revenue-forecast.csv');
    expect(unknown.status).toBe(404);
    expect((await body(unknown)).extensions.code).toBe('NOT_FOUND');
    const format = await get('/reports/sales-trend.pdf?from=2025-01-01&to=2025-01-31');
    expect(format.status).toBe(400);
    expect((await body(format)).extensions.fields).toEqual([{ field: 'format', message: 'csv, xlsx, xml or svg' }]);
    const params = await get('/reports/sales-trend.csv?from=2025-01-01&granularity=WEEK&colour=red');
    expect(params.status).toBe(400);
    expect((await body(params)).extensions.fields.map((f: any) => f.field)).toEqual(['granularity', 'colour', 'to']);
    const reversed = await get('/reports/sales-trend.svg?from=2025-02-01&to=2025-01-01');
    expect((await body(reversed)).extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'to', message: 'Must not be before from' }] });
    const customer = await get('/reports/sales-trend.csv?from=2025-01-01&to=2025-01-31', gatewayHeaders(customerToken, rawEnv.GATEWAY_SECRET));
    expect(customer.status).toBe(403);
    expect((await body(customer)).extensions.code).toBe('FORBIDDEN');
    const anonymous = await get('/reports/sales-trend.csv?from=2025-01-01&to=2025-01-31', gatewayHeaders(undefined, rawEnv.GATEWAY_SECRET));
    expect(anonymous.status).toBe(401);
    const direct = await get('/reports/sales-trend.csv?from=2025-01-01&to=2025-01-31', { authorization: `Bearer ${analyst}` });
    expect(direct.status).toBe(403);
    expect((await body(direct)).extensions.reason).toBe('GATEWAY_SECRET_MISMATCH');
  });

  it('rebuilds from the start of the topics and gives the same figures', { timeout: 180_000 }, async () => {
    const denied = await call(`mutation { rebuildReadModels { groups } }`);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { data, errors } = await call(`mutation { rebuildReadModels { groups collections } }`, {}, admin);
    expect(errors).toBeUndefined();
    expect(data!.rebuildReadModels.groups).toHaveLength(4);
    expect(data!.rebuildReadModels.collections).toContain('sales_days');
    const again = await reportsWhenCaughtUp();
    for (const key of Object.keys(first)) expect({ [key]: again[key] }).toEqual({ [key]: first[key] });
  });

  it('refuses reversed and over-long ranges, unknown zones and currencies, and customers', async () => {
    const reversed = await call(`{ salesTrend(from: "2025-02-01", to: "2025-01-01") { orders } }`);
    expect(reversed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'to', message: 'Must not be before from' }] });
    const long = await call(`{ serviceTrend(from: "2020-01-01", to: "2025-01-01", granularity: DAY) { opened } }`);
    expect((long.errors?.[0]?.extensions as any)?.fields?.[0]?.field).toBe('to');
    const zone = await call(`{ salesTrend(from: "2025-01-01", to: "2025-01-31", timeZone: "Mars/Olympus", currency: "yuan") { orders } }`);
    expect(zone.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((zone.errors?.[0]?.extensions as any)?.fields.map((f: any) => f.field)).toEqual(['timeZone']);
    const badDate = await call(`{ salesComposition(by: PRODUCT, from: "2025-02-30", to: "2025-03-01") { orders } }`);
    expect((badDate.errors?.[0]?.extensions as any)?.fields?.[0]?.field).toBe('from');
    const forbidden = await call(`{ salesTrend(from: "2025-01-01", to: "2025-01-31") { orders } }`, {}, customerToken);
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('parks a malformed order event on the dead-letter topic and keeps consuming', { timeout: 60_000 }, async () => {
    const bad = createEvent({ source: '/crm/sales', type: 'order.placed', subject: 'o-bad', data: { orderId: 'o-bad', totals: 'lots' } });
    const good: Order = { id: hex('o', 999), customerId: customers[7]!.id, placedAt: new Date(Date.UTC(2025, 5, 1, 4)), lines: [{ productId: PRODUCTS[0]!, quantity: 1, lineTotalMinor: 12_345 }], totalMinor: 12_345, currency: 'CNY', status: 'APPROVED', paymentStatus: 'UNPAID', campaignCode: null, version: 1 };
    await publisher.publish([bad, orderEvent('order.placed', good, good.placedAt)]);
    const parked = await orderDlq.find((e) => e.id === bad.id);
    expect(parked.headers['x-dlq-reason']).toMatch(/^PoisonEventError: order.placed/);
    await eventually(async () => {
      const { data } = await call(`{ salesTrend(from: "2025-06-01", to: "2025-06-01", granularity: DAY) { orders total { amountMinor } } }`);
      const expected = cny.filter((o) => o.placedAt.getTime() >= Date.UTC(2025, 5, 1) - 8 * 3600_000 && o.placedAt.getTime() < Date.UTC(2025, 5, 2) - 8 * 3600_000);
      return data!.salesTrend.orders === expected.length + 1 && data!.salesTrend.total.amountMinor === expected.reduce((s, o) => s + o.totalMinor, 0) + 12_345;
    }, 40_000);
  });
});
