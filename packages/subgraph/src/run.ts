import type { Model } from 'mongoose';
import type { DocumentNode } from 'graphql';
import type { GraphQLResolverMap } from '@apollo/subgraph';
import { TokenVerifier } from '@crm/auth';
import type { ServiceEnv } from '@crm/env';
import { type EventConsumer, KafkaClient, KafkaEventPublisher, OutboxRelay } from '@crm/events';
import { createLogger, type Logger } from '@crm/logger';
import { startTelemetry } from '@crm/telemetry';
import { connectMongo, pingMongo, syncIndexes, type Connection } from '@crm/mongo';
import { SubgraphServer } from './server.js';

export interface SubgraphDeps {
  env: ServiceEnv;
  logger: Logger;
  connection: Connection;
  kafka: KafkaClient;
  relay: OutboxRelay;
  /** The service's access-token check (also for its routes beside /graphql, e.g. downloads). */
  verifier: TokenVerifier;
}

export interface SubgraphParts<TServices> {
  services: TServices;
  resolvers: GraphQLResolverMap<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Aggregates whose `pendingEvents` the relay publishes. */
  outboxModels?: Model<any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  consumers?: EventConsumer[];
}

export interface RunSubgraphOptions<TServices> {
  /** Service name; also the CloudEvents source `/crm/<name>` and the Kafka client id. */
  name: string;
  env: ServiceEnv;
  typeDefs: DocumentNode;
  setup: (deps: SubgraphDeps) => SubgraphParts<TServices> | Promise<SubgraphParts<TServices>>;
  /** Install SIGTERM/SIGINT handlers that stop gracefully and exit (production entry points). */
  handleSignals?: boolean;
}

export interface RunningSubgraph<TServices> {
  url: string;
  services: TServices;
  deps: SubgraphDeps;
  server: SubgraphServer<TServices>;
  /** Stop taking requests, stop consumers, flush the outbox, close Kafka and Mongo. */
  stop: () => Promise<void>;
}

/** Boots one subgraph service: the same wiring and the same shutdown order for all five. */
export async function runSubgraph<TServices>(options: RunSubgraphOptions<TServices>): Promise<RunningSubgraph<TServices>> {
  const { name, env } = options;
  const logger = createLogger({ service: name, level: env.LOG_LEVEL });
  const telemetry = startTelemetry({ service: name, ...(env.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT } : {}), scheduleDelayMs: env.OTEL_BSP_SCHEDULE_DELAY });
  const connection = await connectMongo({
    url: env.MONGO_URL,
    dbName: env.MONGO_DB,
    writeConcern: { w: env.MONGO_WRITE_CONCERN, journal: env.MONGO_JOURNAL, ...(env.MONGO_WRITE_TIMEOUT_MS ? { wtimeoutMS: env.MONGO_WRITE_TIMEOUT_MS } : {}) },
  });
  const kafka = new KafkaClient({
    brokers: env.KAFKA_BROKERS,
    clientId: env.KAFKA_CLIENT_ID ?? name,
    logger,
    topicPrefix: env.KAFKA_TOPIC_PREFIX,
    replicationFactor: env.KAFKA_REPLICATION_FACTOR,
    minInsyncReplicas: env.KAFKA_MIN_INSYNC_REPLICAS,
    numPartitions: env.KAFKA_PARTITIONS,
  });
  const relay = new OutboxRelay({ publisher: new KafkaEventPublisher(kafka), logger, pollIntervalMs: env.OUTBOX_POLL_MS });
  const deps: SubgraphDeps = { env, logger, connection, kafka, relay, verifier: tokenVerifierOf(env) };
  const parts = await options.setup(deps);
  for (const model of parts.outboxModels ?? []) relay.register(model);
  await syncIndexes(connection);
  const consumers = parts.consumers ?? [];
  await Promise.all(consumers.map((consumer) => consumer.start()));
  relay.start();

  const server = new SubgraphServer({
    name,
    typeDefs: options.typeDefs,
    resolvers: parts.resolvers,
    services: parts.services,
    logger,
    verifier: deps.verifier,
    gatewaySecret: gatewaySecretsOf(env),
    readiness: [
      { name: 'mongo', check: () => pingMongo(connection) },
      { name: 'kafka', check: () => kafka.ping() },
      ...consumers.map((consumer, index) => ({ name: `consumer${index}`, check: () => consumer.isReady() })),
    ],
  });
  server.metrics.watchOutboxBacklog(() => relay.backlog());
  for (const consumer of consumers) server.metrics.watchConsumerLag(() => consumer.lag());
  const url = await server.listen(env.PORT, env.HOST);

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info('stopping');
      await server.close();
      await Promise.allSettled(consumers.map((consumer) => consumer.stop()));
      await relay.stop();
      await kafka.disconnect();
      await connection.close();
      await telemetry.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'traces not flushed'));
      logger.info('stopped');
    })();
    return stopping;
  };

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutdown requested');
      const timer = setTimeout(() => {
        logger.error('graceful shutdown timed out');
        process.exit(1);
      }, env.SHUTDOWN_GRACE_MS);
      timer.unref();
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  return { url, services: parts.services, deps, server, stop };
}

/** The gateway secrets a subgraph accepts: GATEWAY_SECRET, and GATEWAY_SECRET_PREVIOUS while it is being replaced. */
export function gatewaySecretsOf(env: Pick<ServiceEnv, 'GATEWAY_SECRET' | 'GATEWAY_SECRET_PREVIOUS'>): string[] {
  return [env.GATEWAY_SECRET, env.GATEWAY_SECRET_PREVIOUS].filter((s): s is string => Boolean(s));
}

/** The service's access-token check: keys from KEYCLOAK_URL, issuer KEYCLOAK_PUBLIC_URL when set. */
function tokenVerifierOf(env: Pick<ServiceEnv, 'KEYCLOAK_URL' | 'KEYCLOAK_PUBLIC_URL' | 'KEYCLOAK_REALM' | 'KEYCLOAK_AUDIENCE'>): TokenVerifier {
  return new TokenVerifier({ keycloakUrl: env.KEYCLOAK_URL, issuerUrl: env.KEYCLOAK_PUBLIC_URL, realm: env.KEYCLOAK_REALM, audience: env.KEYCLOAK_AUDIENCE });
}
