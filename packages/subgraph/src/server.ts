import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request } from 'express';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import type { DocumentNode } from 'graphql';
import { gql } from 'graphql-tag';
import { acceptedSecrets, authenticate, authenticationError, sharedSecretMatches, type AuthUser, type TokenVerifier } from '@crm/auth';
import { requestIdsFrom, type Logger } from '@crm/logger';
import { ServiceMetrics } from '@crm/metrics';
import { nameActiveSpan, serverSpans } from '@crm/telemetry';
import { createFormatError } from './errors.js';
import { readSubgraphSdl } from './sdl.js';
import { GATEWAY_SECRET_HEADER } from './download.js';


/** What every resolver receives. Services add their facades through `TServices`. */
export interface RequestContext<TServices = unknown> {
  user: AuthUser;
  logger: Logger;
  requestId: string;
  traceId: string;
  services: TServices;
}

export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean> | boolean;
}

export interface SubgraphServerOptions<TServices> {
  name: string;
  typeDefs: DocumentNode;
  // Resolver maps come from graphql-codegen types; Apollo's map type is looser than theirs.
  resolvers: GraphQLResolverMap<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  services: TServices;
  logger: Logger;
  verifier: TokenVerifier;
  /** Shared secret only the gateway knows (during a rotation, the new and the previous); requests without it are refused. */
  gatewaySecret: string | readonly string[];
  readiness: ReadinessCheck[];
}

/** The subgraph's contract, parsed: `schema.graphql` of the service directory and its modules' `.graphql` files. */
export function loadSchema(serviceDir: string | URL): DocumentNode {
  return gql(readSubgraphSdl(serviceDir));
}



export class SubgraphServer<TServices> {
  private readonly httpServer: http.Server;
  private readonly apollo: ApolloServer<RequestContext<TServices>>;
  private accepting = true;
  readonly app: express.Express = express();
  /** Served at `/metrics` (Prometheus); consumers' lag and the outbox backlog are added by `runSubgraph`. */
  readonly metrics: ServiceMetrics;

  constructor(private readonly options: SubgraphServerOptions<TServices>) {
    const { logger, typeDefs, resolvers } = options;
    this.metrics = new ServiceMetrics(options.name);
    this.httpServer = http.createServer(this.app);
    // Idle keep-alive sockets stay open longer here than in the gateway's agent (Node's default agent
    // drops them after 5 s), so the gateway always closes first: with equal timeouts a request can
    // meet a socket the server is closing (ECONNRESET under the hostile-request corpus in CI).
    this.httpServer.keepAliveTimeout = 65_000;
    this.httpServer.headersTimeout = 66_000;
    const requestLogging: ApolloServerPlugin<RequestContext<TServices>> = {
      async requestDidStart({ contextValue, request }) {
        const started = Date.now();
        return {
          async didResolveOperation({ operation, operationName }) {
            nameActiveSpan(operation?.operation, operationName);
          },
          async willSendResponse({ errors }) {
            contextValue.logger.info({ operation: request.operationName, ms: Date.now() - started, errors: errors?.length ?? 0 }, 'graphql request');
          },
        };
      },
    };
    this.apollo = new ApolloServer<RequestContext<TServices>>({
      schema: buildSubgraphSchema([{ typeDefs, resolvers }]),
      formatError: createFormatError(logger),
      // runSubgraph's SIGTERM handler stops consumers, flushes the outbox, closes Kafka and Mongo, then
      // exits 0; Apollo's own would stop only the server and re-raise the signal, killing the process first.
      stopOnTerminationSignals: false,
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer: this.httpServer }),
        ApolloServerPluginLandingPageDisabled(),
        // Federated traces (ftv1) feed Apollo Studio, which these offline deployments do not use.
        ApolloServerPluginInlineTraceDisabled(),
        requestLogging,
        this.metrics.graphqlPlugin<RequestContext<TServices>>(),
      ],
    });
  }

  /** Alive: the process answers. */
  private health(): { status: string } {
    return { status: 'ok' };
  }

  /** Ready: taking requests and every dependency (Mongo, Kafka, consumers) reachable. */
  async readiness(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const results = await Promise.all(
      this.options.readiness.map(async ({ name, check }) => [name, await Promise.resolve(check()).catch(() => false)] as const),
    );
    const checks = Object.fromEntries([['accepting', this.accepting], ...results]);
    return { ready: Object.values(checks).every(Boolean), checks };
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    const { logger, verifier, services } = this.options;
    const secret = acceptedSecrets(...[this.options.gatewaySecret].flat());
    await this.apollo.start();

    this.app.disable('x-powered-by');
    this.app.use(this.metrics.httpMiddleware());
    this.app.get('/metrics', this.metrics.handler());
    this.app.get('/healthz', (_req, res) => {
      res.json(this.health());
    });
    this.app.get('/readyz', async (_req, res) => {
      const result = await this.readiness();
      res.status(result.ready ? 200 : 503).json(result);
    });
    this.app.use('/graphql', serverSpans(this.options.name));
    this.app.use('/graphql', (req, res, next) => {
      if (!sharedSecretMatches(secret, req.headers[GATEWAY_SECRET_HEADER])) {
        res.status(403).json({
          errors: [{ message: 'This subgraph only answers the gateway', extensions: { code: 'FORBIDDEN', reason: 'GATEWAY_SECRET_MISMATCH' } }],
        });
        return;
      }
      next();
    });
    this.app.use(
      '/graphql',
      express.json({ limit: '2mb' }),
      expressMiddleware(this.apollo, {
        context: async ({ req }: { req: Request }) => {
          const ids = requestIdsFrom(req.headers);
          let user: AuthUser;
          try {
            user = await authenticate(verifier, req.headers.authorization);
          } catch (error) {
            throw authenticationError(error);
          }
          return {
            user,
            services,
            requestId: ids.requestId,
            traceId: ids.traceId,
            logger: logger.child({ requestId: ids.requestId, traceId: ids.traceId, userId: user.id }),
          };
        },
      }),
    );

    await new Promise<void>((resolve) => this.httpServer.listen(port, host, resolve));
    const address = this.httpServer.address() as AddressInfo;
    const url = `http://${host}:${address.port}/graphql`;
    logger.info({ url }, 'subgraph listening');
    return url;
  }

  /** Stops taking requests (readiness turns false at once) and waits for those under way. */
  async close(): Promise<void> {
    this.accepting = false;
    await this.apollo.stop();
  }
}

