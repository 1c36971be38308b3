import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, login, uniqueName } from '@crm/testing';

// OpenTelemetry across the platform: every process exports spans over OTLP/HTTP (JSON) to a receiver
// of this test's own, the way it would to an OpenTelemetry Collector.
interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
}
const received: ReceivedSpan[] = [];
const toHex = (id: string | undefined) => (!id ? '' : /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex'));
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { resourceSpans?: any[] };
      for (const resourceSpans of body.resourceSpans ?? []) {
        const service = resourceSpans.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue ?? '?';
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            received.push({
              service,
              traceId: toHex(span.traceId),
              spanId: toHex(span.spanId),
              parentSpanId: toHex(span.parentSpanId),
              name: span.name,
              kind: span.kind,
            });
          }
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
process.env.OTEL_BSP_SCHEDULE_DELAY = '200';
const { e2ePlatform } = await import('./platform.js');
const { infra, platform } = await e2ePlatform('tracing');
afterAll(() => new Promise((resolve) => receiver.close(resolve)));

describe('traces across the gateway, the subgraphs and Kafka', () => {
  it('follows one request from the caller through the gateway into the subgraph and on into the consumers of its event', async () => {
    const token = await login(infra, 'sales.rep');
    const traceId = Buffer.from(uniqueName('t')).toString('hex').padEnd(32, '0').slice(0, 32);
    const callerSpan = 'a1b2c3d4e5f60718';
    const response = await fetch(platform.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, traceparent: `00-${traceId}-${callerSpan}-01` },
      body: JSON.stringify({ query: 'mutation Traced($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }', variables: { input: { name: uniqueName('Traced Customer'), email: 'traced@example.cn' } } }),
    });
    expect(((await response.json()) as any).errors).toBeUndefined();

    const gateway = await eventually(async () => received.find((s) => s.traceId === traceId && s.service === 'gateway' && s.kind === 2), 20_000);
    expect(gateway).toMatchObject({ parentSpanId: callerSpan, name: 'mutation Traced' });
    const customers = await eventually(async () => received.find((s) => s.traceId === traceId && s.service === 'customers' && s.kind === 2), 20_000);
    expect(customers.name).toBe('mutation Traced__customers__0');
    // Its parent is a gateway span of this trace (Apollo's own gateway.fetch span, under the request span).
    const fetchSpan = await eventually(async () => received.find((s) => s.spanId === customers.parentSpanId), 20_000);
    expect(fetchSpan).toMatchObject({ service: 'gateway', traceId });
    // customer.created is consumed elsewhere, and that handling continues the trace (batch consumers
    // link their batch span instead: packages/events/src/__tests__/tracing.test.ts).
    const consumer = await eventually(async () => received.find((s) => s.traceId === traceId && s.name === 'customer.created process'), 30_000);
    expect(consumer).toMatchObject({ kind: 5, parentSpanId: customers.spanId });
    expect(consumer.service).not.toBe('customers');
  });
});
