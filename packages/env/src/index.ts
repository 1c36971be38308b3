import { z } from 'zod';

export { z };

/** Thrown by {@link parseEnv}; lists every problem, not only the first. */
export class EnvValidationError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvValidationError';
    this.problems = problems;
  }
}

type EnvSource = Record<string, string | undefined>;

/**
 * A rule between variables, checked by {@link parseEnv} for every object schema that declares all of
 * them. Not a zod refinement on `serviceEnvSchema`: zod refuses `.extend()` overriding keys (PORT,
 * MONGO_DB) of a refined object, which every service does.
 */
interface CrossVariableRule {
  variables: readonly string[];
  /** Problems as `NAME: message`; called only when each variable parsed on its own. */
  check: (values: Record<string, unknown>) => string[];
}

const crossVariableRules: CrossVariableRule[] = [
  {
    variables: ['KAFKA_REPLICATION_FACTOR', 'KAFKA_MIN_INSYNC_REPLICAS'],
    check: ({ KAFKA_REPLICATION_FACTOR: rf, KAFKA_MIN_INSYNC_REPLICAS: minIsr }) =>
      // Kafka (3.7+) silently uses min(min.insync.replicas, replicas): a larger value would promise a durability it never enforces.
      Number(minIsr) > Number(rf) ? [`KAFKA_MIN_INSYNC_REPLICAS: ${String(minIsr)} is more than KAFKA_REPLICATION_FACTOR (${String(rf)})`] : [],
  },
];

function crossVariableProblems(schema: z.ZodType, source: EnvSource): string[] {
  if (!(schema instanceof z.ZodObject)) return [];
  const shape = schema.shape as Record<string, z.ZodType>;
  return crossVariableRules.flatMap(({ variables, check }) => {
    if (!variables.every((name) => name in shape)) return [];
    const parsed = variables.map((name) => shape[name]!.safeParse(source[name]));
    // A variable that is bad on its own is already reported by the schema.
    if (!parsed.every((result) => result.success)) return [];
    return check(Object.fromEntries(variables.map((name, i) => [name, parsed[i]!.data])));
  });
}

/** Parses `source` with `schema`; throws one error naming every bad or missing variable. */
export function parseEnv<S extends z.ZodType>(schema: S, source: EnvSource = process.env): z.infer<S> {
  const result = schema.safeParse(source);
  const problems = [
    ...(result.error?.issues ?? []).map((issue) => {
      const name = issue.path.join('.') || '(root)';
      return `${name}: ${issue.message}`;
    }),
    ...crossVariableProblems(schema, source),
  ];
  if (problems.length > 0) throw new EnvValidationError(problems);
  return result.data as z.infer<S>;
}

/**
 * Start-up entry: validates the environment, and on failure prints all problems at once and exits 1,
 * so an operator fixes a deployment in one round instead of one variable per crash.
 */
export function loadEnv<S extends z.ZodType>(schema: S, source: EnvSource = process.env): z.infer<S> {
  try {
    return parseEnv(schema, source);
  } catch (error) {
    if (error instanceof EnvValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

const commaList = z
  .string()
  .min(1)
  .transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));

const positiveInt = z.coerce.number().int().min(1);

/**
 * How Kafka topics are created and how writes are acknowledged (see @crm/events' README): shared by
 * the services and the gateway. Local defaults fit one broker; production sets RF 3, min ISR 2.
 */
export const kafkaTopicEnvShape = {
  /** Copies of each partition for the topics we create; at most the number of brokers. */
  KAFKA_REPLICATION_FACTOR: positiveInt.default(1),
  /** Replicas that must hold a write before acks=all succeeds; at most KAFKA_REPLICATION_FACTOR. */
  KAFKA_MIN_INSYNC_REPLICAS: positiveInt.default(1),
  /** Partitions of each topic we create (the most consumers of one group working in parallel). */
  KAFKA_PARTITIONS: positiveInt.max(1000).default(3),
};

/**
 * MongoDB write concern of every service connection: acknowledged by a majority of the replica set
 * and journaled by default, so an acknowledged write survives the primary's loss.
 */
export const mongoWriteEnvShape = {
  /** `majority`, or how many members must acknowledge a write (1 = the primary alone). */
  MONGO_WRITE_CONCERN: z
    .string()
    .default('majority')
    .transform((value, ctx): 'majority' | number => {
      if (value === 'majority') return value;
      // A replica set has at most 50 members.
      if (/^[1-9]\d?$/.test(value) && Number(value) <= 50) return Number(value);
      ctx.addIssue({ code: 'custom', message: '"majority" or a number of members from 1 to 50' });
      return z.NEVER;
    }),
  /** Wait for the on-disk journal before acknowledging (true/false). */
  MONGO_JOURNAL: z.stringbool().default(true),
  /** Fail a write whose write concern is not met in this time (it may still be applied); unset: wait. */
  MONGO_WRITE_TIMEOUT_MS: positiveInt.optional(),
};

/** Variables every service reads. Services extend this with their own. */
export const serviceEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535),
  MONGO_URL: z.url({ protocol: /^mongodb(\+srv)?$/ }),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ or -, at most 63'),
  KAFKA_BROKERS: commaList,
  KAFKA_CLIENT_ID: z.string().min(1).optional(),
  /** Namespace of the event topics (`<prefix>.<entity>`); one per environment sharing a broker. */
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,48}$/, 'letters, digits, . _ -').default('crm'),
  ...kafkaTopicEnvShape,
  ...mongoWriteEnvShape,
  KEYCLOAK_URL: z.url(),
  KEYCLOAK_REALM: z.string().min(1).default('crm'),
  KEYCLOAK_AUDIENCE: z.string().min(1).default('crm-api'),
  /** Keycloak as browsers reach it, i.e. the tokens' issuer, when KEYCLOAK_URL is another (in-cluster) address. */
  KEYCLOAK_PUBLIC_URL: z.url().optional(),
  GATEWAY_SECRET: z.string().min(24, 'at least 24 characters'),
  /** During a rotation, the replaced secret, still accepted until the gateway sends the new one (infra/README.md). */
  GATEWAY_SECRET_PREVIOUS: z.string().min(24, 'at least 24 characters').optional(),
  OUTBOX_POLL_MS: z.coerce.number().int().positive().default(1000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  /** OTLP/HTTP collector for traces (e.g. http://otel-collector:4318); unset: traces flow but are not exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Delay between span export batches (ms), as the OpenTelemetry SDKs name it. */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().positive().default(2000),
});

export type ServiceEnv = z.infer<typeof serviceEnvSchema>;
