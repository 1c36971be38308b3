import { afterAll, describe, expect, it } from 'vitest';
import { graphql, login, testInfra } from '@crm/testing';
import { startGateway } from '../app.js';
import type { GatewayEnv } from '../env.js';
import { testGatewayEnv } from './helpers.js';

// Every defence here acts before a subgraph is called, so none runs: a request that got past them
// would fail later with a masked INTERNAL_SERVER_ERROR (subgraph down), never with the codes asserted.
const infra = await testInfra();
const gateway = await startGateway(testGatewayEnv(infra));
const production = await startGateway({ ...testGatewayEnv(infra), NODE_ENV: 'production', RATE_LIMIT_PER_MINUTE: 5 } as GatewayEnv);
afterAll(async () => {
  await gateway.stop();
  await production.stop();
});
const token = await login(infra, 'sales.rep');
const auth = { authorization: `Bearer ${token}` };
const ask = (query: string, variables: Record<string, unknown> = {}, url = gateway.url) => graphql(url, query, variables, auth);

function nested(depth: number): string {
  // Customer.orders → Order.customer → ... : a legal cycle the schema allows.
  let selection = 'id';
  for (let i = 0; i < depth; i += 1) selection = i % 2 === 0 ? `orders { edges { node { ${selection} } } }` : `customer { ${selection} }`;
  return `{ customer(id: "c1") { ${selection} } }`;
}

describe('gateway GraphQL hardening (real Keycloak, before any subgraph)', () => {
  it('refuses a query deeper than the limit', async () => {
    const result = await ask(nested(6));
    expect(result.status).toBe(400);
    expect(result.errors?.[0]).toMatchObject({ message: 'Query too deep', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it('refuses an alias flood', async () => {
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: customer(id: "c${i}") { id }`).join(' ');
    const result = await ask(`{ ${aliases} }`);
    expect(result.status).toBe(400);
    expect(result.errors?.[0]).toMatchObject({ message: 'Too many aliases', extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
  });

  it('refuses a directive flood', async () => {
    const result = await ask(`{ __typename ${'@include(if: true) '.repeat(21)} }`);
    expect(result.status).toBe(400);
    expect(result.errors?.map((e) => e.message)).toContain('Too many directives');
  });

  it('refuses a document with too many tokens before parsing it all', async () => {
    const result = await ask(`{ ${'__typename '.repeat(3100)} }`);
    expect(result.status).toBe(400);
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(result.errors?.[0]?.message).toMatch(/more th\w+ 3000 tokens/);
  });

  it('refuses a query whose cost is over the limit though depth and aliases are within theirs', async () => {
    const wide = 'id name email level ownerId createdAt updatedAt';
    const fields = Array.from({ length: 25 }, (_, i) => `c${i}: customers(first: 100) { edges { node { ${wide} orders { edges { node { id } } } } } }`).join(' ');
    const result = await ask(`{ ${fields} }`);
    expect(result.status).toBe(400);
    expect(result.errors?.map((e) => e.message)).toContain('Query too expensive');
  });

  it('caps `first` on every list, as a literal or a variable, with the field named', async () => {
    const literal = await ask('{ customers(first: 1000) { totalCount } }');
    expect(literal.status).toBe(400);
    expect(literal.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', fields: [{ field: 'first', message: 'Must be at most 100' }] });
    const variable = await ask('query Q($n: Int) { products(first: $n) { totalCount } }', { n: 101 });
    expect(variable.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const fragment = await ask('query { ...F } fragment F on Query { orders(first: 101) { totalCount } }');
    expect(fragment.errors?.[0]?.extensions?.code, JSON.stringify(fragment.errors)).toBe('BAD_USER_INPUT');
    // A list made for bulk reads keeps its own, larger cap (what the marketing subgraph allows).
    const bulk = await ask('{ segment(id: "s1") { memberIds(first: 1000) } }');
    expect(bulk.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR'); // past the cap; no subgraph runs here
    const tooBig = await ask('{ segment(id: "s1") { memberIds(first: 1001) } }');
    expect(tooBig.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', fields: [{ field: 'first', message: 'Must be at most 1000' }] });
  });

  it('refuses NUL characters in variables and in string literals, naming where', async () => {
    const variable = await ask('query Q($s: String) { customers(search: $s) { totalCount } }', { s: 'a\u0000b' });
    expect(variable.status).toBe(400);
    expect(variable.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', fields: [{ field: 's', message: 'Contains a NUL character' }] });
    const nested = await ask('mutation M($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }', { input: { name: 'x', tags: ['ok', 'n\u0000'] } });
    expect(nested.errors?.[0]?.extensions?.fields).toEqual([{ field: 'input.tags.1', message: 'Contains a NUL character' }]);
    const literal = await ask('{ customers(search: "a\\u0000b") { totalCount } }');
    expect(literal.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('does not take automatic persisted queries (no cache any caller can fill)', async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ query: '{ __typename }', extensions: { persistedQuery: { version: 1, sha256Hash: 'abc' } } }),
    });
    expect(response.status).toBeLessThan(500);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
  });

  it('refuses batched requests', async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(response.status).toBe(400);
  });

  it('keeps CSRF prevention on: a simple GET without a preflight header is refused', async () => {
    const response = await fetch(`${gateway.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: auth });
    expect(response.status).toBe(400);
    expect(await response.text()).toMatch(/CSRF/);
  });

  it('answers an oversized body with 413 and a JSON error', async () => {
    const response = await fetch(gateway.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ query: '{ __typename }', variables: { x: 'x'.repeat(2.2 * 1024 * 1024) } }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ errors: [{ message: 'Request body too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
  });

  it('answers malformed JSON with 400 and a JSON error', async () => {
    const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: '{"query": ' });
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('masks internal failures: no subgraph address, driver message or stack trace reaches the client', async () => {
    const result = await ask('{ customers(first: 1) { totalCount } }');
    expect(result.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(Object.keys(result.errors?.[0]?.extensions ?? {})).toEqual(['code']);
    expect(JSON.stringify(result)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|stacktrace|fetch failed/);
  });

  it('allows introspection and suggestions in development', async () => {
    const result = await ask('{ __schema { queryType { name } } }');
    expect(result.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const typo = await ask('{ customerz { totalCount } }');
    expect(typo.errors?.[0]?.message).toMatch(/Did you mean/);
  });
});

describe('gateway in production mode', () => {
  it('turns introspection and field suggestions off', async () => {
    const introspection = await ask('{ __schema { queryType { name } } }', {}, production.url);
    expect(introspection.status).toBe(400);
    expect(introspection.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const typo = await ask('{ customerz { totalCount } }', {}, production.url);
    expect(typo.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it('limits each user to their budget with 429, RATE_LIMITED and Retry-After; other users are unaffected', async () => {
    const other = { authorization: `Bearer ${await login(infra, 'service.agent')}` };
    const statuses: number[] = [];
    let last: Response | undefined;
    // Two requests were already spent by the previous test.
    for (let i = 0; i < 4; i += 1) {
      last = await fetch(production.url, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ query: '{ __typename }' }) });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await last!.json()) as any;
    expect(body.errors[0].extensions).toMatchObject({ code: 'RATE_LIMITED' });
    const fromOther = await graphql(production.url, '{ __typename }', {}, other);
    expect(fromOther.status).toBe(200);
  });

  it('throttles failed sign-ins by client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await graphql(production.url, '{ __typename }', {}, { authorization: 'Bearer not.a.token' })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });
});
