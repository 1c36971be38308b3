import { Types } from 'mongoose';
import { expect } from 'vitest';
import type { AuthUser } from '@crm/auth';
import { parseEnv } from '@crm/env';
import { createEvent } from '@crm/events';
import { gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startServiceDesk } from '../../../app.js';
import { serviceDeskEnvSchema } from '../../../env.js';

export const USERNAMES = ['admin', 'service.manager', 'service.agent', 'service.agent2', 'customer', 'customer2', 'marketer', 'analyst'] as const;
export type Username = (typeof USERNAMES)[number];

export const someId = () => new Types.ObjectId().toHexString();
export const codeOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => result.errors?.[0]?.extensions?.code;
export const fieldsOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  ((result.errors?.[0]?.extensions?.fields as Array<{ field: string }> | undefined) ?? []).map((f) => f.field).sort();

/**
 * The service desk started against the real servers for the knowledge-base, online-service and
 * after-sales tests: a token per demo user, `as(user)` to call the subgraph as the gateway would,
 * watchers on the given topics (this run's own prefix), and the demo customers linked to customer ids.
 */
export async function startDeskKit(topics: string[], env: Record<string, string> = {}) {
  const infra = await testInfra();
  const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'service-desk'), SLA_ESCALATION_INTERVAL_MS: '0', ...env };
  const running = await startServiceDesk(parseEnv(serviceDeskEnvSchema, rawEnv));
  const tokens = Object.fromEntries(await Promise.all(USERNAMES.map(async (u) => [u, await login(infra, u)] as const))) as Record<Username, string>;
  const ids = Object.fromEntries(USERNAMES.map((u) => [u, JSON.parse(Buffer.from(tokens[u].split('.')[1]!, 'base64url').toString()).sub as string])) as Record<Username, string>;
  const as =
    (user: Username) =>
    (query: string, variables: Record<string, unknown> = {}) =>
      graphql<Record<string, any>>(running.url, query, variables, gatewayHeaders(tokens[user], rawEnv.GATEWAY_SECRET!));
  const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
  const watchers = Object.fromEntries(await Promise.all(topics.map(async (t) => [t, await watchTopic(infra, `${prefix}.${t}`)] as const)));
  // The demo self-service accounts as two customers (what customer.* events would tell the directory).
  const customers = { customer: someId(), customer2: someId() };
  for (const [username, customerId] of Object.entries(customers)) {
    await running.services.customerDirectory.apply(
      createEvent({ source: '/crm/customers', type: 'customer.updated', subject: customerId, data: { customerId, portalUserId: ids[username as Username], ownerId: null, version: 1 } }),
    );
  }
  const userOf = (name: Username, roles: string[]): AuthUser => ({ id: ids[name], username: name, roles, groups: [] });
  return {
    infra,
    rawEnv,
    running,
    tokens,
    ids,
    as,
    prefix,
    watchers,
    customers,
    userOf,
    db: running.deps.connection,
    stop: async () => {
      await Promise.all(Object.values(watchers).map((w) => w.stop()));
      await running.deps.connection.dropDatabase();
      await running.stop();
    },
  };
}

/** The data of a call that must succeed. */
export async function ok(promise: Promise<{ data?: Record<string, any> | null; errors?: unknown[] }>): Promise<Record<string, any>> {
  const result = await promise;
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!;
}
