import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startSales } from '../../../app.js';
import { salesEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'sales');
const running = await startSales(parseEnv(salesEnvSchema, rawEnv));
const [adminToken, managerToken, repToken] = await Promise.all([login(infra, 'admin'), login(infra, 'sales.manager'), login(infra, 'sales.rep')]);
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = managerToken) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const products = () => running.deps.connection.collection('products');
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.product`);

afterAll(async () => {
  await watcher.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const FIELDS = 'id sku name category placeOfProduction productionDate processingNotes price { amountMinor currency } cost { amountMinor currency } status version createdAt updatedAt';
const CREATE = `mutation($input: CreateProductInput!) { createProduct(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateProductInput!, $v: Int) { updateProduct(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;
const LIST = `query($filter: ProductFilter, $after: String, $first: Int) { products(filter: $filter, after: $after, first: $first) { totalCount edges { node { sku } } pageInfo { hasNextPage endCursor } } }`;
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });
const fieldsOf = (result: any) => (result.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort();

async function create(input: Record<string, unknown>, token = managerToken) {
  const result = await call(CREATE, { input: { price: cny(100), ...input } }, token);
  expect(result.errors).toBeUndefined();
  return result.data!.createProduct;
}

describe('sales subgraph: product catalogue fields, updates, status, filters (SAL-1)', () => {
  it('stores place and date of production and processing notes; drafts are created on request', async () => {
    const product = await create({
      sku: 'TEA-PUER-2019',
      name: 'Pu-erh cake 357 g',
      category: 'Tea',
      placeOfProduction: ' Menghai, Yunnan ',
      productionDate: '2019-04-15',
      processingNotes: 'Aged 5 years; re-wrapped in cotton paper',
      price: cny(129_900),
      cost: cny(40_000),
      status: 'DRAFT',
    });
    expect(product).toMatchObject({
      sku: 'TEA-PUER-2019',
      placeOfProduction: 'Menghai, Yunnan',
      productionDate: '2019-04-15',
      processingNotes: 'Aged 5 years; re-wrapped in cotton paper',
      status: 'DRAFT',
      version: 1,
      cost: cny(40_000),
    });
    const stored = await products().findOne({ sku: 'TEA-PUER-2019' });
    expect(stored!.productionDate).toEqual(new Date('2019-04-15T00:00:00.000Z'));
    // Still ACTIVE when no status is given (what quotes and orders expect of a new product).
    expect((await create({ sku: 'TEA-DEFAULT', name: 'Default' })).status).toBe('ACTIVE');

    const bad = await call(CREATE, { input: { sku: 'TEA-BAD', name: 'Bad', price: cny(1), productionDate: '2999-01-01', placeOfProduction: 'x'.repeat(201) } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PRODUCT_INVALID_INPUT' });
    expect(fieldsOf(bad)).toEqual(['input.placeOfProduction', 'input.productionDate']);
    const notADate = await call(CREATE, { input: { sku: 'TEA-BAD', name: 'Bad', price: cny(1), productionDate: '2019-02-30' } });
    expect(notADate.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await products().countDocuments({ sku: 'TEA-BAD' })).toBe(0);
  });

  it('updates with a version check and publishes product.updated without the cost', async () => {
    const product = await create({ sku: 'UPD-1', name: 'Before', category: 'A', price: cny(1000), cost: cny(600) });
    const updated = await call(UPDATE, { id: product.id, v: 1, input: { name: ' After ', category: null, cost: cny(777_777), productionDate: '2024-01-31' } });
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateProduct).toMatchObject({ name: 'After', category: null, cost: cny(777_777), productionDate: '2024-01-31', version: 2, sku: 'UPD-1' });
    expect(updated.data!.updateProduct.updatedAt > product.updatedAt).toBe(true);

    const { event } = await watcher.find((e) => e.subject === product.id && e.type === 'product.updated', 15_000);
    expect(event.data).toMatchObject({ productId: product.id, name: 'After', category: null, productionDate: '2024-01-31', version: 2, previousStatus: null });
    expect(event.data.changed.sort()).toEqual(['category', 'cost', 'name', 'productionDate']);
    expect(JSON.stringify(event.data)).not.toContain('777777');
    expect(event.data).not.toHaveProperty('cost');

    // A stale version is refused and changes nothing.
    const stale = await call(UPDATE, { id: product.id, v: 1, input: { name: 'Lost update' } });
    expect(stale.data).toBeNull();
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'PRODUCT_VERSION_CONFLICT' });
    expect((await products().findOne({ sku: 'UPD-1' }))!.name).toBe('After');

    // Nothing changed: no new version, no event.
    const same = await call(UPDATE, { id: product.id, v: 2, input: { name: 'After' } });
    expect(same.data!.updateProduct.version).toBe(2);

    // Concurrent updates at one version: exactly one wins.
    const racers = await Promise.all(['R1', 'R2', 'R3', 'R4'].map((name) => call(UPDATE, { id: product.id, v: 2, input: { name } })));
    expect(racers.filter((r) => !r.errors)).toHaveLength(1);
    expect(racers.filter((r) => r.errors?.[0]?.extensions?.code === 'CONFLICT')).toHaveLength(3);
    expect((await products().findOne({ sku: 'UPD-1' }))!.version).toBe(3);

    await eventually(async () => watcher.seen.filter((w) => w.event.subject === product.id).length === 3, 15_000);
  });

  it('rejects bad updates field by field, wrong roles, unknown ids', async () => {
    const product = await create({ sku: 'UPD-2', name: 'Two', price: cny(1000), cost: cny(500) });
    const bad = await call(UPDATE, { id: product.id, input: { name: null, price: { amountMinor: -1, currency: 'CNY' }, status: null } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PRODUCT_INVALID_INPUT' });
    expect(fieldsOf(bad)).toEqual(['input.name', 'input.price.amountMinor', 'input.status']);
    // Changing the price's currency alone would leave the cost in another one.
    const currency = await call(UPDATE, { id: product.id, input: { price: { amountMinor: 100, currency: 'USD' } } });
    expect(currency.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.price.currency' }] });
    const denied = await call(UPDATE, { id: product.id, input: { name: 'Rep' } }, repToken);
    expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_ROLE' });
    const missing = await call(UPDATE, { id: '64b7f0000000000000000000', input: { name: 'X' } });
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'PRODUCT_NOT_FOUND' });
    expect(await products().findOne({ sku: 'UPD-2' })).toMatchObject({ name: 'Two', version: 1, price: cny(1000) });
    // Admins may.
    expect((await call(UPDATE, { id: product.id, input: { name: 'By admin' } }, adminToken)).data!.updateProduct.name).toBe('By admin');
  });

  it('allows only the status changes of the life cycle', async () => {
    const draft = await create({ sku: 'LIFE-1', name: 'Life', status: 'DRAFT' });
    const status = async (to: string) => call(UPDATE, { id: draft.id, input: { status: to } });
    expect((await status('ACTIVE')).data!.updateProduct.status).toBe('ACTIVE');
    const back = await status('DRAFT');
    expect(back.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PRODUCT_STATUS_TRANSITION', fields: [{ field: 'input.status' }] });
    expect((await status('DISCONTINUED')).data!.updateProduct.status).toBe('DISCONTINUED');
    const { event } = await watcher.find((e) => e.subject === draft.id && e.data.status === 'DISCONTINUED', 15_000);
    expect(event.data).toMatchObject({ previousStatus: 'ACTIVE', changed: ['status'] });
    expect((await status('DRAFT')).errors?.[0]?.extensions?.reason).toBe('PRODUCT_STATUS_TRANSITION');
    expect((await status('ACTIVE')).data!.updateProduct).toMatchObject({ status: 'ACTIVE', version: 4 });
  });

  it('filters by status and category and searches name and SKU literally, with cursor paging', async () => {
    await create({ sku: 'FLT-PEN-1', name: 'Fountain pen (blue)', category: 'Stationery' });
    await create({ sku: 'FLT-PEN-2', name: 'Ballpoint pen', category: 'Stationery', status: 'DRAFT' });
    await create({ sku: 'FLT-INK-1', name: 'Ink 50ml', category: 'Stationery', status: 'DISCONTINUED' });
    await create({ sku: 'FLT-DESK', name: 'Desk lamp', category: 'Furniture' });
    const skus = async (filter: Record<string, unknown>, token = repToken) => {
      const result = await call(LIST, { filter, first: 100 }, token);
      expect(result.errors).toBeUndefined();
      return result.data!.products.edges.map((e: any) => e.node.sku);
    };
    expect(await skus({ category: 'Stationery' })).toEqual(['FLT-PEN-1', 'FLT-PEN-2', 'FLT-INK-1']);
    expect(await skus({ category: 'Stationery', status: ['ACTIVE', 'DRAFT'] })).toEqual(['FLT-PEN-1', 'FLT-PEN-2']);
    expect(await skus({ search: 'PEN' })).toEqual(['FLT-PEN-1', 'FLT-PEN-2']);
    expect(await skus({ search: 'flt-ink' })).toEqual(['FLT-INK-1']);
    // Taken literally: "(blue)" and "." are not patterns.
    expect(await skus({ search: '(blue)' })).toEqual(['FLT-PEN-1']);
    expect(await skus({ search: '.*' })).toEqual([]);
    expect(await skus({ search: 'lamp', status: ['DISCONTINUED'] })).toEqual([]);

    const page1 = (await call(LIST, { filter: { category: 'Stationery' }, first: 2 })).data!.products;
    expect(page1).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    const page2 = (await call(LIST, { filter: { category: 'Stationery' }, first: 2, after: page1.pageInfo.endCursor })).data!.products;
    expect(page2.edges.map((e: any) => e.node.sku)).toEqual(['FLT-INK-1']);

    const bad = await call(LIST, { filter: { search: '   ', category: 'x'.repeat(101) } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(fieldsOf(bad)).toEqual(['filter.category', 'filter.search']);
  });
});
