import { kafkaTopicEnvShape, z } from '@crm/env';
import { envStem, SUBGRAPHS } from './subgraphs.js';

const subgraphVariables = Object.fromEntries(
  SUBGRAPHS.flatMap(({ name, port }) => [
    [`SUBGRAPH_${envStem(name)}_URL`, z.url().default(`http://127.0.0.1:${port}/graphql`)],
    [`SUBGRAPH_${envStem(name)}_SECRET`, z.string().min(24, 'at least 24 characters')],
  ]),
) as Record<string, z.ZodDefault<z.ZodURL> | z.ZodString>;

export const gatewayEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  KEYCLOAK_URL: z.url(),
  KEYCLOAK_REALM: z.string().min(1).default('crm'),
  KEYCLOAK_AUDIENCE: z.string().min(1).default('crm-api'),
  /** Browser origins allowed to call the API (comma-separated). */
  CORS_ORIGINS: z
    .string()
    .default('http://localhost:3000,http://127.0.0.1:3000')
    .transform((value) => value.split(',').map((o) => o.trim()).filter(Boolean)),
  SUPERGRAPH_PATH: z.string().optional(),
  /** How often (ms) the gateway reads SUPERGRAPH_PATH again and serves a changed supergraph; 0: only at start. */
  SUPERGRAPH_POLL_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * Which proxies in front may set X-Forwarded-For (Express "trust proxy"): a hop count (1 behind one
   * ingress), a comma list of addresses or subnets, or the default: loopback only. The client address
   * is what rate limits and the audit trail use.
   */
  TRUST_PROXY: z
    .string()
    .default('loopback')
    .transform((value): number | string | false => (/^\d+$/.test(value) ? Number(value) : value === 'false' ? false : value)),
  /** Kafka, where the gateway publishes the audit trail (`<prefix>.audit`). */
  KAFKA_BROKERS: z
    .string()
    .min(1)
    .transform((value) => value.split(',').map((b) => b.trim()).filter(Boolean)),
  KAFKA_CLIENT_ID: z.string().min(1).default('gateway'),
  /** Replication, min in-sync replicas and partitions of the audit topic, as for the services. */
  ...kafkaTopicEnvShape,
  /** OTLP/HTTP collector for traces; unset: traces flow to the subgraphs but are not exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().positive().default(2000),
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,48}$/, 'letters, digits, . _ -').default('crm'),
  /** Keycloak as browsers reach it (the IDE's sign-in); defaults to KEYCLOAK_URL. */
  KEYCLOAK_PUBLIC_URL: z.url().optional(),
  /** Public PKCE client the IDE signs in with. */
  IDE_CLIENT_ID: z.string().min(1).default('crm-web'),
  /** Limits every operation must keep (see hardening.ts); the defaults fit every front-end query in the repo. */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).default(12),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(30),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).default(20),
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(5000),
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(100).default(3000),
  GRAPHQL_MAX_PAGE_SIZE: z.coerce.number().int().min(1).default(100),
  /** Largest request body; import chunks (1 MiB decoded, sent base64) need about 1.4 MB. */
  GRAPHQL_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/, 'a size such as 2mb').default('2mb'),
  /** Requests per minute per user (per client address for callers without a valid token), per gateway replica. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  ...subgraphVariables,
});

export type GatewayEnv = z.infer<typeof gatewayEnvSchema> & Record<string, string | number | string[] | undefined>;

export function subgraphSettings(env: GatewayEnv, name: string): { url: string; secret: string } {
  return { url: String(env[`SUBGRAPH_${envStem(name)}_URL`]), secret: String(env[`SUBGRAPH_${envStem(name)}_SECRET`]) };
}
