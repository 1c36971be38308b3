import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher, type CloudEvent } from '@crm/events';
import { createLogger } from '@crm/logger';
import { connectMongo } from '@crm/mongo';
import { testInfra, uniqueName, watchTopic } from '@crm/testing';
import { parseEnv, z } from '@crm/env';
import { personalDataEnv, personalDataKeysRouter, PersonalDataOpener, SealingPublisher, SubjectKeyStore } from '../index.js';

// Crypto-shredding end to end on the real servers: the owner seals before Kafka, a consumer opens
// with a key fetched over HTTP, and after the key is shredded the copies in Kafka are unreadable.
const infra = await testInfra();
const logger = createLogger({ service: 'personal-data-test', level: 'silent' });
const connection = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('personal_data') });
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('personal-data'), logger, topicPrefix: uniqueName('pd') });
const store = new SubjectKeyStore(connection);
const secret = 'a-shared-internal-secret-of-32-chars!';
const app = express();
app.use(personalDataKeysRouter({ store, entities: ['customer'], secret, logger }));
const server = http.createServer(app);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const ownerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const watcher = await watchTopic(infra, kafka.topicFor('customer.created'));
const publisher = new SealingPublisher(new KafkaEventPublisher(kafka), store, ['customer']);
/** The message as Kafka holds it. */
const onKafka = async (predicate: (e: CloudEvent) => boolean): Promise<CloudEvent> => (await watcher.find((e) => predicate(e as unknown as CloudEvent), 20_000)).event as unknown as CloudEvent;
const opener = () => new PersonalDataOpener({ sources: { customer: ownerUrl }, secret, logger, retryForMs: 2000 });

afterAll(async () => {
  await watcher.stop();
  await kafka.disconnect();
  await new Promise((resolve) => server.close(resolve));
  await connection.dropDatabase();
  await connection.close();
});

const customerId = () => uniqueName('c').replace(/[^A-Za-z0-9]/g, '').slice(-24);
const customerEvent = (subject: string, type = 'customer.created'): CloudEvent =>
  createEvent({ source: '/crm/customers', type, subject, data: { customerId: subject, name: '慕容雪', birthday: '1988-03-08', city: '北京', organization: null, lifecycleStage: 'LEAD', version: 1 } });

describe('personal data in events (crypto-shredding, real Kafka and Mongo)', () => {
  it('seals the personal fields before Kafka, leaves the rest and the stored event alone, and the consumer opens them', async () => {
    const id = customerId();
    const event = customerEvent(id);
    const stored = structuredClone(event);
    await publisher.publish([event]);
    expect(event).toEqual(stored);

    const onWire = await onKafka((e) => e.id === event.id);
    const wire = JSON.stringify(onWire);
    for (const value of ['慕容雪', '1988-03-08', '北京']) expect(wire).not.toContain(value);
    expect(onWire.data as object).toMatchObject({ customerId: id, lifecycleStage: 'LEAD', version: 1, sealed: { fields: ['name', 'organization', 'birthday', 'city'] } });
    expect((onWire.data as { name?: string }).name).toBeUndefined();

    const [opened] = await opener().openAll([onWire]);
    expect(opened!.data).toEqual(event.data);
  });

  it('after the key is shredded, the same message opens to the erased values only, and no new key is made for that person', async () => {
    const id = customerId();
    const event = customerEvent(id);
    await publisher.publish([event]);
    const onWire = await onKafka((e) => e.id === event.id);

    await store.shred('customer', id);
    const [opened] = await opener().openAll([onWire]);
    expect(opened!.data).toEqual({ customerId: id, lifecycleStage: 'LEAD', version: 1, name: 'Erased customer', organization: null, birthday: null, city: null });

    // An event published after the erasure (left in the outbox) carries no personal value at all.
    const late = customerEvent(id, 'customer.updated');
    await publisher.publish([late]);
    const lateOnWire = await onKafka((e) => e.id === late.id);
    expect((lateOnWire.data as { sealed: unknown }).sealed).toEqual({ fields: ['name', 'organization', 'birthday', 'city'], value: null });
    expect((await store.keysFor('customer', [id], { create: true })).get(id)).toBeNull();
  });

  it('a reader forgets a cached key when told (customer.erased) instead of waiting for the cache to expire', async () => {
    const id = customerId();
    await publisher.publish([customerEvent(id)]);
    const onWire = await onKafka((e) => e.subject === id);
    const reader = opener();
    expect((await reader.openAll([onWire]))[0]!.data).toMatchObject({ name: '慕容雪' });
    await store.shred('customer', id);
    expect((await reader.openAll([onWire]))[0]!.data).toMatchObject({ name: '慕容雪' });
    reader.forget('customer', id);
    expect((await reader.openAll([onWire]))[0]!.data).toMatchObject({ name: 'Erased customer', city: null });
  });

  it('binds a sealed value to its person: moved onto another subject it does not open', async () => {
    const [a, b] = [customerId(), customerId()];
    await publisher.publish([customerEvent(a), customerEvent(b)]);
    const fromA = await onKafka((e) => e.subject === a);
    const fromB = await onKafka((e) => e.subject === b);
    const swapped = { ...fromB, data: { ...(fromB.data as object), sealed: (fromA.data as { sealed: unknown }).sealed } };
    await expect(opener().openAll([swapped])).rejects.toThrow(/authenticate/);
  });

  it('reads a person\'s key once per minute per publisher, not once per publication', async () => {
    class CountingStore extends SubjectKeyStore {
      reads = 0;
      override async keysFor(...args: Parameters<SubjectKeyStore['keysFor']>) {
        this.reads += args[1].length;
        return super.keysFor(...args);
      }
    }
    const counting = new CountingStore(connection);
    const sent: CloudEvent[] = [];
    const sealing = new SealingPublisher({ publish: async (events) => void sent.push(...events) }, counting, ['customer']);
    const id = customerId();
    for (let n = 0; n < 3; n += 1) await sealing.publish([customerEvent(id, 'customer.updated')]);
    expect(counting.reads).toBe(1);
    expect(new Set(sent.map((e) => (e.data as { sealed: { value: string } }).sealed.value.split('.')[0]))).toEqual(new Set(['pd1']));
  });

  it('passes events without sealed fields (older history, other entities) through unchanged', async () => {
    const plain = customerEvent(customerId());
    const group = createEvent({ source: '/crm/customers', type: 'customer-group.created', subject: 'g1', data: { name: 'VIP' } });
    expect(await opener().openAll([plain, group])).toEqual([plain, group]);
    const sealedGroup = await captureSealed(group);
    expect(sealedGroup.data).toEqual({ name: 'VIP' });
  });

  it('the owner refuses callers without the shared secret, and bad requests, with 403 and 400', async () => {
    const post = (body: unknown, key?: string) =>
      fetch(`${ownerUrl}/internal/personal-data-keys`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { 'x-crm-internal-secret': key } : {}) }, body: JSON.stringify(body) });
    expect((await post({ entity: 'customer', subjects: ['x'] })).status).toBe(403);
    expect((await post({ entity: 'customer', subjects: ['x'] }, `${secret}x`)).status).toBe(403);
    expect(await (await post({ entity: 'lead', subjects: ['x'] }, secret)).json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'entity' });
    expect(await (await post({ entity: 'customer', subjects: [] }, secret)).json()).toMatchObject({ error: 'BAD_USER_INPUT', field: 'subjects' });
    expect(await (await post({ entity: 'customer', subjects: ['never-sealed'] }, secret)).json()).toEqual({ keys: { 'never-sealed': null } });
    // During a rotation the owner takes the replaced secret as well, and only those two.
    const rotating = express().use(personalDataKeysRouter({ store, entities: ['customer'], secret: `${secret}-new`, previousSecret: secret, logger }));
    const rotatingServer = http.createServer(rotating);
    await new Promise<void>((resolve) => rotatingServer.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(rotatingServer.address() as AddressInfo).port}/internal/personal-data-keys`;
      const ask = (key: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-crm-internal-secret': key }, body: JSON.stringify({ entity: 'customer', subjects: ['x'] }) });
      expect([(await ask(secret)).status, (await ask(`${secret}-new`)).status, (await ask(`${secret}-old`)).status]).toEqual([200, 200, 403]);
    } finally {
      await new Promise((resolve) => rotatingServer.close(resolve));
    }
    // A reader with the wrong secret fails at once (no retrying a refusal).
    const wrong = new PersonalDataOpener({ sources: { customer: ownerUrl }, secret: 'not-the-secret-at-all-000000', logger, retryForMs: 60_000 });
    const onWire = { ...customerEvent('abc'), data: { customerId: 'abc', sealed: { fields: ['name'], value: null } } };
    await expect(wrong.openAll([onWire])).rejects.toThrow(/refused the key request: 403/);
  });

  it('validates the key sources at start-up', () => {
    const schema = z.object(personalDataEnv);
    expect(parseEnv(schema, { PERSONAL_DATA_SECRET: secret, PERSONAL_DATA_KEY_SOURCES: 'customer=http://customers:4001, lead=http://sales:4002' }).PERSONAL_DATA_KEY_SOURCES).toEqual({
      customer: 'http://customers:4001',
      lead: 'http://sales:4002',
    });
    expect(() => parseEnv(schema, { PERSONAL_DATA_SECRET: 'short', PERSONAL_DATA_KEY_SOURCES: 'person=http://x,lead=nope' })).toThrow(/PERSONAL_DATA_SECRET[\s\S]*person=http:\/\/x[\s\S]*lead=nope/);
  });
});

/** What the sealing step hands on, without Kafka (for events it must leave alone). */
async function captureSealed(event: CloudEvent): Promise<CloudEvent> {
  const sent: CloudEvent[] = [];
  await new SealingPublisher({ publish: async (events) => void sent.push(...events) }, store, ['customer']).publish([event]);
  return sent[0]!;
}
