import type { CloudEvent } from '@crm/events';
import { createLogger } from '@crm/logger';
import { PersonalDataOpener } from '@crm/personal-data';
import { parseEnv } from '@crm/env';
import { gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic, type TestInfra } from '@crm/testing';
import { startSales } from '../../../app.js';
import { salesEnvSchema } from '../../../env.js';

export const USERS = ['admin', 'sales.manager', 'sales.rep', 'sales.rep2', 'analyst', 'marketer', 'customer'] as const;
export type User = (typeof USERS)[number];

/**
 * The sales subgraph on the real servers (own database and topics) for the lead, opportunity, pipeline,
 * forecast and customer-link tests, with a token per demo user and watchers on the given topics.
 */
export async function startSalesKit(topics: string[] = []) {
  const infra: TestInfra = await testInfra();
  const rawEnv = subgraphTestEnv(infra, 'sales');
  const running = await startSales(parseEnv(salesEnvSchema, rawEnv));
  const tokens = {} as Record<User, string>;
  for (const user of USERS) tokens[user] = await login(infra, user);
  /** Keycloak user id (`sub`) of a demo user, from its token. */
  const idOf = (user: User): string => JSON.parse(Buffer.from(tokens[user].split('.')[1]!, 'base64url').toString()).sub;
  const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
  const watchers = Object.fromEntries(await Promise.all(topics.map(async (t) => [t, await watchTopic(infra, `${prefix}.${t}`)] as const)));
  const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, as: User = 'sales.rep') =>
    graphql<T>(running.url, query, variables, gatewayHeaders(tokens[as], rawEnv.GATEWAY_SECRET!));
  const db = running.deps.connection;
  const stop = async () => {
    await Promise.all(Object.values(watchers).map((w) => w.stop()));
    await db.dropDatabase();
    await running.stop();
  };
  // Lead events reach Kafka with their personal fields sealed; other services open them with keys from here.
  const leadKeys = new PersonalDataOpener({ sources: { lead: running.url.replace(/\/graphql$/, '') }, secret: rawEnv.PERSONAL_DATA_SECRET!, logger: createLogger({ service: 'sales-kit', level: 'silent' }) });
  const opened = async <T extends { data: unknown }>(event: T): Promise<T> => (await leadKeys.openAll([event as unknown as CloudEvent]))[0] as unknown as T;
  return { infra, rawEnv, running, tokens, idOf, prefix, watchers, call, db, opened, stop };
}

/** The field paths of the first error's `extensions.fields`, sorted. */
export const fieldsOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  ((result.errors?.[0]?.extensions?.fields ?? []) as Array<{ field: string }>).map((f) => f.field).sort();

export const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });
export const usd = (amountMinor: number) => ({ amountMinor, currency: 'USD' });
/** A fresh 24-hex id (a customer id from the customers service, in these tests). */
export const someId = () => [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The types of the distinct events (by id) seen for one aggregate, in order. Delivery is at-least-once:
 * the relay may publish an event twice (its poller and the write's own notify racing); consumers dedupe by id.
 */
export function distinctTypes(seen: Array<{ event: { id: string; subject: string; type: string } }>, subject: string): string[] {
  const ids = new Set<string>();
  return seen.filter((s) => s.event.subject === subject && !ids.has(s.event.id) && ids.add(s.event.id)).map((s) => s.event.type);
}
