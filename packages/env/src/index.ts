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

/** Parses `source` with `schema`; throws one error naming every bad or missing variable. */
export function parseEnv<S extends z.ZodType>(schema: S, source: EnvSource = process.env): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(root)';
    return `${name}: ${issue.message}`;
  });
  throw new EnvValidationError(problems);
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
  KEYCLOAK_URL: z.url(),
  KEYCLOAK_REALM: z.string().min(1).default('crm'),
  KEYCLOAK_AUDIENCE: z.string().min(1).default('crm-api'),
  GATEWAY_SECRET: z.string().min(24, 'at least 24 characters'),
  OUTBOX_POLL_MS: z.coerce.number().int().positive().default(1000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().positive().default(10_000),
  /** OTLP/HTTP collector for traces (e.g. http://otel-collector:4318); unset: traces flow but are not exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Delay between span export batches (ms), as the OpenTelemetry SDKs name it. */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().positive().default(2000),
});

export type ServiceEnv = z.infer<typeof serviceEnvSchema>;
