import { afterAll, describe, expect, it } from 'vitest';
import { ServiceMetrics } from '../index.js';
import { probeServer, sample } from './probe-server.js';

const metrics = new ServiceMetrics('probe', { maxOperationNames: 2 });
let lagCalls = 0;
metrics.watchConsumerLag(async () => {
  lagCalls += 1;
  return [{ group: 'g1', topic: 'crm.order', lag: 7 }];
});
metrics.watchConsumerLag(async () => {
  throw new Error('Kafka away');
});
metrics.watchOutboxBacklog(async () => [{ aggregate: 'orders', pending: 3 }]);

const probe = await probeServer(metrics);
const base = probe.base;
afterAll(() => probe.stop());

const post = (body: object) => fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const scrape = async () => (await fetch(`${base}/metrics`)).text();

describe('ServiceMetrics (real Apollo and Express)', () => {
  it('counts requests, operations and errors by code, with latency histograms', async () => {
    await post({ query: 'query A { ok }' });
    await post({ query: 'query A { ok }' });
    await post({ query: 'query B { fails }' });
    await post({ query: '{ nope }' });
    await fetch(`${base}/some/unknown/path`);
    const text = await scrape();
    expect(sample(text, 'crm_graphql_operations_total', { operation: 'A', type: 'query', outcome: 'ok', service: 'probe' })).toBe(2);
    expect(sample(text, 'crm_graphql_operations_total', { operation: 'B', type: 'query', outcome: 'error', service: 'probe' })).toBe(1);
    expect(sample(text, 'crm_graphql_operations_total', { operation: 'invalid', type: 'unknown', outcome: 'error', service: 'probe' })).toBe(1);
    expect(sample(text, 'crm_graphql_errors_total', { code: 'FORBIDDEN', service: 'probe' })).toBe(1);
    expect(sample(text, 'crm_graphql_errors_total', { code: 'GRAPHQL_VALIDATION_FAILED', service: 'probe' })).toBe(1);
    expect(sample(text, 'crm_http_requests_total', { method: 'POST', route: '/graphql', status: '200', service: 'probe' })).toBe(3);
    expect(sample(text, 'crm_http_requests_total', { method: 'GET', route: 'other', status: '404', service: 'probe' })).toBe(1);
    expect(sample(text, 'crm_graphql_operation_duration_seconds_count', { operation: 'A', type: 'query', service: 'probe' })).toBe(2);
    expect(sample(text, 'crm_http_request_duration_seconds_bucket', { le: '+Inf', method: 'POST', route: '/graphql', status: '200', service: 'probe' })).toBe(3);
    expect(text).toMatch(/^process_cpu_seconds_total\{service="probe"\}/m);
  });

  it('caps distinct operation names so clients cannot create unbounded series', async () => {
    for (const name of ['C', 'D', 'E']) await post({ query: `query ${name} { ok }` });
    const text = await scrape();
    expect(sample(text, 'crm_graphql_operations_total', { operation: 'C' })).toBeUndefined();
    expect(sample(text, 'crm_graphql_operations_total', { operation: 'other', type: 'query', outcome: 'ok', service: 'probe' })).toBe(3);
  });

  it('reads consumer lag and outbox backlog at scrape time; a failing reader drops only its series', async () => {
    const before = lagCalls;
    const text = await scrape();
    expect(lagCalls).toBe(before + 1);
    expect(sample(text, 'crm_kafka_consumer_lag', { group: 'g1', topic: 'crm.order', service: 'probe' })).toBe(7);
    expect(sample(text, 'crm_outbox_backlog', { aggregate: 'orders', service: 'probe' })).toBe(3);
  });
});
