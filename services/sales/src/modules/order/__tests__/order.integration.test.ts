import { afterAll, describe, expect, it } from 'vitest';
import { cny, fieldsOf, ORDER_FIELDS, startSalesKit } from './kit.js';

// CNY orders from ¥10,000.00 need approval (the default); USD ones from $500.00.
const kit = await startSalesKit({ ORDER_APPROVAL_THRESHOLD_MINOR: 'CNY=1000000,USD=50000' }, ['order']);
const { call, tokens, product, stockOf, collection, customerId } = kit;
const orderEvents = kit.watchers.order!;
afterAll(() => kit.stop());

const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER_FIELDS} } }`;
const GET = `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;
const APPROVE = `mutation($id: ID!, $v: Int) { approveOrder(id: $id, note: "ok", expectedVersion: $v) { ${ORDER_FIELDS} } }`;
const SHIP = `mutation($id: ID!, $v: Int) { shipOrder(id: $id, input: { carrier: "SF Express", trackingNumber: "SF1234567890" }, expectedVersion: $v) { ${ORDER_FIELDS} } }`;
const DELIVER = `mutation($id: ID!) { deliverOrder(id: $id, input: { receivedBy: "Wang Fang" }) { ${ORDER_FIELDS} } }`;
const CANCEL = `mutation($id: ID!, $v: Int) { cancelOrder(id: $id, reason: "Customer changed mind", expectedVersion: $v) { ${ORDER_FIELDS} } }`;
const PAY = `mutation($id: ID!, $input: RecordPaymentInput!, $v: Int) { recordOrderPayment(id: $id, input: $input, expectedVersion: $v) { ${ORDER_FIELDS} } }`;

async function place(lines: Array<Record<string, unknown>>, token = tokens['sales.rep'], extra: Record<string, unknown> = {}) {
  const result = await call(PLACE, { input: { customerId: customerId(), currency: 'CNY', lines, paymentMethod: 'ALIPAY', ...extra } }, token);
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return result.data!.placeOrder;
}

describe('orders (SAL-6) against real Mongo, Kafka and Keycloak', () => {
  it('approves an order below the threshold at once, reserving its stock, with placed and approved events', async () => {
    const tablet = await product(129_900, 10);
    const order = await place([{ productId: tablet, quantity: 2, taxRateBasisPoints: 1300 }], tokens['sales.rep'], { campaignCode: 'spring-fair' });
    expect(order).toMatchObject({
      status: 'APPROVED',
      approvalRequired: false,
      approvedBy: 'system',
      paymentStatus: 'UNPAID',
      campaignCode: 'spring-fair',
      currency: 'CNY',
      version: 1,
      totals: { subtotal: cny(259_800), taxTotal: cny(33_774), total: cny(293_574) },
      outstanding: cny(293_574),
    });
    expect(order.customer).toEqual({ id: order.customerId });
    expect(order.statusHistory).toEqual([expect.objectContaining({ from: null, to: 'APPROVED' })]);
    expect(await stockOf(tablet)).toEqual({ onHand: 10, reserved: 2, available: 8 });

    const placed = await orderEvents.find((e) => e.subject === order.id && e.type === 'order.placed', 15_000);
    expect(placed.key).toBe(order.id);
    expect(placed.event).toMatchObject({ source: '/crm/sales' });
    expect(placed.event.data).toMatchObject({
      orderId: order.id,
      customerId: order.customerId,
      ownerId: expect.any(String),
      currency: 'CNY',
      campaignCode: 'spring-fair',
      lines: [{ productId: tablet, quantity: 2, unitPrice: cny(129_900), lineTotal: cny(293_574) }],
      totals: { total: cny(293_574) },
    });
    await orderEvents.find((e) => e.subject === order.id && e.type === 'order.approved');
    const byCampaign = await call(`{ orders(filter: { campaignCode: "spring-fair" }) { totalCount edges { node { id } } } }`);
    expect(byCampaign.data!.orders).toMatchObject({ totalCount: 1, edges: [{ node: { id: order.id } }] });
  });

  it('holds an order at or above the threshold of its currency for a sales manager, who approves (reserving stock) or rejects', async () => {
    const server = await product(500_000, 5);
    const order = await place([{ productId: server, quantity: 2 }]);
    expect(order).toMatchObject({ status: 'PENDING_APPROVAL', approvalRequired: true, totals: { total: cny(1_000_000) } });
    expect(await stockOf(server)).toMatchObject({ reserved: 0 });

    const byRep = await call(APPROVE, { id: order.id }, tokens['sales.rep']);
    expect(byRep.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ORDER_FORBIDDEN' });
    const approved = await call(APPROVE, { id: order.id, v: 1 }, tokens['sales.manager']);
    expect(approved.errors).toBeUndefined();
    expect(approved.data!.approveOrder).toMatchObject({ status: 'APPROVED', version: 2 });
    expect(approved.data!.approveOrder.statusHistory.map((h: any) => [h.from, h.to, h.note])).toEqual([
      [null, 'PENDING_APPROVAL', expect.stringContaining('needs approval')],
      ['PENDING_APPROVAL', 'APPROVED', 'ok'],
    ]);
    expect(await stockOf(server)).toMatchObject({ reserved: 2, available: 3 });
    const event = await orderEvents.find((e) => e.subject === order.id && e.type === 'order.approved');
    expect(event.event.data).toMatchObject({ automatic: false, status: 'APPROVED', lines: [{ productId: server, quantity: 2 }] });

    // Per currency: $500.00 needs approval in USD.
    const imported = await product(25_000, 5, 'USD');
    const usd = await call(PLACE, { input: { customerId: customerId(), currency: 'USD', lines: [{ productId: imported, quantity: 2 }] } });
    expect(usd.data!.placeOrder).toMatchObject({ status: 'PENDING_APPROVAL', totals: { total: { amountMinor: 50_000, currency: 'USD' } } });
    const rejected = await call(`mutation($id: ID!) { rejectOrder(id: $id, reason: "Credit check failed") { status statusHistory { to note } } }`, { id: usd.data!.placeOrder.id }, tokens.admin);
    expect(rejected.data!.rejectOrder).toMatchObject({ status: 'REJECTED', statusHistory: [{ to: 'PENDING_APPROVAL' }, { to: 'REJECTED', note: 'Credit check failed' }] });
    const again = await call(APPROVE, { id: usd.data!.placeOrder.id }, tokens.admin);
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ORDER_INVALID_TRANSITION' });
    await orderEvents.find((e) => e.subject === usd.data!.placeOrder.id && e.type === 'order.rejected');
  });

  it('leaves nothing half-written when stock is short: no order placed, or the pending order stays un-approved', async () => {
    const plenty = await product(1_000, 100);
    const scarce = await product(2_000, 1);
    const orders = () => collection('orders').countDocuments();
    const before = await orders();
    const short = await call(PLACE, { input: { customerId: customerId(), currency: 'CNY', lines: [{ productId: plenty, quantity: 5 }, { productId: scarce, quantity: 3 }] } });
    expect(short.data).toBeNull();
    expect(short.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ORDER_STOCK_UNAVAILABLE' });
    expect(fieldsOf(short)).toEqual(['lines.1.quantity']);
    expect(await orders()).toBe(before);
    expect(await stockOf(plenty)).toMatchObject({ reserved: 0, available: 100 });
    expect(await stockOf(scarce)).toMatchObject({ reserved: 0, available: 1 });

    const big = await product(600_000, 1);
    const pending = await place([{ productId: plenty, quantity: 1 }, { productId: big, quantity: 2 }]);
    expect(pending.status).toBe('PENDING_APPROVAL');
    const failed = await call(APPROVE, { id: pending.id }, tokens['sales.manager']);
    expect(failed.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ORDER_STOCK_UNAVAILABLE', fields: [{ field: 'lines.1.quantity' }] });
    const after = (await call(GET, { id: pending.id })).data!.order;
    expect(after).toMatchObject({ status: 'PENDING_APPROVAL', version: 1 });
    expect(after.statusHistory).toHaveLength(1);
    expect(await stockOf(plenty)).toMatchObject({ reserved: 0 });
    expect(await stockOf(big)).toMatchObject({ reserved: 0 });
  });

  it('refuses illegal transitions with CONFLICT and a reason', async () => {
    const item = await product(900_000, 10);
    const pending = await place([{ productId: item, quantity: 2 }]);
    const ship = await call(SHIP, { id: pending.id });
    expect(ship.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ORDER_INVALID_TRANSITION', fields: [{ field: 'id' }] });
    expect(ship.errors?.[0]?.message).toBe('Cannot ship an order that is PENDING_APPROVAL');
    const deliver = await call(DELIVER, { id: pending.id });
    expect(deliver.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ORDER_INVALID_TRANSITION' });

    const small = await place([{ productId: item, quantity: 1 }].map((l) => ({ ...l, unitPrice: cny(1_000) })));
    expect((await call(SHIP, { id: small.id })).errors).toBeUndefined();
    const cancelShipped = await call(CANCEL, { id: small.id });
    expect(cancelShipped.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ORDER_INVALID_TRANSITION' });
    expect(cancelShipped.errors?.[0]?.message).toBe('Cannot cancel an order that is SHIPPED');
    const stale = await call(DELIVER.replace('deliverOrder(id: $id,', 'deliverOrder(id: $id, expectedVersion: 1,'), { id: small.id });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ORDER_VERSION_CONFLICT' });
  });

  it('ships, delivers and takes payments up to the total; each status change is in the history', async () => {
    const item = await product(3_000, 10);
    const order = await place([{ productId: item, quantity: 3 }]);
    const shipped = (await call(SHIP, { id: order.id, v: 1 })).data!.shipOrder;
    expect(shipped).toMatchObject({ status: 'SHIPPED', shipment: { carrier: 'SF Express', trackingNumber: 'SF1234567890' } });
    expect(await stockOf(item)).toEqual({ onHand: 7, reserved: 0, available: 7 });
    const delivered = (await call(DELIVER, { id: order.id })).data!.deliverOrder;
    expect(delivered).toMatchObject({ status: 'DELIVERED', delivery: { receivedBy: 'Wang Fang' } });
    expect(delivered.statusHistory.map((h: any) => `${h.from}>${h.to}`)).toEqual(['null>APPROVED', 'APPROVED>SHIPPED', 'SHIPPED>DELIVERED']);

    const over = await call(PAY, { id: order.id, input: { amount: cny(9_001) } });
    expect(over.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ORDER_PAYMENT_INVALID', fields: [{ field: 'input.amount.amountMinor' }] });
    const usd = await call(PAY, { id: order.id, input: { amount: { amountMinor: 100, currency: 'USD' } } });
    expect(fieldsOf(usd)).toEqual(['input.amount.currency']);
    const zero = await call(PAY, { id: order.id, input: { amount: cny(0) } });
    expect(fieldsOf(zero)).toEqual(['input.amount.amountMinor']);

    const part = (await call(PAY, { id: order.id, input: { amount: cny(4_000), reference: 'alipay-1' } })).data!.recordOrderPayment;
    expect(part).toMatchObject({ paymentStatus: 'PARTIALLY_PAID', paidAmount: cny(4_000), outstanding: cny(5_000), payments: [{ method: 'ALIPAY', reference: 'alipay-1' }] });
    const rest = (await call(PAY, { id: order.id, input: { amount: cny(5_000), method: 'BANK_TRANSFER' } })).data!.recordOrderPayment;
    expect(rest).toMatchObject({ paymentStatus: 'PAID', outstanding: cny(0) });
    expect(rest.payments.map((p: any) => p.method)).toEqual(['ALIPAY', 'BANK_TRANSFER']);
    const paid = await orderEvents.find((e) => e.subject === order.id && e.type === 'order.paid');
    expect(paid.event.data).toMatchObject({ paymentStatus: 'PAID', paidAmount: cny(9_000), totals: { total: cny(9_000) } });
    for (const type of ['order.shipped', 'order.delivered', 'order.payment-recorded']) await orderEvents.find((e) => e.subject === order.id && e.type === type);
  });

  it('cancellation releases the reserved stock (a second cancel only releases again); payments can be refunded', async () => {
    const item = await product(2_000, 10);
    const order = await place([{ productId: item, quantity: 4 }]);
    expect(await stockOf(item)).toMatchObject({ reserved: 4 });
    await call(PAY, { id: order.id, input: { amount: cny(1_000) } });
    const cancelled = (await call(CANCEL, { id: order.id })).data!.cancelOrder;
    expect(cancelled).toMatchObject({ status: 'CANCELLED', version: 3 });
    expect(await stockOf(item)).toEqual({ onHand: 10, reserved: 0, available: 10 });
    expect((await call(CANCEL, { id: order.id })).data!.cancelOrder.version).toBe(3);
    const cancelEvent = await orderEvents.find((e) => e.subject === order.id && e.type === 'order.cancelled');
    expect(cancelEvent.event.data).toMatchObject({ previousStatus: 'APPROVED', lines: [{ productId: item, quantity: 4 }] });
    const payLater = await call(PAY, { id: order.id, input: { amount: cny(1_000) } });
    expect(payLater.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'ORDER_INVALID_TRANSITION' });
    const refund = await call(`mutation($id: ID!) { refundOrder(id: $id, note: "cancelled") { paymentStatus refundedAmount { amountMinor } } }`, { id: order.id });
    expect(refund.data!.refundOrder).toEqual({ paymentStatus: 'REFUNDED', refundedAmount: { amountMinor: 1_000 } });
  });

  it('loses no change under concurrency: simultaneous payments all count, racing versions and transitions have one winner', async () => {
    const item = await product(1_000, 11);
    const order = await place([{ productId: item, quantity: 10 }]);
    const payments = await Promise.all(Array.from({ length: 10 }, (_, i) => call(PAY, { id: order.id, input: { amount: cny(1_000), reference: `p${i}` } })));
    expect(payments.map((p) => p.errors)).toEqual(Array(10).fill(undefined));
    const after = (await call(GET, { id: order.id })).data!.order;
    expect(after).toMatchObject({ paymentStatus: 'PAID', paidAmount: cny(10_000), version: 11 });
    expect(after.payments.map((p: any) => p.reference).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`).sort());
    const stored = await collection('orders').findOne({ _id: (await import('mongoose')).Types.ObjectId.createFromHexString(order.id) });
    expect(stored?.payments).toHaveLength(10);

    // Two changes expecting the same version: exactly one applies.
    const other = await place([{ productId: item, quantity: 0 + 1 }].map((l) => ({ ...l, unitPrice: cny(100) })));
    const [a, b] = await Promise.all([
      call(PAY, { id: other.id, input: { amount: cny(10) }, v: 1 }),
      call(PAY, { id: other.id, input: { amount: cny(20) }, v: 1 }),
    ]);
    expect([a, b].filter((r) => r.errors?.[0]?.extensions?.reason === 'ORDER_VERSION_CONFLICT')).toHaveLength(1);
    // Shipping and cancelling at once: one wins, the other is refused, stock matches the winner.
    const [ship, cancel] = await Promise.all([call(SHIP, { id: other.id }), call(CANCEL, { id: other.id })]);
    const winners = [ship, cancel].filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    const final = (await call(GET, { id: other.id })).data!.order;
    expect(['SHIPPED', 'CANCELLED']).toContain(final.status);
    expect(final.statusHistory).toHaveLength(2);
    // The first order still holds its 10; the second's unit either left (shipped) or came back (cancelled).
    expect(await stockOf(item)).toEqual(final.status === 'SHIPPED' ? { onHand: 10, reserved: 10, available: 0 } : { onHand: 11, reserved: 10, available: 1 });
  });

  it('moves a merged-away customer\'s quotes, contracts and orders to the survivor (customer.merged), once', async () => {
    const item = await product(100, 10);
    const [merged, survivor] = [customerId(), customerId()];
    const order = await place([{ productId: item, quantity: 1 }], tokens['sales.rep'], { customerId: merged });
    const quote = (await call(`mutation($input: CreateQuoteInput!) { createQuote(input: $input) { id } }`, { input: { customerId: merged, currency: 'CNY', lines: [{ productId: item, quantity: 1 }] } })).data!.createQuote;
    const contract = (await call(`mutation($input: CreateContractInput!) { createContract(input: $input) { id } }`, {
      input: { customerId: merged, title: 'Support', value: cny(100), startDate: '2027-01-01T00:00:00Z', endDate: '2028-01-01T00:00:00Z' },
    })).data!.createContract;
    const { services } = kit.running;
    expect([await services.quotes.repointCustomer(merged, survivor), await services.contracts.repointCustomer(merged, survivor), await services.orders.repointCustomer(merged, survivor)]).toEqual([1, 1, 1]);
    expect([await services.quotes.repointCustomer(merged, survivor), await services.contracts.repointCustomer(merged, survivor), await services.orders.repointCustomer(merged, survivor)]).toEqual([0, 0, 0]);
    const read = await call(`query($o: ID!, $q: ID!, $c: ID!) { order(id: $o) { customerId version } quote(id: $q) { customerId } contract(id: $c) { customerId } }`, { o: order.id, q: quote.id, c: contract.id });
    expect(read.data).toEqual({ order: { customerId: survivor, version: 2 }, quote: { customerId: survivor }, contract: { customerId: survivor } });
    const updated = await orderEvents.find((e) => e.subject === order.id && e.type === 'order.updated');
    expect(updated.event.data).toMatchObject({ customerId: survivor, changed: ['customerId'], mergedCustomerId: merged });
  });

  it('rejects bad input with BAD_USER_INPUT and field details, writing nothing', async () => {
    const cnyItem = await product(100, 5);
    const usdItem = await product(100, 5, 'USD');
    const old = await product(100, 5, 'CNY', 'DISCONTINUED');
    const before = await collection('orders').countDocuments();
    const bad = await call(PLACE, {
      input: {
        customerId: 'nope',
        currency: 'CNY',
        lines: [{ productId: cnyItem, quantity: -1 }, { productId: cnyItem, quantity: 1, taxRateBasisPoints: 20_000 }],
        campaignCode: 'has spaces',
      },
    });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ORDER_INVALID_INPUT' });
    expect(fieldsOf(bad).sort()).toEqual(['input.campaignCode', 'input.customerId', 'input.lines.0.quantity', 'input.lines.1.taxRateBasisPoints']);
    const products = await call(PLACE, {
      input: {
        customerId: customerId(),
        currency: 'CNY',
        lines: [{ productId: usdItem, quantity: 1 }, { productId: '64b7f0000000000000000000', quantity: 1 }, { productId: old, quantity: 1 }],
        discount: { amount: { amountMinor: 5, currency: 'USD' } },
      },
    });
    expect(fieldsOf(products)).toEqual(['input.lines.0.productId', 'input.lines.1.productId', 'input.lines.2.productId']);
    const discount = await call(PLACE, { input: { customerId: customerId(), currency: 'CNY', lines: [{ productId: cnyItem, quantity: 1 }], discount: { amount: { amountMinor: 5, currency: 'USD' } } } });
    expect(fieldsOf(discount)).toEqual(['input.discount.amount.currency']);
    expect(await collection('orders').countDocuments()).toBe(before);
    expect(await stockOf(cnyItem)).toMatchObject({ reserved: 0 });
  });

  it('shows orders by ownership: reps their own and their teams\', managers their department\'s, analysts all read-only; also customer { orders } and entities', async () => {
    const item = await product(100, 50);
    const customer = customerId();
    const mine = await place([{ productId: item, quantity: 1 }], tokens['sales.rep'], { customerId: customer });
    // sales.rep and sales.rep2 share the team sales-east; two more orders owned elsewhere, stored as the service would.
    const teammates = await place([{ productId: item, quantity: 1 }], tokens['sales.rep2'], { customerId: customer });
    const { Types } = await import('mongoose');
    const stored = await collection('orders').findOne({ _id: Types.ObjectId.createFromHexString(mine.id) });
    const westId = new Types.ObjectId();
    const serviceId = new Types.ObjectId();
    await collection('orders').insertMany([
      { ...stored, _id: westId, ownerId: 'someone-west', department: 'sales', ownerTeams: ['sales-west'], pendingEvents: [] },
      { ...stored, _id: serviceId, ownerId: 'someone-service', department: 'service', ownerTeams: [], pendingEvents: [] },
    ]);
    const [west, service] = [westId.toHexString(), serviceId.toHexString()];
    const ids = (r: any) => r.data!._entities[0].orders.edges.map((x: any) => x.node.id).sort();
    const CUSTOMER_ORDERS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { orders(first: 10) { totalCount edges { node { id } } } } } }`;
    const r = [{ __typename: 'Customer', id: customer }];
    const sorted = (...list: string[]) => list.sort();
    expect(ids(await call(CUSTOMER_ORDERS, { r }, tokens['sales.rep']))).toEqual(sorted(mine.id, teammates.id));
    expect(ids(await call(CUSTOMER_ORDERS, { r }, tokens['sales.rep2']))).toEqual(sorted(mine.id, teammates.id));
    expect(ids(await call(CUSTOMER_ORDERS, { r }, tokens['sales.manager']))).toEqual(sorted(mine.id, teammates.id, west));
    expect(ids(await call(CUSTOMER_ORDERS, { r }, tokens.analyst))).toEqual(sorted(mine.id, teammates.id, west, service));
    expect(ids(await call(CUSTOMER_ORDERS, { r }, tokens.admin))).toEqual(sorted(mine.id, teammates.id, west, service));

    expect((await call(GET, { id: west }, tokens['sales.rep'])).data!.order).toBeNull();
    expect((await call(GET, { id: service }, tokens['sales.manager'])).data!.order).toBeNull();
    expect((await call(GET, { id: west }, tokens['sales.manager'])).data!.order.id).toBe(west);
    const entity = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id } } }`, { r: [{ __typename: 'Order', id: west }] }, tokens['sales.rep']);
    expect(entity.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const visible = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id } } }`, { r: [{ __typename: 'Order', id: teammates.id }] }, tokens['sales.rep']);
    expect(visible.data!._entities).toEqual([{ id: teammates.id }]);
    const foreignChange = await call(PAY, { id: west, input: { amount: cny(1) } }, tokens['sales.rep']);
    expect(foreignChange.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const analystChange = await call(PAY, { id: mine.id, input: { amount: cny(1) } }, tokens.analyst);
    expect(analystChange.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const marketerList = await call(`{ orders { totalCount } }`, {}, tokens.marketer);
    expect(marketerList.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(GET, { id: mine.id }, tokens.marketer)).data!.order).toBeNull();
    const customerPlace = await call(PLACE, { input: { customerId: customer, currency: 'CNY', lines: [{ productId: item, quantity: 1 }] } }, tokens.customer);
    expect(customerPlace.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
