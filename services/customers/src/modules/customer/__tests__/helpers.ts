import type { CloudEvent } from '@crm/events';
import { createLogger } from '@crm/logger';
import { PersonalDataOpener } from '@crm/personal-data';
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
  // customer.* events reach Kafka with their personal fields sealed; other services open them with keys from here.
  const keys = new PersonalDataOpener({ sources: { customer: running.url.replace(/\/graphql$/, '') }, secret: rawEnv.PERSONAL_DATA_SECRET!, logger: createLogger({ service: 'customers-test', level: 'silent' }) });
  const opened = async <T extends { data: unknown }>(event: T): Promise<T> => (await keys.openAll([event as unknown as CloudEvent]))[0] as unknown as T;
  return { running, rawEnv, call, opened };
}
