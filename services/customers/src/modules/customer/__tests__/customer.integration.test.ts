import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startCustomers } from '../../../app.js';
import { customersEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'customers');
const running = await startCustomers(parseEnv(customersEnvSchema, rawEnv));
const [repToken, analystToken, customerToken] = await Promise.all([login(infra, 'sales.rep'), login(infra, 'analyst'), login(infra, 'customer')]);
// `null` means: send no token / no secret.
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string | null = repToken, secret: string | null = rawEnv.GATEWAY_SECRET!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token ?? undefined, secret ?? undefined));

// Every event on the real topic; this run's are found by id.
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.customer`);

afterAll(async () => {
  await watcher.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateCustomerInput!) {
    createCustomer(input: $input) { id name email phone organization lifecycleStage source tags ownerId createdAt updatedAt }
  }
`;

describe('customers subgraph (real Mongo, Kafka, Keycloak)', () => {
  it('creates a customer, reads it back and publishes customer.created keyed by its id', async () => {
    const created = await call(CREATE, {
      input: { name: '  Zhang Wei ', email: 'Zhang.Wei@Example.com', phone: '+86 138-0000-0000', organization: 'Tsinghua University', tags: ['vip', 'vip', 'edu'], source: 'trade show' },
    });
    expect(created.errors).toBeUndefined();
    const customer = created.data!.createCustomer;
    expect(customer).toMatchObject({
      name: 'Zhang Wei',
      email: 'zhang.wei@example.com',
      lifecycleStage: 'LEAD',
      tags: ['vip', 'edu'],
      organization: 'Tsinghua University',
    });
    expect(customer.ownerId).toMatch(/^[0-9a-f-]{36}$/);
    expect(customer.createdAt).toMatch(/Z$/);

    const read = await call(`query($id: ID!) { customer(id: $id) { id name email } }`, { id: customer.id }, analystToken);
    expect(read.data!.customer).toEqual({ id: customer.id, name: 'Zhang Wei', email: 'zhang.wei@example.com' });

    const { event } = await watcher.find((e) => e.subject === customer.id);
    expect(event).toMatchObject({ type: 'customer.created', source: '/crm/customers', data: { customerId: customer.id, name: 'Zhang Wei' } });
    expect(JSON.stringify(event.data)).not.toContain('zhang.wei@example.com');
    // Published and removed from the outbox.
    await eventually(async () => {
      const doc = await running.deps.connection.collection('customers').findOne({ name: 'Zhang Wei' });
      return Array.isArray(doc?.pendingEvents) && doc.pendingEvents.length === 0;
    });
  });

  it('pages through customers with cursors', async () => {
    for (const name of ['Page A', 'Page B', 'Page C']) expect((await call(CREATE, { input: { name } })).errors).toBeUndefined();
    const LIST = `query($after: String) { customers(first: 2, after: $after) { totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }`;
    const first = (await call(LIST)).data!.customers;
    expect(first.totalCount).toBe(4);
    expect(first.edges.map((e: any) => e.node.name)).toEqual(['Zhang Wei', 'Page A']);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = (await call(LIST, { after: first.pageInfo.endCursor })).data!.customers;
    expect(second.edges.map((e: any) => e.node.name)).toEqual(['Page B', 'Page C']);
    expect(second.pageInfo).toEqual({ hasNextPage: false, endCursor: second.edges[1].cursor });
  });

  it('rejects bad input with BAD_USER_INPUT and field details, writing nothing', async () => {
    const before = await running.deps.connection.collection('customers').countDocuments();
    const result = await call(CREATE, { input: { name: ' ', email: 'not-an-email', phone: 'call me', tags: Array(21).fill('x') } });
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CUSTOMER_INVALID_INPUT' });
    const fields = (result.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort();
    expect(fields).toEqual(['input.email', 'input.name', 'input.phone', 'input.tags']);
    expect(await running.deps.connection.collection('customers').countDocuments()).toBe(before);

    const badCursor = await call(`{ customers(after: "zzz") { totalCount } }`);
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badSize = await call(`{ customers(first: 1000) { totalCount } }`);
    expect(badSize.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'first' }] });
  });

  it('answers null for unknown or malformed ids', async () => {
    const result = await call(`{ a: customer(id: "64b7f0000000000000000000") { id } b: customer(id: "nope") { id } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ a: null, b: null });
  });

  it('enforces roles: analysts read but do not create; customers do neither', async () => {
    const analystCreate = await call(CREATE, { input: { name: 'X' } }, analystToken);
    expect(analystCreate.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const customerRead = await call(`{ customers { totalCount } }`, {}, customerToken);
    expect(customerRead.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('resolves Customer entities for other subgraphs', async () => {
    const created = (await call(CREATE, { input: { name: 'Entity Ref' } })).data!.createCustomer;
    const result = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id name } } }`, {
      r: [{ __typename: 'Customer', id: created.id }],
    });
    expect(result.data!._entities).toEqual([{ id: created.id, name: 'Entity Ref' }]);
  });

  it('refuses callers without the gateway secret or without a valid token', async () => {
    const noSecret = await call(`{ customers { totalCount } }`, {}, repToken, null);
    expect(noSecret.status).toBe(403);
    expect(noSecret.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const wrongSecret = await call(`{ customers { totalCount } }`, {}, repToken, 'x'.repeat(32));
    expect(wrongSecret.status).toBe(403);
    const noToken = await call(`{ customers { totalCount } }`, {}, null);
    expect(noToken.status).toBe(401);
    expect(noToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const badToken = await call(`{ customers { totalCount } }`, {}, 'a.b.c');
    expect(badToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('reports alive and ready', async () => {
    const base = running.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { mongo: true, kafka: true, accepting: true } });
  });
});
