/**
 * Prometheus metrics (prom-client) for the gateway and every subgraph, served at `/metrics`.
 * Every series carries `service`; label values are bounded (known routes, a capped set of operation
 * names) so a hostile client cannot blow up the series count.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ConsumerLagReading {
  group: string;
  topic: string;
  /** Messages not yet committed by the group, summed over the topic's partitions. */
  lag: number;
}

export interface OutboxBacklogReading {
  /** Aggregate (collection) whose documents hold unpublished events. */
  aggregate: string;
  /** Documents with pending events. */
  pending: number;
}

export interface ServiceMetricsOptions {
  /** First path segments reported as routes; anything else is `other`. */
  routes?: string[];
  /** Distinct operation names reported before further ones become `other`. */
  maxOperationNames?: number;
}

const DEFAULT_ROUTES = ['graphql', 'healthz', 'readyz', 'metrics', 'exports', 'reports', 'ide'];
// Seconds; GraphQL answers here take milliseconds to a few seconds (exports stream longer).
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly routes: Set<string>;
  private readonly maxOperationNames: number;
  private readonly operationNames = new Set<string>();
  private readonly lagReaders: Array<() => Promise<ConsumerLagReading[]>> = [];
  private readonly backlogReaders: Array<() => Promise<OutboxBacklogReading[]>> = [];
  private readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly operations: Counter<'operation' | 'type' | 'outcome'>;
  private readonly operationDuration: Histogram<'operation' | 'type'>;
  private readonly graphqlErrors: Counter<'code'>;

  constructor(
    readonly service: string,
    options: ServiceMetricsOptions = {},
  ) {
    this.routes = new Set(options.routes ?? DEFAULT_ROUTES);
    this.maxOperationNames = options.maxOperationNames ?? 500;
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.httpRequests = new Counter({ name: 'crm_http_requests_total', help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'], registers });
    this.httpDuration = new Histogram({
      name: 'crm_http_request_duration_seconds',
      help: 'HTTP request latency, to the last byte sent',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.operations = new Counter({
      name: 'crm_graphql_operations_total',
      help: 'GraphQL operations by name, type and outcome (ok, error)',
      labelNames: ['operation', 'type', 'outcome'],
      registers,
    });
    this.operationDuration = new Histogram({
      name: 'crm_graphql_operation_duration_seconds',
      help: 'GraphQL operation latency',
      labelNames: ['operation', 'type'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.graphqlErrors = new Counter({ name: 'crm_graphql_errors_total', help: 'GraphQL errors sent, by extensions.code', labelNames: ['code'], registers });
    const lagReaders = this.lagReaders;
    new Gauge({
      name: 'crm_kafka_consumer_lag',
      help: 'Messages of a topic not yet processed by a consumer group',
      labelNames: ['group', 'topic'],
      registers,
      async collect() {
        this.reset();
        for (const reading of (await Promise.all(lagReaders.map((read) => read().catch(() => [])))).flat()) {
          this.set({ group: reading.group, topic: reading.topic }, reading.lag);
        }
      },
    });
    const backlogReaders = this.backlogReaders;
    new Gauge({
      name: 'crm_outbox_backlog',
      help: 'Aggregates whose domain events are not yet published to Kafka',
      labelNames: ['aggregate'],
      registers,
      async collect() {
        this.reset();
        for (const reading of (await Promise.all(backlogReaders.map((read) => read().catch(() => [])))).flat()) {
          this.set({ aggregate: reading.aggregate }, reading.pending);
        }
      },
    });
  }

  /** Read at every scrape; a failing reader drops its series for that scrape instead of failing it. */
  watchConsumerLag(read: () => Promise<ConsumerLagReading[]>): void {
    this.lagReaders.push(read);
  }

  watchOutboxBacklog(read: () => Promise<OutboxBacklogReading[]>): void {
    this.backlogReaders.push(read);
  }

  /** Counts and times every HTTP request; mount before the routes. */
  httpMiddleware(): RequestHandler {
    return (req, res, next) => {
      const stop = this.httpDuration.startTimer();
      res.once('finish', () => {
        const segment = req.originalUrl.split('?')[0]!.split('/')[1] ?? '';
        const labels = { method: req.method, route: this.routes.has(segment) ? `/${segment}` : 'other', status: String(res.statusCode) };
        this.httpRequests.inc(labels);
        stop(labels);
      });
      next();
    };
  }

  private operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= this.maxOperationNames) return 'other';
    this.operationNames.add(name);
    return name;
  }

  /** A request refused before it became an operation: no name, no latency, one error. */
  private countRefused(code: string): void {
    this.graphqlErrors.inc({ code });
    this.operations.inc({ operation: 'invalid', type: 'unknown', outcome: 'error' });
  }

  /** Apollo plugin: operations by name and outcome, their latency, and errors by code. */
  graphqlPlugin<TContext extends object>(): ApolloServerPlugin<TContext> {
    return {
      // Refusals while building the context (not signed in, rate limited) never reach requestDidStart.
      contextCreationDidFail: async ({ error }) => {
        const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
        this.countRefused(typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR');
      },
      invalidRequestWasReceived: async () => this.countRefused('BAD_REQUEST'),
      requestDidStart: async () => {
        const started = performance.now();
        // An operation that never validated has no trustworthy name.
        let operation = 'invalid';
        let type = 'unknown';
        return {
          didResolveOperation: async ({ operationName, operation: definition }) => {
            operation = this.operationLabel(operationName);
            type = definition?.operation ?? 'unknown';
          },
          willSendResponse: async ({ response }) => {
            const errors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
            for (const error of errors) this.graphqlErrors.inc({ code: String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR') });
            this.operations.inc({ operation, type, outcome: errors.length > 0 ? 'error' : 'ok' });
            this.operationDuration.observe({ operation, type }, (performance.now() - started) / 1000);
          },
        };
      },
    };
  }

  /** `GET /metrics` in Prometheus text format. */
  handler(): RequestHandler {
    return async (_req, res) => {
      res.set('content-type', this.registry.contentType);
      res.end(await this.registry.metrics());
    };
  }
}
