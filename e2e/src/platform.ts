import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { repoRoot, testInfra, type TestInfra } from '@crm/testing';
// @ts-expect-error plain ESM launcher shared with `pnpm start`
import { startPlatform } from '../../scripts/platform.mjs';

export interface Platform {
  gatewayUrl: string;
  subgraphs: Record<string, { url: string; secret: string }>;
  stop: () => Promise<Record<string, number | string | null>>;
}

export const root = repoRoot(fileURLToPath(new URL('.', import.meta.url)));

/**
 * The whole platform for one e2e file, as `pnpm start` runs it but with this run's own databases and
 * topics (ephemeral), logs in a temporary folder; stopped after the file's tests.
 */
export async function e2ePlatform(name: string): Promise<{ infra: TestInfra; platform: Platform; logDir: string }> {
  const infra = await testInfra();
  const logDir = mkdtempSync(join(tmpdir(), `crm-e2e-${name}-`));
  const platform: Platform = await startPlatform({
    root,
    infra: { MONGO_URL: infra.mongoUrl, KAFKA_BROKERS: infra.kafkaBrokers.join(','), KEYCLOAK_URL: infra.keycloakUrl, KEYCLOAK_REALM: infra.realm },
    ephemeral: true,
    logDir,
    logLevel: 'warn',
  });
  afterAll(() => platform.stop());
  return { infra, platform, logDir };
}

