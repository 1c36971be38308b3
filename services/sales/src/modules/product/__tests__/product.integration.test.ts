import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startSales } from '../../../app.js';
import { salesEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'sales');
const running = await startSales(parseEnv(salesEnvSchema, rawEnv));
const [adminToken, managerToken, repToken, agentToken, marketerToken, analystToken, customerToken] = await Promise.all([
  login(infra, 'admin'),
  login(infra, 'sales.manager'),
  login(infra, 'sales.rep'),
  login(infra, 'service.agent'),
  login(infra, 'marketer'),
  login(infra, 'analyst'),
  login(infra, 'customer'),
]);
// `null` means: send no token / no secret.
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string | null = managerToken, secret: string | null = rawEnv.GATEWAY_SECRET!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token ?? undefined, secret ?? undefined));
const products = () => running.deps.connection.collection('products');

// Every event on the real topic; this run's are found by id.
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.product`);

afterAll(async () => {
  await watcher.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const FIELDS = 'id sku name category price { amountMinor currency } cost { amountMinor currency } status createdAt updatedAt';
const CREATE = /* GraphQL */ `
  mutation Create($input: CreateProductInput!) {
    createProduct(input: $input) { ${FIELDS} }
  }
`;
const GET = `query($id: ID!) { product(id: $id) { ${FIELDS} } }`;
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });

describe('sales subgraph: products (real Mongo, Kafka, Keycloak)', () => {
  it('creates a product, reads it back and publishes product.created keyed by its id', async () => {
    // Amounts beyond GraphQL's 32-bit Int: SafeInt carries them.
    const created = await call(CREATE, {
      input: { sku: ' edu-tab-10 ', name: '  Edu Tablet 10 ', category: 'Hardware', price: cny(5_000_000_001), cost: cny(3_100_000_007) },
    });
    expect(created.errors).toBeUndefined();
    const product = created.data!.createProduct;
    expect(product).toMatchObject({
      sku: 'EDU-TAB-10',
      name: 'Edu Tablet 10',
      category: 'Hardware',
      price: { amountMinor: 5_000_000_001, currency: 'CNY' },
      cost: { amountMinor: 3_100_000_007, currency: 'CNY' },
      status: 'ACTIVE',
    });
    expect(product.id).toMatch(/^[0-9a-f]{24}$/);
    expect(product.createdAt).toMatch(/Z$/);
    expect(product.updatedAt).toBe(product.createdAt);

    const read = await call(GET, { id: product.id }, managerToken);
    expect(read.errors).toBeUndefined();
    expect(read.data!.product).toEqual(product);

    const { key, event } = await watcher.find((e) => e.subject === product.id, 15_000);
    expect(key).toBe(product.id);
    expect(event).toMatchObject({
      type: 'product.created',
      source: '/crm/sales',
      data: { productId: product.id, sku: 'EDU-TAB-10', name: 'Edu Tablet 10', category: 'Hardware', price: { amountMinor: 5_000_000_001, currency: 'CNY' }, status: 'ACTIVE' },
    });
    // The cost is restricted; it never leaves the service in an event.
    expect(JSON.stringify(event.data)).not.toContain('3100000007');
    // Published and removed from the outbox.
    await eventually(async () => {
      const doc = await products().findOne({ sku: 'EDU-TAB-10' });
      return Array.isArray(doc?.pendingEvents) && doc.pendingEvents.length === 0;
    });
  });

  it('pages through products with cursors', async () => {
    for (const sku of ['PAGE-A', 'PAGE-B', 'PAGE-C']) {
      expect((await call(CREATE, { input: { sku, name: sku, price: cny(100) } })).errors).toBeUndefined();
    }
    const LIST = `query($after: String) { products(first: 2, after: $after) { totalCount edges { cursor node { sku } } pageInfo { hasNextPage endCursor } } }`;
    const first = (await call(LIST, {}, repToken)).data!.products;
    expect(first.totalCount).toBe(4);
    expect(first.edges.map((e: any) => e.node.sku)).toEqual(['EDU-TAB-10', 'PAGE-A']);
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[1].cursor });
    const second = (await call(LIST, { after: first.pageInfo.endCursor }, repToken)).data!.products;
    expect(second.edges.map((e: any) => e.node.sku)).toEqual(['PAGE-B', 'PAGE-C']);
    expect(second.pageInfo).toEqual({ hasNextPage: false, endCursor: second.edges[1].cursor });

    const badCursor = await call(`{ products(after: "zzz") { totalCount } }`);
    expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'after' }] });
    const badSize = await call(`{ products(first: 1000) { totalCount } }`);
    expect(badSize.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'first' }] });
  });

  it('rejects bad input with BAD_USER_INPUT and field details, writing nothing', async () => {
    const before = await products().countDocuments();
    const fieldsOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
      (result.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort();

    // Bad sku, empty name, negative price, lower-case currency.
    const bad = await call(CREATE, { input: { sku: '-no spaces!', name: ' ', price: { amountMinor: -100, currency: 'cny' } } });
    expect(bad.data).toBeNull();
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PRODUCT_INVALID_INPUT' });
    expect(fieldsOf(bad)).toEqual(['input.name', 'input.price.amountMinor', 'input.price.currency', 'input.sku']);

    const shortSku = await call(CREATE, { input: { sku: 'A', name: 'Short', price: cny(1) } });
    expect(fieldsOf(shortSku)).toEqual(['input.sku']);
    const longSku = await call(CREATE, { input: { sku: 'A'.repeat(41), name: 'Long', price: cny(1) } });
    expect(fieldsOf(longSku)).toEqual(['input.sku']);

    const badCurrency = await call(CREATE, { input: { sku: 'CUR-1', name: 'Yuan', price: { amountMinor: 100, currency: 'yuan' } } });
    expect(badCurrency.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.price.currency' }] });

    const negativeCost = await call(CREATE, { input: { sku: 'NEG-COST', name: 'Negative cost', price: cny(100), cost: cny(-1) } });
    expect(fieldsOf(negativeCost)).toEqual(['input.cost.amountMinor']);

    const mixed = await call(CREATE, { input: { sku: 'MIXED-1', name: 'Mixed', price: cny(100), cost: { amountMinor: 50, currency: 'USD' } } });
    expect(mixed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PRODUCT_INVALID_INPUT' });
    expect(fieldsOf(mixed)).toEqual(['input.cost.currency']);

    // A fraction of a fen never reaches the service: the SafeInt scalar refuses it during variable coercion.
    const fractional = await call(CREATE, { input: { sku: 'FRAC-1', name: 'Fraction', price: { amountMinor: 12.5, currency: 'CNY' } } });
    expect(fractional.status).toBe(400);
    expect(fractional.data).toBeUndefined();
    expect(fractional.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(fractional.errors?.[0]?.message).toContain('input.price.amountMinor');
    const beyondSafe = await call(CREATE, { input: { sku: 'HUGE-1', name: 'Huge', price: { amountMinor: 2 ** 53, currency: 'CNY' } } });
    expect(beyondSafe.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    // Written inline instead of as a variable, the same fraction fails in validation; Apollo labels every
    // validation error GRAPHQL_VALIDATION_FAILED (see README.md: mapping it belongs in @crm/subgraph).
    const inline = await call(`mutation { createProduct(input: { sku: "FRAC-2", name: "Inline", price: { amountMinor: 12.5, currency: "CNY" } }) { id } }`);
    expect(inline.status).toBe(400);
    expect(inline.data).toBeUndefined();
    expect(inline.errors?.[0]?.message).toContain('SafeInt');
    expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(inline.errors?.[0]?.extensions?.code);

    expect(await products().countDocuments()).toBe(before);
  });

  it('refuses a second product with the same SKU (CONFLICT), also in other letter case', async () => {
    const indexes = await products().indexes();
    expect(indexes.find((index) => index.key.sku === 1)).toMatchObject({ unique: true });

    expect((await call(CREATE, { input: { sku: 'DUP-1', name: 'First', price: cny(100) } })).errors).toBeUndefined();
    const duplicate = await call(CREATE, { input: { sku: ' dup-1', name: 'Second', price: cny(200) } });
    expect(duplicate.data).toBeNull();
    expect(duplicate.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'PRODUCT_SKU_TAKEN', fields: [{ field: 'input.sku' }] });
    const stored = await products().find({ sku: 'DUP-1' }).toArray();
    expect(stored.map((doc) => doc.name)).toEqual(['First']);
  });

  it('answers null for unknown or malformed ids', async () => {
    const result = await call(`{ a: product(id: "64b7f0000000000000000000") { id } b: product(id: "nope") { id } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ a: null, b: null });
  });

  it('enforces roles: admins and sales managers create; every staff role reads; customers do neither', async () => {
    const byAdmin = await call(CREATE, { input: { sku: 'ADMIN-1', name: 'By admin', price: cny(1) } }, adminToken);
    expect(byAdmin.errors).toBeUndefined();
    expect(byAdmin.data!.createProduct.sku).toBe('ADMIN-1');

    const before = await products().countDocuments();
    for (const token of [repToken, agentToken, marketerToken, analystToken, customerToken]) {
      const denied = await call(CREATE, { input: { sku: 'DENIED-1', name: 'Denied', price: cny(1) } }, token);
      expect(denied.data).toBeNull();
      expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_ROLE' });
    }
    expect(await products().countDocuments()).toBe(before);

    for (const token of [adminToken, managerToken, repToken, agentToken, marketerToken, analystToken]) {
      const read = await call(`{ products { totalCount } }`, {}, token);
      expect(read.errors).toBeUndefined();
      expect(read.data!.products.totalCount).toBe(before);
    }

    const customerList = await call(`{ products { totalCount } }`, {}, customerToken);
    expect(customerList.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const customerGet = await call(GET, { id: byAdmin.data!.createProduct.id }, customerToken);
    expect(customerGet.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(customerGet.data?.product ?? null).toBeNull();
  });

  it('shows the cost to admins and sales managers only', async () => {
    const { id } = (await call(CREATE, { input: { sku: 'MARGIN-1', name: 'Margin', price: cny(10_000), cost: cny(6_500) } })).data!.createProduct;
    const costAs = async (token: string) => {
      const result = await call(`query($id: ID!) { product(id: $id) { price { amountMinor } cost { amountMinor currency } } }`, { id }, token);
      expect(result.errors).toBeUndefined();
      expect(result.data!.product.price).toEqual({ amountMinor: 10_000 });
      return result.data!.product.cost;
    };
    expect(await costAs(managerToken)).toEqual({ amountMinor: 6_500, currency: 'CNY' });
    expect(await costAs(adminToken)).toEqual({ amountMinor: 6_500, currency: 'CNY' });
    for (const token of [repToken, agentToken, marketerToken, analystToken]) expect(await costAs(token)).toBeNull();

    // Also in lists and entity lookups.
    const LIST = `{ products(first: 100) { edges { node { sku cost { amountMinor } } } } }`;
    const repList = (await call(LIST, {}, repToken)).data!.products.edges.map((e: any) => e.node);
    expect(repList.length).toBeGreaterThan(1);
    expect(repList.every((node: any) => node.cost === null)).toBe(true);
    const managerList = (await call(LIST, {}, managerToken)).data!.products.edges.map((e: any) => e.node);
    expect(managerList.find((node: any) => node.sku === 'MARGIN-1').cost).toEqual({ amountMinor: 6_500 });
    const entity = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { cost { amountMinor } } } }`, {
      r: [{ __typename: 'Product', id }],
    }, repToken);
    expect(entity.data!._entities).toEqual([{ cost: null }]);
  });

  it('resolves Product entities for other subgraphs', async () => {
    const created = (await call(CREATE, { input: { sku: 'ENTITY-1', name: 'Entity Ref', price: cny(990) } })).data!.createProduct;
    const result = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id sku name price { amountMinor currency } } } }`, {
      r: [{ __typename: 'Product', id: created.id }, { __typename: 'Product', id: '64b7f0000000000000000000' }],
    }, analystToken);
    expect(result.errors).toBeUndefined();
    expect(result.data!._entities).toEqual([{ id: created.id, sku: 'ENTITY-1', name: 'Entity Ref', price: { amountMinor: 990, currency: 'CNY' } }, null]);
  });

  it('refuses callers without the gateway secret or without a valid token', async () => {
    const noSecret = await call(`{ products { totalCount } }`, {}, repToken, null);
    expect(noSecret.status).toBe(403);
    expect(noSecret.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const wrongSecret = await call(`{ products { totalCount } }`, {}, repToken, 'x'.repeat(32));
    expect(wrongSecret.status).toBe(403);
    const noToken = await call(`{ products { totalCount } }`, {}, null);
    expect(noToken.status).toBe(401);
    expect(noToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const badToken = await call(`{ products { totalCount } }`, {}, 'a.b.c');
    expect(badToken.status).toBe(401);
    expect(badToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('reports alive and ready', async () => {
    const base = running.url.replace(/\/graphql$/, '');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { mongo: true, kafka: true, accepting: true } });
  });
});
