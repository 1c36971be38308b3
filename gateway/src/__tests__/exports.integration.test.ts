import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { login, testInfra } from '@crm/testing';
import { startGateway } from '../app.js';
import type { GatewayEnv } from '../env.js';
import { testGatewayEnv } from './helpers.js';

// The gateway's download proxy against the real Keycloak. Standing in for the customers subgraph is a
// small HTTP server of our own that records what it received and streams its answer in two parts;
// the customers route itself is tested in services/customers (customer-export.integration.test.ts).
const infra = await testInfra();

let release: () => void = () => undefined;
const received: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
const stub = http.createServer((req, res) => {
  received.push({ url: req.url ?? '', headers: req.headers });
  if (req.url?.includes('format=pdf')) {
    res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ errors: [{ message: 'Invalid export request', extensions: { code: 'BAD_USER_INPUT' } }] }));
    return;
  }
  if (req.url?.startsWith('/reports/')) {
    res.writeHead(200, { 'content-type': 'image/svg+xml; charset=utf-8' });
    res.end('<svg xmlns="http://www.w3.org/2000/svg"/>');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="customers-x.csv"', 'x-internal': 'no' });
  res.write('id,name\n1,first part\n');
  // The rest only once the test has read the first part through the gateway: nothing is buffered.
  new Promise<void>((resolve) => {
    release = resolve;
  }).then(() => res.end('2,second part\n'));
});
await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
const stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/graphql`;

const env = { ...testGatewayEnv(infra), SUBGRAPH_CUSTOMERS_URL: stubUrl, SUBGRAPH_ANALYTICS_URL: stubUrl } as GatewayEnv;
const gateway = await startGateway(env);
const base = gateway.url.replace(/\/graphql$/, '');
const token = await login(infra, 'sales.rep');

afterAll(async () => {
  release();
  await gateway.stop();
  await new Promise((resolve) => stub.close(resolve));
});

describe('gateway export downloads (real Keycloak, stub subgraph)', () => {
  it('refuses a missing or invalid token with 401 before calling the subgraph', async () => {
    const before = received.length;
    const missing = await fetch(`${base}/exports/customers?format=csv`);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const invalid = await fetch(`${base}/exports/customers?format=csv`, { headers: { authorization: 'Bearer a.b.c' } });
    expect(invalid.status).toBe(401);
    expect(received.length).toBe(before);
  });

  it('streams the subgraph answer through with its secret, the token and the query string', async () => {
    const filter = JSON.stringify({ levels: ['VIP'] });
    const response = await fetch(`${base}/exports/customers?format=csv&filter=${encodeURIComponent(filter)}&search=zhang`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="customers-x.csv"');
    expect(response.headers.get('x-internal')).toBeNull();

    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = decoder.decode((await reader.read()).value);
    expect(first).toBe('id,name\n1,first part\n');
    release();
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += decoder.decode(value);
    }
    expect(rest).toBe('2,second part\n');

    const call = received.at(-1)!;
    expect(call.url).toBe(`/exports/customers?format=csv&filter=${encodeURIComponent(filter)}&search=zhang`);
    expect(call.headers['x-crm-gateway-secret']).toBe(env.SUBGRAPH_CUSTOMERS_SECRET);
    expect(call.headers.authorization).toBe(`Bearer ${token}`);
    expect(call.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it('sends /reports/<report>.<format> to the analytics subgraph with its own secret, path and query kept', async () => {
    const response = await fetch(`${base}/reports/sales-trend.svg?from=2026-01-01&to=2026-12-31`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    expect(await response.text()).toContain('<svg');
    const call = received.at(-1)!;
    expect(call.url).toBe('/reports/sales-trend.svg?from=2026-01-01&to=2026-12-31');
    expect(call.headers['x-crm-gateway-secret']).toBe(env.SUBGRAPH_ANALYTICS_SECRET);
    expect((await fetch(`${base}/reports/sales-trend.svg`)).status).toBe(401);
  });

  it('passes the subgraph refusal through, and answers 502 when the subgraph is down', async () => {
    const refused = await fetch(`${base}/exports/customers?format=pdf`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).errors[0].extensions.code).toBe('BAD_USER_INPUT');

    const down = await startGateway({ ...env, SUBGRAPH_CUSTOMERS_URL: 'http://127.0.0.1:9/graphql' } as GatewayEnv);
    try {
      const response = await fetch(`${down.url.replace(/\/graphql$/, '')}/exports/customers`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status).toBe(502);
    } finally {
      await down.stop();
    }
  });
});
