import { randomBytes } from 'node:crypto';
import { parseEnv } from '@crm/env';
import { gatewayHeaders, graphql, subgraphTestEnv, type TestInfra } from '@crm/testing';
import { startCustomers } from '../../../app.js';
import { customersEnvSchema } from '../../../env.js';

/** The customers subgraph on the real servers, with its own database, topics and keys. */
export async function startTestCustomers(infra: TestInfra) {
  const rawEnv: Record<string, string> = {
    ...subgraphTestEnv(infra, 'customers'),
    CUSTOMER_PII_KEY: randomBytes(32).toString('base64'),
    CUSTOMER_PII_HASH_KEY: randomBytes(32).toString('base64'),
  };
  const running = await startCustomers(parseEnv(customersEnvSchema, rawEnv));
  // `null` means: send no token / no secret.
  const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown>, token: string | null, secret: string | null = rawEnv.GATEWAY_SECRET!) =>
    graphql<T>(running.url, query, variables, gatewayHeaders(token ?? undefined, secret ?? undefined));
  return { running, rawEnv, call };
}
