import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher, type CloudEvent } from '@crm/events';
import { parseEnv } from '@crm/env';
import { createLogger } from '@crm/logger';
import { eventually, subgraphTestEnv, testInfra, uniqueName, watchTopic } from '@crm/testing';
import type { AuthUser } from '@crm/auth';
import { startServiceDesk } from '../../../app.js';
import { serviceDeskEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'service-desk');
const running = await startServiceDesk(parseEnv(serviceDeskEnvSchema, rawEnv));
const directory = running.services.customerDirectory;
const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
// Stands for the customers service: the same topic namespace as the service under test.
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('customers-stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const customersService = new KafkaEventPublisher(kafka);
const deadLetters = await watchTopic(infra, `${prefix}.customer.dlq`);

afterAll(async () => {
  await deadLetters.stop();
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const someId = () => new Types.ObjectId().toHexString();
const portalUser = (id: string): AuthUser => ({ id, username: 'portal', roles: ['customer'], groups: [] });

/** A customer event shaped as services/customers publishes it (CustomerSnapshot plus extras). */
function customerEvent(type: string, customerId: string, version: number, extra: Record<string, unknown> = {}): CloudEvent {
  return createEvent({
    source: '/crm/customers',
    type,
    subject: customerId,
    data: { customerId, name: 'Someone', lifecycleStage: 'CUSTOMER', ownerId: 'rep-1', department: 'sales', portalUserId: null, version, ...extra },
  });
}

describe('customer directory (real Mongo and Kafka)', () => {
  it('learns from the customers topic which customer a self-service account is, and who owns it', async () => {
    const [customerId, account] = [someId(), randomUUID()];
    await customersService.publish([customerEvent('customer.created', customerId, 1)]);
    await customersService.publish([customerEvent('customer.updated', customerId, 2, { portalUserId: account, ownerId: 'rep-2', changed: ['portalAccount'] })]);
    expect(await eventually(() => directory.customerIdOf(portalUser(account)), 30_000, 100)).toBe(customerId);
    expect(await directory.ownerOf(customerId)).toBe('rep-2');
    // Only callers with the customer role are customers.
    expect(await directory.customerIdOf({ ...portalUser(account), roles: ['service-agent'] })).toBeNull();
    expect(await directory.customerIdOf(portalUser(randomUUID()))).toBeNull();
  });

  it('ignores an older version arriving late and a redelivery, and forgets a deleted customer', async () => {
    const [customerId, account] = [someId(), randomUUID()];
    await directory.apply(customerEvent('customer.updated', customerId, 5, { portalUserId: account }));
    await directory.apply(customerEvent('customer.updated', customerId, 3, { portalUserId: null, ownerId: 'stale' }));
    expect(await directory.customerIdOf(portalUser(account))).toBe(customerId);
    expect(await directory.ownerOf(customerId)).toBe('rep-1');
    await directory.apply(customerEvent('customer.deleted', customerId, 6));
    expect(await directory.customerIdOf(portalUser(account))).toBeNull();
    expect(await directory.ownerOf(customerId)).toBeNull();
    await directory.apply(customerEvent('customer.restored', customerId, 7, { portalUserId: account }));
    expect(await directory.customerIdOf(portalUser(account))).toBe(customerId);
  });

  it('follows merges: the merged-away id stands for the survivor and its account moves only if the survivor has it', async () => {
    const [survivorId, mergedId, account] = [someId(), someId(), randomUUID()];
    await directory.apply(customerEvent('customer.updated', mergedId, 2, { portalUserId: account, ownerId: 'rep-merged' }));
    await directory.apply(customerEvent('customer.merged', survivorId, 9, { ownerId: 'rep-survivor', survivorId, mergedId }));
    expect(await directory.currentIdOf(mergedId)).toBe(survivorId);
    expect(await directory.ownerOf(mergedId)).toBe('rep-survivor');
    expect(await directory.customerIdOf(portalUser(account))).toBeNull();
    await directory.apply(customerEvent('customer.updated', survivorId, 10, { portalUserId: account, ownerId: 'rep-survivor' }));
    expect(await directory.customerIdOf(portalUser(account))).toBe(survivorId);
  });

  it('parks an event without a customer id on the dead-letter topic and goes on', async () => {
    const bad = createEvent({ source: '/crm/customers', type: 'customer.updated', subject: 'x', data: { name: 'no id' } });
    const [customerId, account] = [someId(), randomUUID()];
    await customersService.publish([bad]);
    await customersService.publish([customerEvent('customer.created', customerId, 1, { portalUserId: account })]);
    await deadLetters.find((event) => event.id === bad.id, 30_000);
    expect(await eventually(() => directory.customerIdOf(portalUser(account)), 30_000, 100)).toBe(customerId);
  });
});
