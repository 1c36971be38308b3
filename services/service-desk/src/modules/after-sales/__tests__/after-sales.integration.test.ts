import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher } from '@crm/events';
import { createLogger } from '@crm/logger';
import { eventually, uniqueName } from '@crm/testing';
import { codeOf, fieldsOf, ok, someId, startDeskKit } from '../../article/__tests__/desk-kit.js';

const kit = await startDeskKit(['after-sales'], { AFTER_SALES_RETURN_WINDOW_DAYS: '7' });
const { as, db, customers, prefix } = kit;
const [agent, manager, customer, customer2] = [as('service.agent'), as('service.manager'), as('customer'), as('customer2')];
const events = kit.watchers['after-sales']!;
// Stands for the sales and customers services: the same topic namespace as the service under test.
const kafka = new KafkaClient({ brokers: kit.infra.kafkaBrokers, clientId: uniqueName('sales-stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const otherServices = new KafkaEventPublisher(kafka);
const directory = kit.running.services.orderDirectory;

afterAll(async () => {
  await kafka.disconnect();
  await kit.stop();
});

const DAY = 86_400_000;
/** A sales order event as services/sales order.events.ts publishes it (OrderEventData). */
const orderEvent = (type: string, o: { orderId: string; customerId: string; productIds: string[]; status: string; version: number; deliveredAt?: Date }) =>
  createEvent({
    source: '/crm/sales',
    type,
    subject: o.orderId,
    data: {
      orderId: o.orderId,
      customerId: o.customerId,
      ownerId: 'rep',
      department: 'sales',
      quoteId: null,
      campaignCode: null,
      status: o.status,
      paymentStatus: 'UNPAID',
      currency: 'CNY',
      lines: o.productIds.map((productId) => ({ productId, sku: 'SKU', quantity: 1, unitPrice: { amount: 100, currency: 'CNY' }, lineTotal: { amount: 100, currency: 'CNY' } })),
      totals: {},
      paidAmount: { amount: 0, currency: 'CNY' },
      version: o.version,
      ...(o.deliveredAt ? { deliveredAt: o.deliveredAt.toISOString() } : {}),
    },
  });
/** An order known to the directory (applied directly, as the consumer would). */
async function order(customerId: string, productIds: string[], status: 'DELIVERED' | 'SHIPPED' | 'CANCELLED', deliveredDaysAgo = 1) {
  const orderId = someId();
  await directory.apply(orderEvent('order.placed', { orderId, customerId, productIds, status: 'APPROVED', version: 1 }));
  if (status === 'DELIVERED') await directory.apply(orderEvent('order.delivered', { orderId, customerId, productIds, status, version: 3, deliveredAt: new Date(Date.now() - deliveredDaysAgo * DAY) }));
  else await directory.apply(orderEvent(status === 'SHIPPED' ? 'order.shipped' : 'order.cancelled', { orderId, customerId, productIds, status, version: 2 }));
  return orderId;
}

const FIELDS = 'id kind status statusNote customerId productId orderId ticketId quantity reason version history { by field from to note }';
const REQUEST = `mutation($input: RequestAfterSalesInput!) { requestAfterSales(input: $input) { ${FIELDS} } }`;
const act = (name: string, arg = 'note', type = 'String') => `mutation($id: ID!, $n: ${type}, $v: Int) { ${name}(id: $id, ${arg}: $n, expectedVersion: $v) { ${FIELDS} } }`;
const [APPROVE, REJECT, START, COMPLETE, CANCEL] = [act('approveAfterSales'), act('rejectAfterSales', 'reason', 'String!'), act('startAfterSales'), act('completeAfterSales'), act('cancelAfterSales', 'reason')];
const product = someId();

describe('after-sales records (SVC-6, real Mongo, Kafka, Keycloak)', () => {
  it('learns orders from sales order events on Kafka; a customer requests a return of a delivered product (after-sales.requested)', async () => {
    const orderId = someId();
    const base = { orderId, customerId: customers.customer, productIds: [product, someId()] };
    await otherServices.publish([
      orderEvent('order.placed', { ...base, status: 'APPROVED', version: 1 }),
      orderEvent('order.shipped', { ...base, status: 'SHIPPED', version: 2 }),
      orderEvent('order.delivered', { ...base, status: 'DELIVERED', version: 3, deliveredAt: new Date(Date.now() - 2 * DAY) }),
      orderEvent('order.paid', { ...base, status: 'DELIVERED', version: 4 }),
    ]);
    const known = await eventually(async () => ((await directory.get(orderId))?.version === 4 ? directory.get(orderId) : null), 20_000);
    expect(known).toMatchObject({ customerId: customers.customer, status: 'DELIVERED', productIds: base.productIds });
    expect(known!.deliveredAt!.getTime()).toBeLessThan(Date.now() - DAY);
    // A late, older event does not undo the newer state.
    await directory.apply(orderEvent('order.shipped', { ...base, status: 'SHIPPED', version: 2 }));
    expect((await directory.get(orderId))?.status).toBe('DELIVERED');

    const record = (await ok(customer(REQUEST, { input: { kind: 'RETURN', productId: product, orderId, reason: '屏幕有划痕' } }))).requestAfterSales;
    expect(record).toMatchObject({ kind: 'RETURN', status: 'REQUESTED', customerId: customers.customer, productId: product, orderId, quantity: 1, version: 1, history: [{ by: kit.ids.customer, field: 'status', from: null, to: 'REQUESTED', note: '屏幕有划痕' }] });
    const { event } = await events.find((e) => e.subject === record.id);
    expect(event).toMatchObject({ type: 'after-sales.requested', source: '/crm/service-desk', data: { recordId: record.id, kind: 'RETURN', customerId: customers.customer, orderId, productId: product, status: 'REQUESTED', reason: '屏幕有划痕' } });

    const entities = await ok(agent(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { afterSalesRecords { id } } ... on Order { afterSalesRecords { id kind } } } }`, {
      r: [{ __typename: 'Customer', id: customers.customer }, { __typename: 'Order', id: orderId }],
    }));
    expect(entities._entities).toEqual([{ afterSalesRecords: [{ id: record.id }] }, { afterSalesRecords: [{ id: record.id, kind: 'RETURN' }] }]);
    // Another customer sees nothing of it.
    expect((await ok(customer2(`query($id: ID!) { afterSalesRecord(id: $id) { id } }`, { id: record.id }))).afterSalesRecord).toBeNull();
    expect((await ok(customer2(`{ afterSalesRecords { totalCount } }`))).afterSalesRecords.totalCount).toBe(0);
  });

  it("refuses orders that are unknown, another customer's, without the product, cancelled, undelivered, or past the return window; nothing written", async () => {
    const before = await db.collection('after_sales_records').countDocuments();
    const mine = await order(customers.customer, [product], 'DELIVERED');
    const theirs = await order(customers.customer2, [product], 'DELIVERED');
    const cancelled = await order(customers.customer, [product], 'CANCELLED');
    const shipped = await order(customers.customer, [product], 'SHIPPED');
    const old = await order(customers.customer, [product], 'DELIVERED', 10);
    const request = (input: Record<string, unknown>, who = agent) => who(REQUEST, { input: { kind: 'RETURN', customerId: customers.customer, productId: product, reason: 'Broken', ...input } });

    const unknown = await request({ orderId: someId() });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'AFTER_SALES_INVALID_INPUT', fields: [{ field: 'input.orderId' }] });
    expect((unknown.errors?.[0]?.extensions?.fields as Array<{ message: string }>)[0]!.message).toMatch(/Unknown order/);
    const notTheirs = await request({ orderId: theirs });
    expect(notTheirs.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.orderId', message: "Not this customer's order" }] });
    expect(fieldsOf(await request({ orderId: mine, productId: someId() }))).toEqual(['input.productId']);
    for (const orderId of [cancelled, shipped, old]) {
      const refused = await request({ orderId });
      expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'AFTER_SALES_ORDER_INELIGIBLE', fields: [{ field: 'input.orderId' }] });
    }
    // The return window is for returns only: a repair of the old order is fine.
    await ok(request({ orderId: old, kind: 'REPAIR' }));
    // Field checks, and a customer naming another customer.
    const bad = await request({ orderId: 'x', productId: 'y', reason: ' ', quantity: 0 });
    expect(fieldsOf(bad)).toEqual(['input.orderId', 'input.productId', 'input.quantity', 'input.reason']);
    expect(fieldsOf(await request({ orderId: mine, customerId: null }))).toEqual(['input.customerId']);
    expect(codeOf(await request({ orderId: theirs, customerId: customers.customer2 }, customer))).toBe('FORBIDDEN');
    expect(codeOf(await as('marketer')(REQUEST, { input: { kind: 'RETURN', customerId: customers.customer, productId: product, orderId: mine, reason: 'x' } }))).toBe('FORBIDDEN');
    expect(await db.collection('after_sales_records').countDocuments()).toBe(before + 1);
  });

  it('moves through its lifecycle with history and events; illegal moves and roles are refused, nothing changed', async () => {
    const orderId = await order(customers.customer, [product], 'DELIVERED');
    const { id } = (await ok(agent(REQUEST, { input: { kind: 'REPLACEMENT', customerId: customers.customer, productId: product, orderId, quantity: 2, reason: 'Dead on arrival' } }))).requestAfterSales;
    expect(codeOf(await agent(APPROVE, { id }))).toBe('FORBIDDEN');
    const early = await agent(COMPLETE, { id });
    expect(early.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'AFTER_SALES_INVALID_TRANSITION' });
    expect(codeOf(await manager(APPROVE, { id, v: 7 }))).toBe('CONFLICT');
    await ok(manager(APPROVE, { id, n: 'OK, send a new one', v: 1 }));
    // The customer may cancel only while REQUESTED.
    expect(codeOf(await customer(CANCEL, { id }))).toBe('CONFLICT');
    await ok(agent(START, { id }));
    const done = (await ok(agent(COMPLETE, { id, n: 'Replacement shipped' }))).completeAfterSales;
    expect(done).toMatchObject({ status: 'COMPLETED', statusNote: 'Replacement shipped', version: 4, quantity: 2 });
    expect(done.history.map((h: { from: string | null; to: string }) => `${h.from}>${h.to}`)).toEqual(['null>REQUESTED', 'REQUESTED>APPROVED', 'APPROVED>IN_PROGRESS', 'IN_PROGRESS>COMPLETED']);
    expect(codeOf(await agent(CANCEL, { id }))).toBe('CONFLICT');
    await eventually(async () => new Set(events.seen.filter((e) => e.event.subject === id).map((e) => e.event.type)).size === 4, 10_000);
    expect([...new Set(events.seen.filter((e) => e.event.subject === id).map((e) => e.event.type))]).toEqual(['after-sales.requested', 'after-sales.approved', 'after-sales.started', 'after-sales.completed']);
    const { event: approved } = await events.find((e) => e.subject === id && e.type === 'after-sales.approved');
    expect(approved.data).toMatchObject({ status: 'APPROVED', previousStatus: 'REQUESTED', note: 'OK, send a new one', by: kit.ids['service.manager'] });

    // Rejection needs a reason; a customer cancels its own REQUESTED record, not another's.
    const second = (await ok(customer(REQUEST, { input: { kind: 'REPAIR', productId: product, orderId, reason: 'Noisy fan' } }))).requestAfterSales;
    expect(fieldsOf(await manager(REJECT, { id: second.id, n: ' ' }))).toEqual(['note']);
    const third = (await ok(customer(REQUEST, { input: { kind: 'REPAIR', productId: product, orderId, reason: 'Scratched' } }))).requestAfterSales;
    expect((await ok(manager(REJECT, { id: third.id, n: 'Cosmetic damage is not covered' }))).rejectAfterSales).toMatchObject({ status: 'REJECTED', statusNote: 'Cosmetic damage is not covered' });
    expect(codeOf(await manager(APPROVE, { id: third.id }))).toBe('CONFLICT');
    const { event: rejected } = await events.find((e) => e.subject === third.id && e.type === 'after-sales.rejected');
    expect(rejected.data).toMatchObject({ status: 'REJECTED', note: 'Cosmetic damage is not covered' });
    expect(codeOf(await customer2(CANCEL, { id: second.id }))).toBe('NOT_FOUND');
    expect((await ok(customer(CANCEL, { id: second.id, n: 'Fixed it myself' }))).cancelAfterSales).toMatchObject({ status: 'CANCELLED', statusNote: 'Fixed it myself' });
    const list = await ok(agent(`query($f: AfterSalesFilter) { afterSalesRecords(filter: $f) { totalCount edges { node { id status } } } }`, { f: { orderId, statuses: ['CANCELLED'] } }));
    expect(list.afterSalesRecords).toEqual({ totalCount: 1, edges: [{ node: { id: second.id, status: 'CANCELLED' } }] });
  });

  it("links a ticket of the same customer only, and follows customer.merged (after-sales.updated)", async () => {
    const orderId = await order(customers.customer, [product], 'DELIVERED');
    const ticketOf = async (customerId: string) => (await ok(agent(`mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }`, { input: { customerId, subject: 'Broken', type: 'AFTER_SALES' } }))).createTicket.id as string;
    const [own, foreign] = [await ticketOf(customers.customer), await ticketOf(customers.customer2)];
    const input = { kind: 'REPAIR', customerId: customers.customer, productId: product, orderId, reason: 'x' };
    expect((await agent(REQUEST, { input: { ...input, ticketId: foreign } })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.ticketId' }] });
    const linked = (await ok(agent(REQUEST, { input: { ...input, ticketId: own } }))).requestAfterSales;
    expect(linked.ticketId).toBe(own);
    expect((await ok(agent(`query($id: ID!) { afterSalesRecord(id: $id) { ticket { id subject } } }`, { id: linked.id }))).afterSalesRecord.ticket).toEqual({ id: own, subject: 'Broken' });

    const survivor = someId();
    await otherServices.publish([
      createEvent({ source: '/crm/customers', type: 'customer.merged', subject: survivor, data: { customerId: survivor, version: 2, survivorId: survivor, mergedId: customers.customer } }),
    ]);
    await eventually(async () => (await db.collection('after_sales_records').countDocuments({ customerId: customers.customer })) === 0, 20_000);
    expect(await db.collection('after_sales_records').countDocuments({ customerId: survivor })).toBeGreaterThanOrEqual(4);
    const { event } = await events.find((e) => e.subject === linked.id && e.type === 'after-sales.updated', 15_000);
    expect(event.data).toMatchObject({ customerId: survivor, changed: ['customerId'], mergedCustomerId: customers.customer });
    expect(kit.running.services.customerLinks.modules).toContain('after-sales');
  });

  it('customer.erased rewrites each record inside its queue (shared with the relay), from a fresh read', async () => {
    const orderId = await order(customers.customer2, [product], 'DELIVERED');
    const record = (await ok(agent(REQUEST, { input: { kind: 'REPAIR', customerId: customers.customer2, productId: product, orderId, reason: 'Screen cracked, call 138 0013 8000' } }))).requestAfterSales;
    const afterSales = kit.running.services.afterSales;
    let release!: () => void;
    const held = afterSales.serial.run(record.id, () => new Promise<void>((resolve) => (release = resolve)));
    const erasing = afterSales.eraseCustomer(customers.customer2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stored = () => db.collection('after_sales_records').findOne({ _id: new Types.ObjectId(record.id) });
    expect((await stored())!.reason).toBe('Screen cracked, call 138 0013 8000');
    release();
    await held;
    expect(await erasing).toBeGreaterThanOrEqual(1);
    expect((await stored())!.reason).toBe('[erased]');
  });
});

