import { afterAll, describe, expect, it } from 'vitest';
import type { AuthUser } from '@crm/auth';
import { DomainException } from '@crm/errors';
import { parseEnv } from '@crm/env';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startSales } from '../../../app.js';
import { salesEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'sales');
const running = await startSales(parseEnv(salesEnvSchema, rawEnv));
const [adminToken, managerToken, repToken, agentToken, customerToken] = await Promise.all([
  login(infra, 'admin'),
  login(infra, 'sales.manager'),
  login(infra, 'sales.rep'),
  login(infra, 'service.agent'),
  login(infra, 'customer'),
]);
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = managerToken) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const db = running.deps.connection;
const stock = running.services.stock;
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.stock`);
/** Who the orders module passes along (it has authorised the caller itself). */
const orderUser: AuthUser = { id: 'order-engine-user', username: 'sales.rep', roles: ['sales-rep'], groups: ['sales'] };

afterAll(async () => {
  await watcher.stop();
  await db.dropDatabase();
  await running.stop();
});

let skuCounter = 0;
async function newProduct(): Promise<string> {
  skuCounter += 1;
  const result = await call(`mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`, {
    input: { sku: `STK-${Date.now().toString(36)}-${skuCounter}`.toUpperCase(), name: `Stock ${skuCounter}`, price: { amountMinor: 1000, currency: 'CNY' } },
  });
  expect(result.errors).toBeUndefined();
  return result.data!.createProduct.id as string;
}

const LEVEL = 'productId onHand reserved available';
const RECEIVE = `mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { ${LEVEL} updatedAt product { sku } } }`;
const ADJUST = `mutation($input: AdjustStockInput!) { adjustStock(input: $input) { ${LEVEL} } }`;
const RETURN = `mutation($input: ReturnStockInput!) { returnStock(input: $input) { ${LEVEL} } }`;
const STOCK_OF = `query($id: ID!) { product(id: $id) { stock { ${LEVEL} } } }`;
const MOVEMENTS = `query($id: ID!, $first: Int, $after: String) { stockMovements(productId: $id, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { id productId seq kind quantity onHandDelta reservedDelta onHand reserved reason orderId by byName at } } } }`;

const levelOf = async (id: string, token = repToken) => {
  const result = await call(STOCK_OF, { id }, token);
  expect(result.errors).toBeUndefined();
  return result.data!.product.stock;
};
const receive = async (productId: string, quantity: number) => {
  const result = await call(RECEIVE, { input: { productId, quantity } });
  expect(result.errors).toBeUndefined();
  return result.data!.receiveStock;
};
/** The StockException a service call threw. */
async function failure(promise: Promise<unknown>): Promise<DomainException> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainException);
    return error as DomainException;
  }
  throw new Error('expected the call to fail');
}

describe('sales subgraph: stock (real Mongo, Kafka, Keycloak)', () => {
  it('starts at zero, receives stock, records who moved it, and publishes stock.moved', async () => {
    const id = await newProduct();
    expect(await levelOf(id)).toEqual({ productId: id, onHand: 0, reserved: 0, available: 0 });

    const received = await call(RECEIVE, { input: { productId: id, quantity: 25, reason: '  Delivery 7 ' } });
    expect(received.errors).toBeUndefined();
    expect(received.data!.receiveStock).toMatchObject({ productId: id, onHand: 25, reserved: 0, available: 25, product: { sku: expect.stringMatching(/^STK-/) } });
    expect(received.data!.receiveStock.updatedAt).toMatch(/Z$/);
    expect(await levelOf(id)).toEqual({ productId: id, onHand: 25, reserved: 0, available: 25 });

    const movements = await call(MOVEMENTS, { id }, repToken);
    expect(movements.errors).toBeUndefined();
    const [movement] = movements.data!.stockMovements.edges.map((e: any) => e.node);
    expect(movement).toMatchObject({ productId: id, seq: 1, kind: 'RECEIVED', quantity: 25, onHandDelta: 25, reservedDelta: 0, onHand: 25, reserved: 0, reason: 'Delivery 7', orderId: null, byName: expect.any(String) });
    expect(movement.by).toMatch(/^[0-9a-f-]{36}$/);

    const { key, event } = await watcher.find((e) => e.subject === id, 15_000);
    expect(key).toBe(id);
    expect(event).toMatchObject({
      type: 'stock.moved',
      source: '/crm/sales',
      data: { productId: id, movementId: movement.id, seq: 1, kind: 'RECEIVED', quantity: 25, onHand: 25, reserved: 0, available: 25, orderId: null },
    });
    // Movements are copied out of the level and its outbox emptied once published.
    await eventually(async () => {
      const level = await db.collection('stock_levels').findOne({ _id: new (await import('mongoose')).Types.ObjectId(id) });
      return level && level.pendingMovements.length === 0 && level.pendingEvents.length === 0;
    });
  });

  it('adjusts with a reason and returns goods; never below zero or below what is reserved', async () => {
    const id = await newProduct();
    await receive(id, 10);
    const down = await call(ADJUST, { input: { productId: id, delta: -3, reason: 'Stock count: 3 broken' } });
    expect(down.data!.adjustStock).toEqual({ productId: id, onHand: 7, reserved: 0, available: 7 });
    await stock.reserveForOrder('adj-order-1', [{ productId: id, quantity: 5 }], orderUser);

    // 7 on hand, 5 reserved: taking 3 would leave less on hand than reserved.
    const tooFar = await call(ADJUST, { input: { productId: id, delta: -3, reason: 'Count' } });
    expect(tooFar.data).toBeNull();
    expect(tooFar.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'STOCK_INSUFFICIENT', fields: [{ field: 'input.delta' }] });
    const ok = await call(ADJUST, { input: { productId: id, delta: -2, reason: 'Count' } });
    expect(ok.data!.adjustStock).toEqual({ productId: id, onHand: 5, reserved: 5, available: 0 });

    const back = await call(RETURN, { input: { productId: id, quantity: 2, reason: 'Customer return' } });
    expect(back.data!.returnStock).toEqual({ productId: id, onHand: 7, reserved: 5, available: 2 });

    const kinds = (await call(MOVEMENTS, { id, first: 10 })).data!.stockMovements.edges.map((e: any) => [e.node.kind, e.node.onHandDelta, e.node.reservedDelta]);
    // Newest first.
    expect(kinds).toEqual([
      ['RETURNED', 2, 0],
      ['ADJUSTED', -2, 0],
      ['RESERVED', 0, 5],
      ['ADJUSTED', -3, 0],
      ['RECEIVED', 10, 0],
    ]);
  });

  it('rejects bad input with BAD_USER_INPUT and field details, and unknown products with NOT_FOUND, changing nothing', async () => {
    const id = await newProduct();
    await receive(id, 5);
    const movementsBefore = await db.collection('stock_movements').countDocuments();
    const fieldsOf = (result: any) => (result.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort();

    for (const quantity of [-1, 0, 1_000_000_001]) {
      const bad = await call(RECEIVE, { input: { productId: id, quantity } });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'STOCK_INVALID_INPUT' });
      expect(fieldsOf(bad)).toEqual(['input.quantity']);
    }
    const negativeReturn = await call(RETURN, { input: { productId: id, quantity: -5 } });
    expect(fieldsOf(negativeReturn)).toEqual(['input.quantity']);
    const zero = await call(ADJUST, { input: { productId: id, delta: 0, reason: ' ' } });
    expect(fieldsOf(zero)).toEqual(['input.delta', 'input.reason']);
    const malformed = await call(RECEIVE, { input: { productId: 'nope', quantity: 1 } });
    expect(fieldsOf(malformed)).toEqual(['input.productId']);
    const unknown = await call(RECEIVE, { input: { productId: '64b7f0000000000000000000', quantity: 1 } });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'STOCK_PRODUCT_NOT_FOUND', fields: [{ field: 'input.productId' }] });
    const belowZero = await call(ADJUST, { input: { productId: id, delta: -6, reason: 'Lost' } });
    expect(belowZero.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'STOCK_INSUFFICIENT' });
    // A return for an order that shipped none of it.
    const notShipped = await call(RETURN, { input: { productId: id, quantity: 1, orderId: 'never-shipped' } });
    expect(notShipped.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.orderId' }] });
    const badCursor = await call(MOVEMENTS, { id, after: 'zzz' });
    expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'after' }] });

    expect(await levelOf(id)).toEqual({ productId: id, onHand: 5, reserved: 0, available: 5 });
    expect(await db.collection('stock_movements').countDocuments()).toBe(movementsBefore);
  });

  it('lets sales managers and admins move stock; every staff role reads it; customers do neither', async () => {
    const id = await newProduct();
    expect((await call(RECEIVE, { input: { productId: id, quantity: 4 } }, adminToken)).data!.receiveStock.onHand).toBe(4);
    for (const token of [repToken, agentToken, customerToken]) {
      for (const [query, input] of [
        [RECEIVE, { productId: id, quantity: 1 }],
        [ADJUST, { productId: id, delta: 1, reason: 'x' }],
        [RETURN, { productId: id, quantity: 1 }],
      ] as const) {
        const denied = await call(query, { input }, token);
        expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_ROLE' });
      }
    }
    expect((await levelOf(id, agentToken)).onHand).toBe(4);
    expect((await call(MOVEMENTS, { id }, agentToken)).data!.stockMovements.totalCount).toBe(1);
    expect((await call(MOVEMENTS, { id }, customerToken)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('reserves an order all or none, idempotently, then releases or ships it', async () => {
    const [a, b] = [await newProduct(), await newProduct()];
    await receive(a, 10);
    await receive(b, 3);

    // Line 1 (b) lacks stock: nothing is reserved, and the short line is named.
    const short = await failure(stock.reserveForOrder('order-1', [{ productId: a, quantity: 4 }, { productId: b, quantity: 5 }], orderUser));
    expect(short).toMatchObject({ reason: 'STOCK_INSUFFICIENT', code: 'CONFLICT', fields: [{ field: 'lines.1.quantity' }] });
    expect((await levelOf(a)).reserved).toBe(0);
    expect((await levelOf(b)).reserved).toBe(0);

    await stock.reserveForOrder('order-1', [{ productId: a, quantity: 4 }, { productId: b, quantity: 2 }, { productId: a, quantity: 1 }], orderUser);
    expect(await levelOf(a)).toMatchObject({ onHand: 10, reserved: 5, available: 5 });
    expect(await levelOf(b)).toMatchObject({ onHand: 3, reserved: 2, available: 1 });
    // A retried call changes nothing.
    await stock.reserveForOrder('order-1', [{ productId: a, quantity: 4 }, { productId: b, quantity: 2 }, { productId: a, quantity: 1 }], orderUser);
    expect((await levelOf(a)).reserved).toBe(5);
    expect((await levelOf(b)).reserved).toBe(2);

    await stock.shipForOrder('order-1', orderUser);
    await stock.shipForOrder('order-1', orderUser);
    expect(await levelOf(a)).toMatchObject({ onHand: 5, reserved: 0, available: 5 });
    expect(await levelOf(b)).toMatchObject({ onHand: 1, reserved: 0, available: 1 });
    // Released after shipping: nothing to give back.
    await stock.releaseForOrder('order-1', orderUser);
    expect(await levelOf(a)).toMatchObject({ onHand: 5, reserved: 0 });

    // Returns against the order: at most what it shipped.
    const back = await call(RETURN, { input: { productId: a, quantity: 5, orderId: 'order-1' } });
    expect(back.data!.returnStock.onHand).toBe(10);
    const tooMany = await call(RETURN, { input: { productId: a, quantity: 1, orderId: 'order-1' } });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.quantity' }] });

    await stock.reserveForOrder('order-2', [{ productId: a, quantity: 7 }], orderUser);
    expect((await levelOf(a)).reserved).toBe(7);
    await stock.releaseForOrder('order-2', orderUser);
    await stock.releaseForOrder('order-2', orderUser);
    expect(await levelOf(a)).toMatchObject({ onHand: 10, reserved: 0, available: 10 });
    // Nothing reserved: nothing to ship, nothing to release.
    expect(await failure(stock.shipForOrder('order-2', orderUser))).toMatchObject({ reason: 'STOCK_NOT_RESERVED', code: 'CONFLICT' });
    expect(await failure(stock.shipForOrder('order-unknown', orderUser))).toMatchObject({ reason: 'STOCK_NOT_RESERVED' });
    await stock.releaseForOrder('order-unknown', orderUser);

    const orderMovements = (await call(MOVEMENTS, { id: a, first: 20 })).data!.stockMovements.edges.map((e: any) => e.node).filter((m: any) => m.orderId);
    expect(orderMovements.map((m: any) => `${m.kind}:${m.orderId}:${m.quantity}`)).toEqual([
      'RELEASED:order-2:7',
      'RESERVED:order-2:7',
      'RETURNED:order-1:5',
      'SHIPPED:order-1:5',
      'RESERVED:order-1:5',
    ]);
    expect(orderMovements.filter((m: any) => m.kind !== 'RETURNED').every((m: any) => m.by === orderUser.id)).toBe(true);
  });

  it('refuses bad order lines and unknown products before reserving anything', async () => {
    const id = await newProduct();
    await receive(id, 5);
    const bad = await failure(stock.reserveForOrder('order-bad', [{ productId: id, quantity: -1 }, { productId: id, quantity: 1.5 }, { productId: 'x', quantity: 1 }], orderUser));
    expect(bad).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'STOCK_INVALID_INPUT' });
    expect(bad.fields.map((f) => f.field).sort()).toEqual(['lines.0.quantity', 'lines.1.quantity', 'lines.2.productId']);
    expect(await failure(stock.reserveForOrder('order-bad', [], orderUser))).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'lines' }] });
    expect(await failure(stock.reserveForOrder('', [{ productId: id, quantity: 1 }], orderUser))).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'orderId' }] });
    const unknown = await failure(stock.reserveForOrder('order-bad', [{ productId: id, quantity: 1 }, { productId: '64b7f0000000000000000000', quantity: 1 }], orderUser));
    expect(unknown).toMatchObject({ code: 'NOT_FOUND', reason: 'STOCK_PRODUCT_NOT_FOUND', fields: [{ field: 'lines.1.productId' }] });
    expect(await levelOf(id)).toMatchObject({ onHand: 5, reserved: 0 });
  });

  it('20 concurrent reservations of 1 against a stock of 10: exactly 10 reserved, 10 refused', async () => {
    const id = await newProduct();
    await receive(id, 10);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => stock.reserveForOrder(`race-${i}`, [{ productId: id, quantity: 1 }], orderUser)));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(refused).toHaveLength(10);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toMatchObject({ reason: 'STOCK_INSUFFICIENT', code: 'CONFLICT' });
    expect(await levelOf(id)).toEqual({ productId: id, onHand: 10, reserved: 10, available: 0 });
    const movements = (await call(MOVEMENTS, { id, first: 100 })).data!.stockMovements;
    expect(movements.totalCount).toBe(11);
    // The stored movements form one unbroken history.
    expect(movements.edges.map((e: any) => e.node.seq)).toEqual(Array.from({ length: 11 }, (_, i) => 11 - i));

    // Concurrent retries of one order and concurrent receipts stay exact too.
    const winner = results.findIndex((r) => r.status === 'fulfilled');
    await Promise.all(Array.from({ length: 5 }, () => stock.releaseForOrder(`race-${winner}`, orderUser)));
    await Promise.all(Array.from({ length: 10 }, () => call(RECEIVE, { input: { productId: id, quantity: 2 } })));
    expect(await levelOf(id)).toEqual({ productId: id, onHand: 30, reserved: 9, available: 21 });
  });

  it('concurrent two-line orders where the second product runs out give back their first line (all or none)', async () => {
    const [a, b] = [await newProduct(), await newProduct()];
    await receive(a, 10);
    await receive(b, 5);
    // All ten pass the up-front check together, reserve a, and five then find b gone and undo a.
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => stock.reserveForOrder(`pair-${i}`, [{ productId: a, quantity: 1 }, { productId: b, quantity: 1 }], orderUser)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ reason: 'STOCK_INSUFFICIENT', fields: [{ field: 'lines.1.quantity' }] });
    }
    expect(await levelOf(a)).toEqual({ productId: a, onHand: 10, reserved: 5, available: 5 });
    expect(await levelOf(b)).toEqual({ productId: b, onHand: 5, reserved: 5, available: 0 });
    // A refused order can reserve later, once stock arrived.
    const refused = results.findIndex((r) => r.status === 'rejected');
    await receive(b, 1);
    await stock.reserveForOrder(`pair-${refused}`, [{ productId: a, quantity: 1 }, { productId: b, quantity: 1 }], orderUser);
    expect((await levelOf(a)).reserved).toBe(6);
    expect((await levelOf(b)).reserved).toBe(6);
  });

  it('pages movements newest first with cursors', async () => {
    const id = await newProduct();
    for (let i = 1; i <= 5; i += 1) await receive(id, i);
    const first = (await call(MOVEMENTS, { id, first: 2 })).data!.stockMovements;
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((e: any) => e.node.quantity)).toEqual([5, 4]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await call(MOVEMENTS, { id, first: 10, after: first.pageInfo.endCursor })).data!.stockMovements;
    expect(rest.edges.map((e: any) => e.node.quantity)).toEqual([3, 2, 1]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
  });

  // Last in the file: it releases every orphaned reservation of this database (earlier tests' included).
  it('releases reservations whose order was never stored, after a grace period, once; a stored order keeps its stock', async () => {
    const product = await newProduct();
    await receive(product, 10);
    const placed = await call(`mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status } }`, {
      input: { customerId: '6740a1b2c3d4e5f601234567', currency: 'CNY', lines: [{ productId: product, quantity: 3, taxRateBasisPoints: 1300 }] },
    }, repToken);
    expect(placed.errors).toBeUndefined();
    expect(placed.data!.placeOrder.status).toBe('APPROVED');
    // As a process that died between reserving and storing its order would have left it.
    const lostOrder = '6740a1b2c3d4e5f60000dead';
    await stock.reserveForOrder(lostOrder, [{ productId: product, quantity: 4 }], orderUser);
    expect(await levelOf(product)).toMatchObject({ onHand: 10, reserved: 7 });

    const orders = running.services.orders;
    const existing = (ids: string[]) => orders.existingIds(ids);
    // Within the grace period nothing is touched.
    expect(await stock.releaseOrphanedReservations(new Date(), existing)).toBe(0);
    const later = new Date(Date.now() + 11 * 60_000);
    expect(await stock.releaseOrphanedReservations(later, existing)).toBeGreaterThanOrEqual(1);
    expect(await levelOf(product)).toMatchObject({ onHand: 10, reserved: 3, available: 7 });
    expect(await stock.releaseOrphanedReservations(later, existing)).toBe(0);
    const released = (await call(MOVEMENTS, { id: product, first: 1 })).data!.stockMovements.edges[0].node;
    expect(released).toMatchObject({ kind: 'RELEASED', quantity: 4, orderId: lostOrder, by: 'system', reason: 'No order was stored for this reservation' });
  });
});

