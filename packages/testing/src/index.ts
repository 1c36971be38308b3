import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';

/** Where the real servers for a test run are. */
export interface TestInfra {
  mongoUrl: string;
  kafkaBrokers: string[];
  keycloakUrl: string;
  realm: string;
}

export const DEMO_PASSWORD = 'crm-demo-2026';

/** The repo root: the nearest folder upwards holding pnpm-workspace.yaml. */
export function repoRoot(from = process.cwd()): string {
  let dir = resolve(from);
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`No pnpm-workspace.yaml above ${from}`);
    dir = parent;
  }
  return dir;
}

/** Parses a KEY=value file (the env written by infra/local/up.sh). */
export function readEnvFile(path: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match?.[1]) values[match[1]] = (match[2] ?? '').replace(/^(['"])(.*)\1$/, '$2');
  }
  return values;
}

function fromValues(values: Record<string, string | undefined>): TestInfra | undefined {
  const { MONGO_URL, KAFKA_BROKERS, KEYCLOAK_URL } = values;
  if (!MONGO_URL || !KAFKA_BROKERS || !KEYCLOAK_URL) return undefined;
  return {
    mongoUrl: MONGO_URL,
    kafkaBrokers: KAFKA_BROKERS.split(',').map((b) => b.trim()).filter(Boolean),
    keycloakUrl: KEYCLOAK_URL.replace(/\/$/, ''),
    realm: values.KEYCLOAK_REALM ?? 'crm',
  };
}

let containers: Promise<TestInfra> | undefined;

/**
 * Finds the servers: the process env, else `.local/infra.env` written by `pnpm infra:up`, else (only
 * where a container runtime exists) testcontainers. Never a mock: with none of these, it throws.
 */
export async function testInfra(): Promise<TestInfra> {
  const fromEnv = fromValues(process.env);
  if (fromEnv) return fromEnv;
  const envFile = join(repoRoot(), '.local', 'infra.env');
  const fromFile = existsSync(envFile) ? fromValues(readEnvFile(envFile)) : undefined;
  if (fromFile) return fromFile;
  containers ??= import('./containers.js').then((m) => m.startContainers(repoRoot()));
  return containers;
}

/** A name no other test run uses (databases, consumer groups, topics). */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

let loginQueue: Promise<unknown> = Promise.resolve();

/**
 * Logs in at the real Keycloak with the password grant of the demo-only `crm-cli` client. Logins go one
 * at a time per process, and `invalid_grant` is retried for up to 75 s: with brute-force detection on,
 * simultaneous grants for one user from parallel test files can fail spuriously, and two failures in
 * quick succession lock the user for 60 s (realm `minimumQuickLoginWaitSeconds`).
 */
export function login(infra: TestInfra, username: string, password = DEMO_PASSWORD): Promise<string> {
  const attempt = loginQueue.then(() => loginWithRetry(infra, username, password));
  loginQueue = attempt.catch(() => undefined);
  return attempt;
}

async function loginWithRetry(infra: TestInfra, username: string, password: string): Promise<string> {
  const deadline = Date.now() + 75_000;
  for (;;) {
    const response = await fetch(`${infra.keycloakUrl}/realms/${infra.realm}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'crm-cli', username, password, scope: 'openid' }),
    });
    if (response.ok) return ((await response.json()) as { access_token: string }).access_token;
    const text = await response.text();
    if (response.status !== 400 || !text.includes('invalid_grant') || Date.now() > deadline) {
      throw new Error(`Keycloak login of ${username} failed: ${response.status} ${text}`);
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes; no fixed sleeps in tests. */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 5000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Condition not met within ${timeoutMs} ms${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface GraphQLResponse<T> {
  status: number;
  data?: T;
  errors?: Array<{ message: string; extensions?: Record<string, unknown>; path?: Array<string | number> }>;
}

/** Posts a GraphQL operation; returns the HTTP status with the body, and never throws on GraphQL errors. */
export async function graphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

/**
 * Environment for running one subgraph inside a test against the real servers: its own database,
 * an ephemeral port and a fresh gateway secret. Pass it through the service's own env schema.
 */
export function subgraphTestEnv(infra: TestInfra, service: string): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    PORT: '0',
    MONGO_URL: infra.mongoUrl,
    MONGO_DB: uniqueName(`test_${service.replace(/-/g, '_')}`),
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    KAFKA_CLIENT_ID: uniqueName(service),
    // Own topics per test run: counts and 'nothing else was published' hold exactly.
    KAFKA_TOPIC_PREFIX: uniqueName('test'),
    KEYCLOAK_URL: infra.keycloakUrl,
    KEYCLOAK_REALM: infra.realm,
    GATEWAY_SECRET: randomBytes(24).toString('base64url'),
    // For the services that seal or open personal data in events (@crm/personal-data).
    PERSONAL_DATA_SECRET: randomBytes(24).toString('base64url'),
    OUTBOX_POLL_MS: '200',
  };
}

/** Headers the gateway would send: the caller's bearer token and the subgraph's shared secret. */
export function gatewayHeaders(token: string | undefined, secret: string | undefined): Record<string, string> {
  return {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(secret ? { 'x-crm-gateway-secret': secret } : {}),
  };
}

/** A CloudEvent as seen on the wire, with its Kafka key. */
export interface WatchedEvent {
  key: string | null;
  headers: Record<string, string>;
  event: { id: string; type: string; source: string; subject: string; time: string; data: any; traceparent?: string }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Creates a topic (if missing) and waits until every partition has a leader. Not kafkajs'
 * `waitForLeaders`: its wait rejects a promise nobody awaits when the broker answers
 * UNKNOWN_TOPIC_OR_PARTITION, an unhandled rejection that fails the whole test file.
 */
export async function createTopicWithLeaders(admin: Admin, topic: string, numPartitions = 1, options: { replicationFactor?: number; configEntries?: Array<{ name: string; value: string }> } = {}): Promise<boolean> {
  const created = await admin.createTopics({ topics: [{ topic, numPartitions, ...options }], waitForLeaders: false });
  await eventually(async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0] && topics[0].partitions.length > 0 && topics[0].partitions.every((p) => p.leader >= 0);
  }, 30_000, 100);
  return created;
}

/**
 * Records every message of a real topic from its beginning (a new group at "latest" could miss an
 * event sent before its first fetch); tests find theirs by id. Uses kafkajs directly so the code under
 * test (@crm/events) is not also the instrument.
 */
export async function watchTopic(infra: TestInfra, topic: string) {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({ clientId: uniqueName('watch'), brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await createTopicWithLeaders(admin, topic, 3);
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId: uniqueName('watch') });
  const seen: WatchedEvent[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      try {
        seen.push({ key: message.key?.toString() ?? null, headers, event: JSON.parse(message.value?.toString() ?? 'null') });
      } catch {
        // not JSON: poison messages are what some tests send on purpose
      }
    },
  });
  return {
    seen,
    /** Waits for the first event matching `predicate`. */
    find: (predicate: (event: WatchedEvent['event']) => boolean, timeoutMs = 10_000) =>
      eventually(async () => seen.find((entry) => entry.event && predicate(entry.event)), timeoutMs),
    stop: () => consumer.disconnect(),
  };
}

/** How many messages each topic starting with `prefix` holds (end offsets summed over partitions). */
export async function topicMessageCounts(infra: TestInfra, prefix: string): Promise<Record<string, number>> {
  const { Kafka, logLevel } = await import('kafkajs');
  const admin = new Kafka({ clientId: uniqueName('offsets'), brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix)).sort();
    const counts: Record<string, number> = {};
    for (const topic of topics) {
      counts[topic] = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    }
    return counts;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Where a consumer group stands on a topic, for failure messages: the group's state and members'
 * assignments, and per partition the end offset beside the group's committed offset.
 */
export async function consumerGroupState(infra: TestInfra, groupId: string, topic: string) {
  const { Kafka, AssignerProtocol, logLevel } = await import('kafkajs');
  const admin = new Kafka({ clientId: uniqueName('group-state'), brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [ends, [committed], { groups: [group] }] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] }), admin.describeGroups([groupId])]);
    return {
      state: group?.state,
      members: (group?.members ?? []).map((m) => ({ clientId: m.clientId, assignment: m.memberAssignment.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment : null })),
      partitions: ends.map((p) => ({ partition: p.partition, end: p.high, committed: committed?.partitions.find((c) => c.partition === p.partition)?.offset ?? null })),
    };
  } finally {
    await admin.disconnect();
  }
}

/** One message a {@link smtpCatcher} received. */
export interface CaughtMail {
  from: string;
  to: string[];
  raw: string;
}

/**
 * A real SMTP server on loopback (smtp-server) that keeps every message it receives, for tests of
 * code that sends email (the marketing service, Keycloak's set-password mail). Port 0: any free port.
 */
export async function smtpCatcher(port = 0): Promise<{ port: number; received: CaughtMail[]; close: () => Promise<void> }> {
  const { SMTPServer } = await import('smtp-server');
  const received: CaughtMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The demo realm's `crm-admin` client secret (infra/keycloak/crm-realm.json). */
export const DEMO_ADMIN_CLIENT_SECRET = 'crm-admin-demo-secret-change-in-production';

/** An access token of the `crm-admin` service account (client credentials), for Keycloak's admin API. */
export async function adminServiceToken(infra: TestInfra): Promise<string> {
  const response = await fetch(`${infra.keycloakUrl}/realms/${infra.realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'crm-admin', client_secret: DEMO_ADMIN_CLIENT_SECRET }),
  });
  if (!response.ok) throw new Error(`crm-admin token: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/** What a new user does after following the set-password link: choose a password, which clears the pending actions. */
export async function userSetsPassword(infra: TestInfra, userId: string, password: string): Promise<void> {
  const headers = { authorization: `Bearer ${await adminServiceToken(infra)}`, 'content-type': 'application/json' };
  const base = `${infra.keycloakUrl}/admin/realms/${infra.realm}/users/${userId}`;
  for (const [path, body] of [
    ['/reset-password', { type: 'password', value: password, temporary: false }],
    ['', { requiredActions: [] }],
  ] as const) {
    const response = await fetch(`${base}${path}`, { method: 'PUT', headers, body: JSON.stringify(body) });
    if (response.status !== 204) throw new Error(`Keycloak PUT users/${userId}${path}: ${response.status} ${await response.text()}`);
  }
}
