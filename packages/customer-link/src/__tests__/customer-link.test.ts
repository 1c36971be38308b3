import { afterAll, describe, expect, it } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher, PoisonEventError, type CloudEvent } from '@crm/events';
import { createLogger } from '@crm/logger';
import { connectMongo } from '@crm/mongo';
import { eventually, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { applyCustomerErased, applyCustomerMerged, createCustomerLinkConsumer, CustomerLinkRegistry, customerLinkGroupId } from '../index.js';

const infra = await testInfra();
const logger = createLogger({ service: 'customer-link-test', level: 'silent' });
const prefix = uniqueName('cl');
const connection = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('customer_link') });
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('customer-link'), logger, topicPrefix: prefix });
const publisher = new KafkaEventPublisher(kafka);

afterAll(async () => {
  await kafka.disconnect();
  await connection.dropDatabase();
  await connection.close();
});

const id = (n: number) => `6740a1b2c3d4e5f6${String(n).padStart(8, '0')}`;
const merged = (survivorId: unknown, mergedId: unknown): CloudEvent =>
  createEvent({ source: '/crm/customers', type: 'customer.merged', subject: String(survivorId), data: { customerId: survivorId, version: 3, survivorId, mergedId } });

describe('CustomerLinkRegistry', () => {
  it('runs every registered module in order with the counts by module, and refuses a module twice', async () => {
    const calls: string[] = [];
    const registry = new CustomerLinkRegistry()
      .register('tickets', async (from, to) => (calls.push(`tickets ${from}->${to}`), 2))
      .register('conversations', async (from, to) => (calls.push(`conversations ${from}->${to}`), 0));
    expect(registry.modules).toEqual(['tickets', 'conversations']);
    expect(await registry.repoint('a', 'b')).toEqual({ tickets: 2, conversations: 0 });
    expect(calls).toEqual(['tickets a->b', 'conversations a->b']);
    expect(() => registry.register('tickets', async () => 0)).toThrow(/twice/);
  });

  it('builds the group id from the prefix and the service name', () => {
    expect(customerLinkGroupId('crm', 'service-desk')).toBe('crm.service-desk.customer-link');
    expect(customerLinkGroupId('crm', 'sales')).toBe('crm.sales.customer-link');
  });

  it('treats a customer.merged without two different valid ids as poison (no module runs)', async () => {
    let ran = 0;
    const registry = new CustomerLinkRegistry().register('x', async () => ++ran);
    for (const [survivor, gone] of [[id(1), null], ['nope', id(2)], [id(3), id(3)], [undefined, undefined]]) {
      await expect(applyCustomerMerged(merged(survivor, gone), registry, logger)).rejects.toBeInstanceOf(PoisonEventError);
    }
    expect(ran).toBe(0);
    // Ids are compared in lower case.
    expect(await applyCustomerMerged(merged(id(4).toUpperCase(), id(5)), registry, logger)).toEqual({ x: 1 });
  });
});

const erased = (customerId: unknown): CloudEvent =>
  createEvent({ source: '/crm/customers', type: 'customer.erased', subject: String(customerId), data: { customerId, erasedBy: 'u-admin', version: 4 } });

describe('erasure (customer.erased)', () => {
  it('runs every registered module\'s erasure with the counts by module, refuses a module twice, and treats a bad id as poison', async () => {
    const order: string[] = [];
    const registry = new CustomerLinkRegistry()
      .registerErasure('tickets', async (customerId) => (order.push(`tickets:${customerId}`), 2))
      .registerErasure('conversations', async (customerId) => (order.push(`conversations:${customerId}`), 0));
    expect(registry.erasingModules).toEqual(['tickets', 'conversations']);
    expect(() => registry.registerErasure('tickets', async () => 0)).toThrow(/twice/);
    expect(await applyCustomerErased(erased(id(20).toUpperCase()), registry, logger)).toEqual({ tickets: 2, conversations: 0 });
    expect(order).toEqual([`tickets:${id(20)}`, `conversations:${id(20)}`]);
    await expect(applyCustomerErased(erased('../x'), registry, logger)).rejects.toBeInstanceOf(PoisonEventError);
    expect(order).toHaveLength(2);
  });
});

describe('createCustomerLinkConsumer (real Kafka and Mongo)', () => {
  it('re-points once per event id, and parks poison events on the dead-letter topic', async () => {
    const moves: string[] = [];
    const registry = new CustomerLinkRegistry().register('records', async (from, to) => (moves.push(`${from}->${to}`), 1));
    const consumer = createCustomerLinkConsumer({ client: kafka, connection, registry, logger, service: 'test-service' });
    const deadLetters = await watchTopic(infra, `${prefix}.customer.dlq`);
    await consumer.start();
    try {
      const event = merged(id(10), id(11));
      await publisher.publish([event]);
      await eventually(async () => moves.length === 1, 20_000);
      expect(moves).toEqual([`${id(11)}->${id(10)}`]);
      // Redelivered with the same id: skipped (the next event of the same key, behind it in the partition, runs).
      const bad = merged('x', null);
      const next = merged(id(10), id(12));
      await publisher.publish([event, bad, next]);
      const parked = await deadLetters.find((e) => e.id === bad.id, 20_000);
      expect(parked.headers['x-dlq-group']).toBe(`${prefix}.test-service.customer-link`);
      await eventually(async () => moves.length === 2, 20_000);
      expect(moves).toEqual([`${id(11)}->${id(10)}`, `${id(12)}->${id(10)}`]);
      // The group's processed ids are in the service's own database.
      expect(await connection.collection('processed_events').countDocuments({ groupId: `${prefix}.test-service.customer-link` })).toBe(2);
      // The same consumer erases on customer.erased.
      const erasedIds: string[] = [];
      registry.registerErasure('records', async (customerId) => (erasedIds.push(customerId), 1));
      await publisher.publish([erased(id(13))]);
      await eventually(async () => erasedIds.length === 1, 20_000);
      expect(erasedIds).toEqual([id(13)]);
    } finally {
      await consumer.stop();
      await deadLetters.stop();
    }
  });
});
