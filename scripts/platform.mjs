// Starts the five subgraphs and the gateway as child processes (built `dist/`), waits until each is
// ready, and stops them together. Used by `pnpm start` (fixed ports, demo databases) and by the
// end-to-end test (ephemeral ports, throwaway databases).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const DEMO_ADMIN_CLIENT_SECRET = 'crm-admin-demo-secret-change-in-production';

export const SERVICES = [
  { name: 'customers', dir: 'services/customers', port: 4001, db: 'crm_customers' },
  { name: 'sales', dir: 'services/sales', port: 4002, db: 'crm_sales' },
  { name: 'service-desk', dir: 'services/service-desk', port: 4003, db: 'crm_service_desk' },
  { name: 'marketing', dir: 'services/marketing', port: 4004, db: 'crm_marketing' },
  { name: 'analytics', dir: 'services/analytics', port: 4005, db: 'crm_analytics' },
  { name: 'admin', dir: 'services/admin', port: 4006, db: 'crm_admin' },
];
const stem = (name) => name.toUpperCase().replace(/-/g, '_');

/**
 * Keys of the customers service's identity-number encryption. Ephemeral runs get throwaway keys; the
 * demo keeps its keys in .local/ (mode 600) so data encrypted yesterday still opens today.
 */
function customerKeys(root, ephemeral) {
  const fresh = () => ({ CUSTOMER_PII_KEY: randomBytes(32).toString('base64'), CUSTOMER_PII_HASH_KEY: randomBytes(32).toString('base64') });
  if (process.env.CUSTOMER_PII_KEY && process.env.CUSTOMER_PII_HASH_KEY) {
    return { CUSTOMER_PII_KEY: process.env.CUSTOMER_PII_KEY, CUSTOMER_PII_HASH_KEY: process.env.CUSTOMER_PII_HASH_KEY };
  }
  if (ephemeral) return fresh();
  const file = join(root, '.local', 'customer-keys.json');
  if (!existsSync(file)) {
    mkdirSync(join(root, '.local'), { recursive: true });
    writeFileSync(file, JSON.stringify(fresh()), { mode: 0o600 });
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitReady(url, child, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited with code ${child.exitCode}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

/**
 * @param {object} options
 * @param {string} options.root repo root
 * @param {{ MONGO_URL: string, KAFKA_BROKERS: string, KEYCLOAK_URL: string, KEYCLOAK_REALM?: string }} options.infra
 * @param {boolean} [options.ephemeral] free ports and unique databases/consumer groups (tests)
 * @param {string} [options.logDir] one log file per process (else inherited stdio)
 * @param {string} [options.logLevel]
 */
export async function startPlatform({ root, infra, ephemeral = false, logDir, logLevel = 'info', timeoutMs = 60_000 }) {
  const runId = ephemeral ? `_${Date.now().toString(36)}${randomBytes(2).toString('hex')}` : '';
  const children = [];
  const common = {
    NODE_ENV: process.env.NODE_ENV ?? 'development',
    LOG_LEVEL: logLevel,
    MONGO_URL: infra.MONGO_URL,
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    KEYCLOAK_URL: infra.KEYCLOAK_URL,
    KEYCLOAK_REALM: infra.KEYCLOAK_REALM ?? 'crm',
  };
  if (logDir) mkdirSync(logDir, { recursive: true });

  const launch = (name, cwd, env) => {
    const child = spawn(process.execPath, ['dist/main.js'], {
      cwd: join(root, cwd),
      env: { ...process.env, ...common, ...env },
      stdio: logDir ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    if (logDir) {
      const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
      child.stdout.pipe(log);
      child.stderr.pipe(log);
    }
    children.push({ name, child });
    return child;
  };

  /** SIGTERM to every process (SIGKILL after 15 s); resolves to how each ended, e.g. { customers: 0 }. */
  const stop = async () => {
    const ended = await Promise.all(
      [...children].reverse().map(
        ({ name, child }) =>
          new Promise((resolve) => {
            const outcome = () => [name, child.exitCode ?? child.signalCode];
            if (child.exitCode !== null || child.signalCode !== null) return resolve(outcome());
            const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve(outcome());
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    return Object.fromEntries(ended);
  };

  try {
    const gatewayEnv = {};
    const subgraphs = {};
    // Chosen before any service starts (each needs the owners' addresses); a port the OS hands out
    // twice in a row is asked for again, so no two services of this run share one.
    const ports = {};
    for (const service of SERVICES) {
      let port = service.port;
      while (ephemeral && (port === service.port || Object.values(ports).includes(port))) port = await freePort();
      ports[service.name] = port;
    }
    // Consumers fetch the keys of customers' and leads' sealed personal fields from their owners.
    const personalData = {
      PERSONAL_DATA_SECRET: process.env.PERSONAL_DATA_SECRET ?? randomBytes(24).toString('base64url'),
      PERSONAL_DATA_KEY_SOURCES: `customer=http://127.0.0.1:${ports.customers},lead=http://127.0.0.1:${ports.sales}`,
    };
    await Promise.all(
      SERVICES.map(async (service) => {
        const port = ports[service.name];
        const secret = randomBytes(24).toString('base64url');
        const url = `http://127.0.0.1:${port}`;
        const child = launch(service.name, service.dir, {
          PORT: String(port),
          MONGO_DB: `${service.db}${runId}`,
          KAFKA_CLIENT_ID: `${service.name}${runId}`,
          ...(ephemeral ? { KAFKA_TOPIC_PREFIX: `e2e${runId}` } : {}),
          GATEWAY_SECRET: secret,
          ...personalData,
          ...(service.name === 'analytics' && ephemeral ? { ANALYTICS_GROUP_PREFIX: `analytics${runId}` } : {}),
          ...(service.name === 'customers' ? customerKeys(root, ephemeral) : {}),
          // The demo realm's crm-admin client (infra/keycloak/crm-realm.json); production sets its own.
          ...(service.name === 'admin' ? { KEYCLOAK_ADMIN_CLIENT_SECRET: process.env.KEYCLOAK_ADMIN_CLIENT_SECRET ?? DEMO_ADMIN_CLIENT_SECRET } : {}),
        });
        gatewayEnv[`SUBGRAPH_${stem(service.name)}_URL`] = `${url}/graphql`;
        gatewayEnv[`SUBGRAPH_${stem(service.name)}_SECRET`] = secret;
        subgraphs[service.name] = { url: `${url}/graphql`, secret, db: `${service.db}${runId}` };
        await waitReady(`${url}/readyz`, child, timeoutMs);
      }),
    );
    const gatewayPort = ephemeral ? await freePort() : 4000;
    // Tests poll one user's view many times a second while events settle; the limit itself is
    // tested in gateway/src/__tests__/hardening.integration.test.ts.
    const rateLimit = ephemeral ? { RATE_LIMIT_PER_MINUTE: process.env.RATE_LIMIT_PER_MINUTE ?? '100000' } : {};
    const gateway = launch('gateway', 'gateway', { PORT: String(gatewayPort), ...(ephemeral ? { KAFKA_TOPIC_PREFIX: `e2e${runId}`, KAFKA_CLIENT_ID: `gateway${runId}` } : {}), ...rateLimit, ...gatewayEnv });
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
    await waitReady(`http://127.0.0.1:${gatewayPort}/readyz`, gateway, timeoutMs);
    const topicPrefix = ephemeral ? `e2e${runId}` : (process.env.KAFKA_TOPIC_PREFIX ?? 'crm');
    return { gatewayUrl, subgraphs, topicPrefix, personalDataSecret: personalData.PERSONAL_DATA_SECRET, pids: Object.fromEntries(children.map(({ name, child }) => [name, child.pid])), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
