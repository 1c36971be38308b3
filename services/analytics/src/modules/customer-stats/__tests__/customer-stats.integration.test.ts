import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { createEvent, KafkaClient, KafkaEventPublisher } from '@crm/events';
import { createLogger } from '@crm/logger';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startAnalytics } from '../../../app.js';
import { analyticsEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'analytics'), ANALYTICS_GROUP_PREFIX: uniqueName('analytics-test'), ANALYTICS_JOB_INTERVAL_MS: '0' };
const running = await startAnalytics(parseEnv(analyticsEnvSchema, rawEnv));
const [analystToken, customerToken] = await Promise.all([login(infra, 'analyst'), login(infra, 'customer')]);
const call = <T = Record<string, any>>(query: string, token: string | null = analystToken) =>
  graphql<T>(running.url, query, {}, gatewayHeaders(token ?? undefined, rawEnv.GATEWAY_SECRET));

// Same topic namespace as the service under test: this run's topic holds only this run's events.
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('analytics-test'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: rawEnv.KAFKA_TOPIC_PREFIX });
const publisher = new KafkaEventPublisher(kafka);
const dlq = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.customer.dlq`);
const facts = running.deps.connection.collection<{ _id: string }>('customer_facts');

afterAll(async () => {
  await dlq.stop();
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const customerCreated = (customerId: string) =>
  createEvent({
    source: '/crm/customers',
    type: 'customer.created',
    subject: customerId,
    data: { customerId, name: 'Test', organization: null, lifecycleStage: 'LEAD', source: null, ownerId: 'u1', createdAt: new Date().toISOString() },
  });

describe('analytics customer stats from real Kafka events', () => {
  it('becomes ready once its consumer joined the group', async () => {
    await eventually(async () => (await fetch(running.url.replace(/\/graphql$/, '/readyz'))).status === 200, 20_000);
  });

  it('counts each customer once, even when its event arrives twice', async () => {
    const ids = [randomBytes(12).toString('hex'), randomBytes(12).toString('hex')];
    const events = ids.map(customerCreated);
    await publisher.publish([...events, events[0]!]);
    await eventually(async () => (await facts.countDocuments({ _id: { $in: ids } })) === 2, 10_000);
    const stats = (await call(`{ customerStats { totalCustomers lastCustomerCreatedAt } }`)).data!.customerStats;
    expect(stats.totalCustomers).toBe(2);
    expect(stats.lastCustomerCreatedAt).toMatch(/Z$/);
    // The redelivered event did not add a row (the id is the key) and was recorded as processed once.
    const processed = running.deps.connection.collection('processed_events');
    expect(await processed.countDocuments({ eventId: events[0]!.id })).toBe(1);
  });

  it('parks a customer.created with unusable data on the dead-letter topic', async () => {
    const bad = createEvent({ source: '/crm/customers', type: 'customer.created', subject: 'x', data: { customerId: '' } });
    await publisher.publish([bad]);
    const parked = await dlq.find((e) => e.id === bad.id);
    expect(parked.event.type).toBe('customer.created');
    expect(parked.headers['x-dlq-reason']).toMatch(/^PoisonEventError: customer.created/);
    expect(await facts.countDocuments({ _id: '' })).toBe(0);
  });

  it('lets staff read stats and forbids customers', async () => {
    const forbidden = await call(`{ customerStats { totalCustomers } }`, customerToken);
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const noToken = await call(`{ customerStats { totalCustomers } }`, null);
    expect(noToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
