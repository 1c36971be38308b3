import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express from 'express';
import { Counter, Gauge } from 'prom-client';
import { authenticate, authenticationError, TokenVerifier, type AuthUser } from '@crm/auth';
import { AUDIT_RECORDED, KafkaClient, KafkaEventPublisher } from '@crm/events';
import { createLogger, requestIdsFrom, type Logger } from '@crm/logger';
import { ServiceMetrics } from '@crm/metrics';
import { currentTraceparent, nameActiveSpan, serverSpans, startTelemetry } from '@crm/telemetry';
import { subgraphSettings, type GatewayEnv } from './env.js';
import { auditPlugin } from './audit.js';
import { exportsRouter } from './exports.js';
import { bodyErrorHandler, CallerRateLimiter, gatewayFormatError, limitRules, pageSizeCap, rejectNulCharacters } from './hardening.js';
import { ideRouter } from './ide.js';
import { SUBGRAPHS } from './subgraphs.js';
import { SupergraphFile } from './supergraph-file.js';

export const GATEWAY_SECRET_HEADER = 'x-crm-gateway-secret';
export const DEFAULT_SUPERGRAPH_PATH = fileURLToPath(new URL('../supergraph.graphql', import.meta.url));

export interface GatewayContext {
  user: AuthUser;
  /** The caller's own `Authorization` header, forwarded so each subgraph verifies it again. */
  authorization: string;
  requestId: string;
  traceparent: string;
  logger: Logger;
  clientAddress: string | null;
  userAgent: string | null;
}

/** Sends the caller's token, the subgraph's own shared secret and the trace headers to one subgraph. */
class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    url: string,
    private readonly secret: string,
  ) {
    super({ url });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    if (!headers) return;
    headers.set(GATEWAY_SECRET_HEADER, this.secret);
    if ('authorization' in context && context.authorization) headers.set('authorization', context.authorization);
    if ('requestId' in context && context.requestId) headers.set('x-request-id', context.requestId);
    // The subgraph's span is a child of the gateway's request span (active here).
    const traceparent = currentTraceparent() ?? ('traceparent' in context ? context.traceparent : undefined);
    if (traceparent) headers.set('traceparent', traceparent);
  }

  /**
   * A subgraph answers 400 when a variable fails a check only it can make (its custom scalars such as
   * DateTime are opaque to the gateway): that is the caller's BAD_USER_INPUT, not a gateway failure.
   */
  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]): Promise<GraphQLError> {
    const body = (await this.parseBody(response)) as { errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> } | string;
    const first = typeof body === 'object' ? body.errors?.[0] : undefined;
    if (response.status === 400 && (first?.extensions?.code === 'BAD_USER_INPUT' || first?.extensions?.code === 'GRAPHQL_VALIDATION_FAILED')) {
      return new GraphQLError(String(first.message), { extensions: { code: 'BAD_USER_INPUT' } });
    }
    const code = response.status === 401 ? 'UNAUTHENTICATED' : response.status === 403 ? 'FORBIDDEN' : undefined;
    return new GraphQLError(`${response.status}: ${response.statusText}`, {
      extensions: { ...(code ? { code } : {}), response: { url: response.url, status: response.status, statusText: response.statusText, body } },
    });
  }
}


export interface RunningGateway {
  url: string;
  stop: () => Promise<void>;
}

export async function startGateway(env: GatewayEnv, options: { handleSignals?: boolean } = {}): Promise<RunningGateway> {
  const logger = createLogger({ service: 'gateway', level: env.LOG_LEVEL });
  const telemetry = startTelemetry({ service: 'gateway', ...(env.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT } : {}), scheduleDelayMs: env.OTEL_BSP_SCHEDULE_DELAY });
  const metrics = new ServiceMetrics('gateway');
  // Which supergraph each replica serves (a rollout shows as two hashes) and how reloads went.
  const supergraphInfo = new Gauge({ name: 'crm_gateway_supergraph_info', help: 'The supergraph served (sha256 of the file), always 1', labelNames: ['hash'], registers: [metrics.registry] });
  const supergraphReloads = new Counter({
    name: 'crm_gateway_supergraph_reloads_total',
    help: 'Changed supergraph files served (applied) or refused as invalid (rejected)',
    labelNames: ['outcome'],
    registers: [metrics.registry],
  });
  const supergraph = new SupergraphFile({
    path: env.SUPERGRAPH_PATH ?? DEFAULT_SUPERGRAPH_PATH,
    pollMs: env.SUPERGRAPH_POLL_MS,
    logger,
    onReload: (outcome, served) => {
      supergraphReloads.inc({ outcome });
      supergraphInfo.reset();
      supergraphInfo.set({ hash: served }, 1);
    },
  });
  const gateway = new ApolloGateway({
    supergraphSdl: supergraph.hook,
    buildService: ({ name }) => {
      const { url, secret } = subgraphSettings(env, name);
      return new SubgraphDataSource(url, secret);
    },
  });
  // Tokens are issued at the public address (KEYCLOAK_PUBLIC_URL); keys are fetched from KEYCLOAK_URL.
  const verifier = new TokenVerifier({ keycloakUrl: env.KEYCLOAK_URL, issuerUrl: env.KEYCLOAK_PUBLIC_URL, realm: env.KEYCLOAK_REALM, audience: env.KEYCLOAK_AUDIENCE });

  const production = env.NODE_ENV === 'production';
  const limiter = new CallerRateLimiter(env.RATE_LIMIT_PER_MINUTE);
  const kafka = new KafkaClient({
    brokers: env.KAFKA_BROKERS,
    clientId: env.KAFKA_CLIENT_ID,
    logger,
    topicPrefix: env.KAFKA_TOPIC_PREFIX,
    replicationFactor: env.KAFKA_REPLICATION_FACTOR,
    minInsyncReplicas: env.KAFKA_MIN_INSYNC_REPLICAS,
    numPartitions: env.KAFKA_PARTITIONS,
  });
  await kafka.ensureTopics([kafka.topicFor(AUDIT_RECORDED)]);
  const auditPublisher = new KafkaEventPublisher(kafka);

  const app = express();
  const httpServer = http.createServer(app);
  // Longer than the idle timeouts of clients' and load balancers' keep-alive pools (see @crm/subgraph).
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  const server = new ApolloServer<GatewayContext>({
    gateway: gateway as never,
    // Schema discovery is for development; production clients ship their operations.
    introspection: !production,
    hideSchemaDetailsFromClientErrors: production,
    includeStacktraceInErrorResponses: false,
    formatError: gatewayFormatError(logger),
    csrfPrevention: true,
    // Automatic persisted queries would let any caller fill the gateway's cache; clients send documents.
    persistedQueries: false,
    allowBatchedHttpRequests: false,
    // Our own SIGTERM handler stops everything (Kafka, traces too) and exits 0; Apollo's would stop only
    // itself and then re-raise the signal, killing the process before that and with a signal's status.
    stopOnTerminationSignals: false,
    parseOptions: { maxTokens: env.GRAPHQL_MAX_TOKENS },
    validationRules: limitRules({
      maxDepth: env.GRAPHQL_MAX_DEPTH,
      maxAliases: env.GRAPHQL_MAX_ALIASES,
      maxDirectives: env.GRAPHQL_MAX_DIRECTIVES,
      maxCost: env.GRAPHQL_MAX_COST,
    }),
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginLandingPageDisabled(), pageSizeCap<GatewayContext>(env.GRAPHQL_MAX_PAGE_SIZE), rejectNulCharacters<GatewayContext>(), metrics.graphqlPlugin<GatewayContext>(),
      {
        async requestDidStart() {
          return {
            async didResolveOperation({ operation, operationName }) {
              nameActiveSpan(operation?.operation, operationName);
            },
          };
        },
      },
      auditPlugin<GatewayContext>({ publish: (event) => auditPublisher.publish([event]), logger }),
    ],
  });
  await server.start();
  supergraphInfo.set({ hash: supergraph.served }, 1);
  let accepting = true;

  app.disable('x-powered-by');
  app.set('trust proxy', env.TRUST_PROXY);
  app.use(metrics.httpMiddleware());
  // For Prometheus inside the cluster; the ingress publishes only /graphql, /exports, /reports and the IDE.
  app.get('/metrics', metrics.handler());
  app.use(ideRouter({ keycloakUrl: env.KEYCLOAK_PUBLIC_URL ?? env.KEYCLOAK_URL, realm: env.KEYCLOAK_REALM, clientId: env.IDE_CLIENT_ID }));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, boolean> = { accepting };
    await Promise.all(
      SUBGRAPHS.map(async ({ name }) => {
        const { url } = subgraphSettings(env, name);
        checks[name] = await fetch(url.replace(/\/graphql$/, '/healthz'), { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        );
      }),
    );
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ ready, checks, supergraph: supergraph.served });
  });
  app.use(exportsRouter({ env, verifier, logger }));
  app.use(
    '/graphql',
    serverSpans('gateway'),
    cors({ origin: env.CORS_ORIGINS, methods: ['GET', 'POST', 'OPTIONS'], maxAge: 600 }),
    express.json({ limit: env.GRAPHQL_BODY_LIMIT }),
    expressMiddleware(server, {
      context: async ({ req }) => {
        const ids = requestIdsFrom(req.headers);
        let user: AuthUser;
        try {
          user = await authenticate(verifier, req.headers.authorization);
        } catch (error) {
          // Failed sign-ins spend the client address's budget, so token guessing is throttled too.
          await limiter.consume(`ip:${req.ip ?? 'unknown'}`);
          throw authenticationError(error);
        }
        await limiter.consume(user.id);
        return {
          user,
          authorization: req.headers.authorization ?? '',
          requestId: ids.requestId,
          traceparent: ids.traceparent,
          logger: logger.child({ requestId: ids.requestId, traceId: ids.traceId, userId: user.id }),
          clientAddress: req.ip ?? null,
          userAgent: req.headers['user-agent'] ?? null,
        };
      },
    }),
  );

  app.use(bodyErrorHandler);

  await new Promise<void>((resolve) => httpServer.listen(env.PORT, env.HOST, resolve));
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${env.HOST}:${port}/graphql`;
  logger.info({ url }, 'gateway listening');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      accepting = false;
      await server.stop();
      await kafka.disconnect();
      await telemetry.shutdown().catch(() => undefined);
    })();
    return stopping;
  };
  if (options.handleSignals) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        logger.info({ signal }, 'shutdown requested');
        stop().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
    }
  }
  return { url, stop };
}
