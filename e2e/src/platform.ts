import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect } from 'vitest';
import { graphql, login, repoRoot, testInfra, type GraphQLResponse, type TestInfra } from '@crm/testing';
// @ts-expect-error plain ESM launcher shared with `pnpm start`
import { startPlatform } from '../../scripts/platform.mjs';

export interface Platform {
  gatewayUrl: string;
  /** Each subgraph's URL, gateway secret and (this run's) database name. */
  subgraphs: Record<string, { url: string; secret: string; db: string }>;
  /** Namespace of this run's Kafka topics. */
  topicPrefix: string;
  /** What services present to fetch personal-data keys from their owners (@crm/personal-data). */
  personalDataSecret: string;
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

/** Calls through the gateway as a user: `raw` returns the whole response, `asUser` the data and fails the test on errors. */
export function gatewayCalls(platform: Platform) {
  const raw = (token: string) => (query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<Record<string, any>>> =>
    graphql<Record<string, any>>(platform.gatewayUrl, query, variables, { authorization: `Bearer ${token}` });
  const asUser = (token: string) => async (query: string, variables: Record<string, unknown> = {}) => {
    const result = await raw(token)(query, variables);
    expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
    return result.data!;
  };
  return { raw, asUser };
}

/** The Keycloak user id (`sub`) an access token was issued to. */
export const userIdOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;

/** Access tokens of several demo users at once, by username. */
export async function loginAll<const N extends string>(infra: TestInfra, names: readonly N[]): Promise<Record<N, string>> {
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await login(infra, n)] as const))) as Record<N, string>;
}

