import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { currentTraceparent, inSpan, nameActiveSpan, outsideTraces, serverSpans, startTelemetry } from '../index.js';

const exporter = new InMemorySpanExporter();
const telemetry = startTelemetry({ service: 'probe', exporter, scheduleDelayMs: 10 });
const seen: Record<string, string | undefined> = {};
const app = express();
app.use('/graphql', serverSpans('probe'), (req, res) => {
  nameActiveSpan('query', 'Probe');
  seen.header = req.headers.traceparent as string | undefined;
  seen.active = currentTraceparent();
  res.status(req.query.fail ? 500 : 200).end();
});
const server = http.createServer(app);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => exporter.reset());

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const spans = async () => {
  await telemetry.shutdown();
  return exporter.getFinishedSpans();
};

describe('telemetry (OpenTelemetry SDK, W3C trace context)', () => {
  it('continues the caller\'s trace in a server span, active for the request, named after the operation', async () => {
    await fetch(url, { method: 'POST', headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
    const [span] = await spans();
    expect(span!.spanContext().traceId).toBe(TRACE);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT);
    expect(span!.name).toBe('query Probe');
    expect(span!.attributes).toMatchObject({ 'http.response.status_code': 200, 'graphql.operation.name': 'Probe', 'graphql.operation.type': 'query' });
    // The request now carries the span's own context, which is also the active one.
    expect(seen.header).toBe(`00-${TRACE}-${span!.spanContext().spanId}-01`);
    expect(seen.active).toBe(seen.header);
  });

  it('starts a new trace without a caller context, and marks 5xx answers as errors', async () => {
    await fetch(`${url}?fail=1`, { method: 'POST' });
    const [span] = await spans();
    expect(span!.spanContext().traceId).not.toBe(TRACE);
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.status.code).toBe(2);
  });

  it('runs work in a span continuing a traceparent, records failures, and links a batch to its traces', async () => {
    const inner = await inSpan('order.placed process', { kind: 'consumer', traceparent: `00-${TRACE}-${PARENT}-01` }, async () => currentTraceparent());
    expect(inner).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
    await expect(inSpan('failing', {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await inSpan('2 events process', { kind: 'consumer', links: [`00-${TRACE}-${PARENT}-01`, undefined, `00-${'1'.repeat(32)}-${'2'.repeat(16)}-01`] }, async () => undefined);
    const [consumer, failing, batch] = await spans();
    expect(consumer!.kind).toBe(4);
    expect(consumer!.spanContext().traceId).toBe(TRACE);
    expect(failing!.status).toMatchObject({ code: 2, message: 'boom' });
    expect(batch!.spanContext().traceId).not.toBe(TRACE);
    expect(batch!.links.map((l) => l.context.traceId)).toEqual([TRACE, '1'.repeat(32)]);
  });

  it('has no trace context outside a span', async () => {
    await inSpan('outer', {}, async () => {
      expect(currentTraceparent()).toBeDefined();
      expect(outsideTraces(() => currentTraceparent())).toBeUndefined();
    });
  });
});
