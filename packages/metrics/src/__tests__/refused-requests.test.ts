import { GraphQLError } from 'graphql';
import { afterAll, describe, expect, it } from 'vitest';
import { ServiceMetrics } from '../index.js';
import { probeServer, sample } from './probe-server.js';

// The gateway signs callers in and spends their rate budget while building the context: those
// refusals end the request before Apollo starts an operation.
const metrics = new ServiceMetrics('refusals');
const probe = await probeServer<{ caller: string }>(metrics, async ({ req }) => {
  const caller = req.headers['x-caller'];
  if (caller === 'anonymous') throw new GraphQLError('Sign in', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  if (caller === 'greedy') throw new GraphQLError('Slow down', { extensions: { code: 'RATE_LIMITED', http: { status: 429 } } });
  if (caller === 'broken') throw new Error('directory unreachable');
  return { caller: String(caller) };
});
const base = probe.base;
afterAll(() => probe.stop());

const post = (caller: string, body: string = JSON.stringify({ query: '{ ok }' })) =>
  fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-caller': caller }, body });

describe('requests refused before an operation starts (real Apollo and Express)', () => {
  it('count their error code and an errored operation, beside the HTTP status', async () => {
    expect((await post('anonymous')).status).toBe(401);
    expect((await post('greedy')).status).toBe(429);
    expect((await post('greedy')).status).toBe(429);
    expect((await post('broken')).status).toBe(500);
    // A body without a query is refused as a bad request.
    expect((await post('someone', JSON.stringify({ variables: {} }))).status).toBe(400);
    expect((await post('someone')).status).toBe(200);
    const text = await metrics.registry.metrics();
    expect(sample(text, 'crm_graphql_errors_total', { code: 'UNAUTHENTICATED' })).toBe(1);
    expect(sample(text, 'crm_graphql_errors_total', { code: 'RATE_LIMITED' })).toBe(2);
    expect(sample(text, 'crm_graphql_errors_total', { code: 'INTERNAL_SERVER_ERROR' })).toBe(1);
    expect(sample(text, 'crm_graphql_errors_total', { code: 'BAD_REQUEST' })).toBe(1);
    expect(sample(text, 'crm_graphql_operations_total', { operation: 'invalid', type: 'unknown', outcome: 'error' })).toBe(5);
    expect(sample(text, 'crm_graphql_operations_total', { operation: 'anonymous', type: 'query', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'crm_http_requests_total', { route: '/graphql', status: '429' })).toBe(2);
  });
});
