import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { auditRecordedEvent, createEvent, KafkaClient, KafkaEventPublisher, type AuditRecordedData } from '@crm/events';
import { createLogger } from '@crm/logger';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startAdmin } from '../../../app.js';
import { adminEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'admin'), KEYCLOAK_ADMIN_CLIENT_SECRET: 'crm-admin-demo-secret-change-in-production' };
const running = await startAdmin(parseEnv(adminEnvSchema, rawEnv));
const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('gateway-stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const publisher = new KafkaEventPublisher(kafka);
const deadLetters = await watchTopic(infra, `${prefix}.audit.dlq`);
const [admin, rep] = await Promise.all(['admin', 'sales.rep'].map((u) => login(infra, u)));
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = admin!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));

afterAll(async () => {
  await deadLetters.stop();
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const entry = (overrides: Partial<AuditRecordedData>): AuditRecordedData => ({
  actorId: 'u-1',
  actorName: 'sales.rep',
  actorRoles: ['sales-rep'],
  operationType: 'QUERY',
  operationName: 'CustomerCard',
  rootFields: ['customer'],
  sensitiveFields: ['Customer.identityDocument', 'IdentityDocument.number'],
  result: 'OK',
  errorCodes: [],
  clientAddress: '10.0.0.7',
  userAgent: 'vitest',
  requestId: 'r-1',
  ...overrides,
});
const LOG = `query($f: AuditFilter, $first: Int, $after: String) { auditLog(filter: $f, first: $first, after: $after) {
  edges { node { id at actorId actorName actorRoles operationType operationName rootFields sensitiveFields result errorCodes clientAddress userAgent requestId } }
  pageInfo { hasNextPage endCursor } } }`;

describe('audit trail (real Kafka and Mongo)', () => {
  it('stores what the gateway recorded, once per event, newest first, for admins only', async () => {
    const read = auditRecordedEvent(entry({}), new Date('2026-12-01T08:00:00Z'));
    const write = auditRecordedEvent(
      entry({ actorId: 'u-2', actorName: 'admin', actorRoles: ['admin'], operationType: 'MUTATION', operationName: null, rootFields: ['deleteCustomer'], sensitiveFields: [], result: 'ERROR', errorCodes: ['NOT_FOUND'] }),
      new Date('2026-12-01T09:00:00Z'),
    );
    // Delivered twice: stored once.
    await publisher.publish([read, write, read]);
    const log = await eventually(async () => {
      const result = await call(LOG, {});
      return result.data?.auditLog.edges.length === 2 ? result.data.auditLog : undefined;
    }, 20_000);
    expect(log.edges.map((e: any) => e.node.rootFields[0])).toEqual(['deleteCustomer', 'customer']);
    expect(log.edges[1].node).toMatchObject({
      at: '2026-12-01T08:00:00.000Z',
      actorId: 'u-1',
      actorName: 'sales.rep',
      operationType: 'QUERY',
      sensitiveFields: ['Customer.identityDocument', 'IdentityDocument.number'],
      result: 'OK',
      clientAddress: '10.0.0.7',
    });
    expect(log.edges[0].node).toMatchObject({ operationType: 'MUTATION', result: 'ERROR', errorCodes: ['NOT_FOUND'], operationName: null });
    expect((await call(LOG, {}, rep)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('filters by actor, root field, sensitive field and time, and pages', async () => {
    const byField = await call(LOG, { f: { sensitiveField: 'Customer.identityDocument' } });
    expect(byField.data!.auditLog.edges.map((e: any) => e.node.actorId)).toEqual(['u-1']);
    expect((await call(LOG, { f: { rootField: 'deleteCustomer' } })).data!.auditLog.edges).toHaveLength(1);
    expect((await call(LOG, { f: { actorId: 'u-2', operationType: 'mutation' } })).data!.auditLog.edges).toHaveLength(1);
    expect((await call(LOG, { f: { from: '2026-12-01T08:30:00Z' } })).data!.auditLog.edges).toHaveLength(1);
    const first = await call(LOG, { first: 1 });
    expect(first.data!.auditLog.pageInfo.hasNextPage).toBe(true);
    const second = await call(LOG, { first: 1, after: first.data!.auditLog.pageInfo.endCursor });
    expect(second.data!.auditLog.edges[0].node.actorId).toBe('u-1');
    const bad = await call(LOG, { f: { rootField: '{$ne: 1}', from: '2026-12-02T00:00:00Z', to: '2026-12-01T00:00:00Z' } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((bad.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual(['filter.rootField', 'filter.to']);
  });

  it('parks a malformed audit event in the dead-letter topic and keeps going', async () => {
    const poison = createEvent({ source: '/crm/gateway', type: 'audit.recorded', subject: 'u-3', data: { nothing: true } });
    const good = auditRecordedEvent(entry({ actorId: 'u-4', requestId: 'after-poison' }));
    await publisher.publish([poison, good]);
    await deadLetters.find((e) => e.id === poison.id, 20_000);
    await eventually(async () => (await call(LOG, { f: { actorId: 'u-4' } })).data?.auditLog.edges.length === 1, 20_000);
  });
});
