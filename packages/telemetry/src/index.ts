/**
 * OpenTelemetry traces (SYS-7) across the gateway, the subgraphs and Kafka. One trace follows a
 * request from the gateway into every subgraph it calls (W3C `traceparent` header), into the domain
 * events those write (the CloudEvents `traceparent` extension, copied to a Kafka header), and into
 * each consumer that handles them.
 *
 * The SDK is the official one (@opentelemetry/sdk-trace-node with AsyncLocalStorage context); spans
 * are exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (any collector: OpenTelemetry
 * Collector, Jaeger, Tempo). Without it, spans are still made so the trace context flows and lands in
 * the logs, but nothing is sent.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { RequestHandler } from 'express';

export interface TelemetryOptions {
  service: string;
  /** OTLP/HTTP base URL (…:4318); spans go to `<url>/v1/traces`. */
  otlpEndpoint?: string;
  /** Another exporter (tests use the SDK's in-memory one). */
  exporter?: SpanExporter;
  /** Export batch delay (ms); default 2000. */
  scheduleDelayMs?: number;
}

let provider: NodeTracerProvider | undefined;

/**
 * Registers the process-wide tracer provider once (later calls keep the first one: several services
 * share a process only in tests). Returns a flush-and-stop for shutdown.
 */
export function startTelemetry(options: TelemetryOptions): { shutdown: () => Promise<void> } {
  if (!provider) {
    const processors: SpanProcessor[] = [];
    const exporter = options.exporter ?? (options.otlpEndpoint ? new OTLPTraceExporter({ url: `${options.otlpEndpoint.replace(/\/$/, '')}/v1/traces` }) : undefined);
    if (exporter) processors.push(new BatchSpanProcessor(exporter, { scheduledDelayMillis: options.scheduleDelayMs ?? 2000 }));
    provider = new NodeTracerProvider({ resource: resourceFromAttributes({ 'service.name': options.service }), spanProcessors: processors });
    provider.register({ propagator: new W3CTraceContextPropagator() });
  }
  const registered = provider;
  return { shutdown: () => registered.forceFlush() };
}

const tracer = () => trace.getTracer('crm-platform');

/** The active trace context as a `traceparent` value, if there is one. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

function remoteContext(traceparent: string | undefined): Context {
  return traceparent ? propagation.extract(context.active(), { traceparent }) : context.active();
}

/**
 * Express middleware: a SERVER span per request, continuing the caller's `traceparent`, active for
 * everything the request does. The request's `traceparent` header is replaced by the span's own, so
 * code reading it (log correlation, the gateway's forwarding) continues this span.
 */
export function serverSpans(service: string): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.traceparent;
    const parent = remoteContext(Array.isArray(header) ? header[0] : header);
    const span = tracer().startSpan(`${req.method} ${req.baseUrl || req.path}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.originalUrl.split('?')[0], 'service.name': service } }, parent);
    const active = trace.setSpan(parent, span);
    const carrier: Record<string, string> = {};
    propagation.inject(active, carrier);
    if (carrier.traceparent) req.headers.traceparent = carrier.traceparent;
    res.once('finish', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(active, next);
  };
}

/** Runs `work` outside any trace (its spans start traces of their own). */
export function outsideTraces<T>(work: () => T): T {
  return context.with(ROOT_CONTEXT, work);
}

/** Names the active server span after the GraphQL operation, once it is known (`mutation CreateCustomer`). */
export function nameActiveSpan(operationType: string | undefined, operationName: string | null | undefined): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.updateName(`${operationType ?? 'operation'} ${operationName ?? 'anonymous'}`);
  span.setAttributes({ 'graphql.operation.name': operationName ?? '', 'graphql.operation.type': operationType ?? '' } satisfies Attributes);
}

/**
 * Runs `work` in a span that continues `traceparent` (a CONSUMER span for an event, INTERNAL for a
 * job); failures are recorded on the span and rethrown.
 */
export async function inSpan<T>(
  name: string,
  options: { traceparent?: string | undefined; links?: Array<string | undefined>; kind?: 'consumer' | 'internal'; attributes?: Attributes },
  work: () => Promise<T>,
): Promise<T> {
  // A span with links (a batch of events from many traces) starts a trace of its own.
  const parent = options.links ? ROOT_CONTEXT : remoteContext(options.traceparent);
  const links: Link[] = (options.links ?? [])
    .map((traceparent) => (traceparent ? trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent })) : undefined))
    .filter((spanContext): spanContext is NonNullable<typeof spanContext> => Boolean(spanContext))
    .map((spanContext) => ({ context: spanContext }));
  const span = tracer().startSpan(name, { kind: options.kind === 'consumer' ? SpanKind.CONSUMER : SpanKind.INTERNAL, attributes: options.attributes ?? {}, links }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), work);
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}
