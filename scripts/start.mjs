// Runs the platform in the foreground with demo data; Ctrl-C stops the services (infra keeps running:
// `pnpm infra:down` stops it).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlatform } from './platform.mjs';
import { DEMO_PASSWORD, DEMO_USERS, seedDemoData } from './seed.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const envFile = join(root, '.local', 'infra.env');
if (!existsSync(envFile)) {
  console.error(`${envFile} is missing: run \`pnpm infra:up\` first.`);
  process.exit(1);
}
const infra = Object.fromEntries(
  readFileSync(envFile, 'utf8')
    .split('\n')
    .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line))
    .filter(Boolean)
    .map((m) => [m[1], m[2]]),
);

const logDir = join(root, '.local', 'logs');
const platform = await startPlatform({ root, infra, logDir, logLevel: process.env.LOG_LEVEL ?? 'info' });
const seeded = await seedDemoData({ gatewayUrl: platform.gatewayUrl, keycloakUrl: infra.KEYCLOAK_URL, realm: infra.KEYCLOAK_REALM ?? 'crm' });
const startedAt = Number(process.env.CRM_START_EPOCH ?? 0);
const seconds = startedAt ? Math.round(Date.now() / 1000 - startedAt) : undefined;

console.log(`
  CRM platform is up${seconds !== undefined ? ` (${seconds} s)` : ''}.

  GraphQL:   ${platform.gatewayUrl}   (send Authorization: Bearer <access token>)
  IDE:       ${platform.gatewayUrl.replace(/\/graphql$/, "/")}   (GraphiQL, sign in with a demo login)
  Keycloak:  ${infra.KEYCLOAK_URL}/realms/${infra.KEYCLOAK_REALM ?? 'crm'}/account
  Demo data: ${seeded ? 'seeded' : 'already present'}
  Logs:      ${logDir}/

  Demo logins (password ${DEMO_PASSWORD}, demo realm only):
${DEMO_USERS.map((u) => `    ${u.username.padEnd(15)} ${u.role}`).join('\n')}

  Get a token:
    curl -s -d grant_type=password -d client_id=crm-cli -d username=sales.rep -d password=${DEMO_PASSWORD} \\
      ${infra.KEYCLOAK_URL}/realms/${infra.KEYCLOAK_REALM ?? 'crm'}/protocol/openid-connect/token

  Ctrl-C stops the services; \`pnpm infra:down\` stops Kafka, Keycloak and the database.
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping services ...');
    await platform.stop();
    process.exit(0);
  });
}
