import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Schema } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { connectMongo, PerKeySerializer } from '@crm/mongo';
import { eventually, uniqueName } from '@crm/testing';
import { createEvent, type CloudEvent } from '../envelope.js';
import { EventConsumer, MongoProcessedEvents } from '../consumer.js';
import { KafkaEventPublisher } from '../kafka.js';
import { appendEvents, OUTBOX_FIELD, OutboxRelay, outboxPlugin } from '../outbox.js';
import { collect, infra, kafkaClient, logger } from './helpers.js';

const entity = uniqueName('outbox').replace(/_/g, '-');
const topic = `crm.${entity}`;
const dbName = uniqueName('events_outbox');
const connection = await connectMongo({ url: infra.mongoUrl, dbName });
const schema = new Schema({ _id: String, name: String });
schema.plugin(outboxPlugin);
const Aggregate = connection.model('Aggregate', schema, 'aggregates');
const client = kafkaClient();
const cleanups: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await client.disconnect();
  await connection.dropDatabase();
  await connection.close();
});

async function pendingOf(id: string): Promise<CloudEvent[]> {
  const doc = await Aggregate.collection.findOne({ _id: id as never });
  return (doc?.pendingEvents ?? []) as CloudEvent[];
}

describe('outbox relay against real Kafka and the MongoDB-compatible server', () => {
  it('stores events with the state change and removes them only after Kafka acknowledged', async () => {
    const seen = await collect(client, [topic]);
    cleanups.push(seen.stop);
    const relay = new OutboxRelay({ publisher: new KafkaEventPublisher(client), logger });
    relay.register(Aggregate);
    const first = createEvent({ source: '/test', type: `${entity}.created`, subject: 'a1', data: { n: 1 } });
    const second = createEvent({ source: '/test', type: `${entity}.renamed`, subject: 'a1', data: { n: 2 } });
    await Aggregate.updateOne({ _id: 'a1' }, { $set: { name: 'x' }, ...appendEvents([first, second]) }, { upsert: true });
    expect((await pendingOf('a1')).map((e) => e.id)).toEqual([first.id, second.id]);

    await relay.publishDocument(Aggregate, 'a1');
    expect(await pendingOf('a1')).toEqual([]);
    const received = await eventually(async () => (seen.messages.length >= 2 ? seen.messages : undefined), 10_000);
    expect(received.map((m) => JSON.parse(m.value!.toString()).id)).toEqual([first.id, second.id]);
    expect(received.every((m) => m.key === 'a1')).toBe(true);
    expect(received[0]?.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
  });

  it('keeps events when publishing fails, so nothing is lost', async () => {
    const failing = new OutboxRelay({ publisher: { publish: async () => Promise.reject(new Error('broker down')) }, logger });
    const event = createEvent({ source: '/test', type: `${entity}.created`, subject: 'a2', data: {} });
    await Aggregate.updateOne({ _id: 'a2' }, { $set: { name: 'y' }, ...appendEvents([event]) }, { upsert: true });
    await expect(failing.publishDocument(Aggregate, 'a2')).rejects.toThrow('broker down');
    expect((await pendingOf('a2')).map((e) => e.id)).toEqual([event.id]);
    // Leave nothing for the next test's poller.
    await new OutboxRelay({ publisher: new KafkaEventPublisher(client), logger }).publishDocument(Aggregate, 'a2');
  });

  it('flushes pending events when stopped, without ever having been started', async () => {
    const event = createEvent({ source: '/test', type: `${entity}.created`, subject: 'a3', data: {} });
    await Aggregate.updateOne({ _id: 'a3' }, { $set: { name: 'z' }, ...appendEvents([event]) }, { upsert: true });
    const published: string[] = [];
    const relay = new OutboxRelay({ publisher: { publish: async (events) => void published.push(...events.map((e) => e.id)) }, logger });
    relay.register(Aggregate);
    await relay.stop();
    expect(published).toContain(event.id);
    expect(await pendingOf('a3')).toEqual([]);
  });

  it('counts for its poll interval only what a poll published itself, not what notify() is publishing', async () => {
    const event = createEvent({ source: '/test', type: `${entity}.created`, subject: 'a3b', data: {} });
    await Aggregate.updateOne({ _id: 'a3b' }, { $set: { name: 'n' }, ...appendEvents([event]) }, { upsert: true });
    const published: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    // notify()'s publication is held open while a poll runs: the poll must leave that document to it.
    const relay = new OutboxRelay({ publisher: { publish: async (events) => (await held, void published.push(...events.map((e) => e.id))) }, logger });
    relay.register(Aggregate);
    relay.notify(Aggregate, 'a3b');
    // Released once the poll has read the document (it then waits for notify's publication to end).
    setTimeout(release, 500);
    expect(await relay.drain()).toBe(0);
    expect(published).toEqual([event.id]);
    expect(await pendingOf('a3b')).toEqual([]);
    // Left over (nobody publishing it), the same document counts.
    const later = createEvent({ source: '/test', type: `${entity}.renamed`, subject: 'a3b', data: {} });
    await Aggregate.updateOne({ _id: 'a3b' }, appendEvents([later]));
    expect(await relay.drain()).toBe(1);
    expect(published).toEqual([event.id, later.id]);
  });

  it('a timed poll leaves young events to notify() and takes those left over; start and pollSoon take everything', async () => {
    const published: string[] = [];
    const relay = new OutboxRelay({ publisher: { publish: async (events) => void published.push(...events.map((e) => e.id)) }, logger, leftOverAfterMs: 60_000 });
    relay.register(Aggregate);
    const young = createEvent({ source: '/test', type: `${entity}.created`, subject: 'y1', data: {} });
    const old = createEvent({ source: '/test', type: `${entity}.created`, subject: 'o1', data: {}, time: new Date(Date.now() - 120_000) });
    await Aggregate.updateOne({ _id: 'y1' }, { $set: { name: 'young' }, ...appendEvents([young]) }, { upsert: true });
    await Aggregate.updateOne({ _id: 'o1' }, { $set: { name: 'old' }, ...appendEvents([old]) }, { upsert: true });

    // The timed poll: only the document whose event waited longer than leftOverAfterMs.
    expect(await relay.drain({ leftOversOnly: true })).toBe(1);
    expect(published).toEqual([old.id]);
    expect((await pendingOf('y1')).map((e) => e.id)).toEqual([young.id]);
    expect(await pendingOf('o1')).toEqual([]);

    // The first poll after start takes the young one too (what waited from before the start).
    relay.start();
    await eventually(async () => (await pendingOf('y1')).length === 0 || undefined, 10_000);
    expect(published).toEqual([old.id, young.id]);

    // Later polls are timed ones; pollSoon makes the next take everything again.
    const bulk = createEvent({ source: '/test', type: `${entity}.renamed`, subject: 'y1', data: {} });
    await Aggregate.updateOne({ _id: 'y1' }, appendEvents([bulk]));
    relay.pollSoon();
    await eventually(async () => (await pendingOf('y1')).length === 0 || undefined, 10_000);
    await relay.stop({ flush: false });
    expect(published).toEqual([old.id, young.id, bulk.id]);
  });

  it('removes published events through the registered serializer, after the writes queued before it (FerretDB v1)', async () => {
    const serial = new PerKeySerializer();
    const keys: string[] = [];
    const relay = new OutboxRelay({ publisher: { publish: async () => undefined }, logger });
    relay.register(Aggregate, {
      serializer: { run: (key, work) => (keys.push(key), serial.run(key, work)), runAll: (all, work) => (keys.push(...all), serial.runAll(all, work)) },
    });
    const event = createEvent({ source: '/test', type: `${entity}.created`, subject: 's1', data: {} });
    await Aggregate.updateOne({ _id: 's1' }, { $set: { name: 'before' }, ...appendEvents([event]) }, { upsert: true });
    // A write of the service holds the document: the removal waits for it instead of racing it.
    let release!: () => void;
    const held = serial.run('s1', () => new Promise<void>((resolve) => (release = resolve)));
    const publishing = relay.publishDocument(Aggregate, 's1');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await pendingOf('s1')).map((e) => e.id)).toEqual([event.id]);
    release();
    await held;
    await publishing;
    expect(await pendingOf('s1')).toEqual([]);

    const again = createEvent({ source: '/test', type: `${entity}.renamed`, subject: 's1', data: {} });
    await Aggregate.updateOne({ _id: 's1' }, { $set: { name: 'after' }, ...appendEvents([again]) });
    await relay.drain();
    expect(await pendingOf('s1')).toEqual([]);
    expect(keys.filter((key) => key === 's1')).toHaveLength(2);
  });

  it('a write through relay.writing is never undone by the removal of published events racing it (FerretDB v1 rewrites whole documents)', async () => {
    const relay = new OutboxRelay({ publisher: { publish: async () => undefined }, logger });
    relay.register(Aggregate);
    const lost: string[] = [];
    // Each round races the relay's removal of the first event against a version-checked change that
    // appends a second one; unserialised, FerretDB lost about one change in seven here.
    for (let round = 0; round < 40; round += 1) {
      const id = `race-${round}`;
      const first = createEvent({ source: '/test', type: `${entity}.created`, subject: id, data: {} });
      await Aggregate.collection.insertOne({ _id: id as never, name: 'a', version: 1, [OUTBOX_FIELD]: [first] });
      const second = createEvent({ source: '/test', type: `${entity}.renamed`, subject: id, data: {} });
      const [, change] = await Promise.all([
        relay.publishDocument(Aggregate, id),
        relay.writing(Aggregate, id, () => Aggregate.collection.updateOne({ _id: id as never, version: 1 } as never, { $set: { name: 'b', version: 2 }, ...appendEvents([second]) } as never)),
      ]);
      expect(change.matchedCount).toBe(1);
      const stored = await Aggregate.collection.findOne({ _id: id as never });
      if (stored?.name !== 'b' || stored.version !== 2) lost.push(id);
    }
    expect(lost).toEqual([]);
    // The second events stay pending: out of the way of the tests that poll the whole collection.
    await Aggregate.collection.deleteMany({ _id: { $regex: /^race-/ } } as never);
  });

  it('updateMatching rewrites the matching documents one by one in step with the removal of their events', async () => {
    const relay = new OutboxRelay({ publisher: { publish: async () => undefined }, logger });
    relay.register(Aggregate);
    const lost: string[] = [];
    for (let round = 0; round < 30; round += 1) {
      const id = `bulk-${round}`;
      await Aggregate.collection.insertOne({ _id: id as never, name: 'person', group: 'g', [OUTBOX_FIELD]: [createEvent({ source: '/test', type: `${entity}.created`, subject: id, data: {} })] });
      const [, changed] = await Promise.all([relay.publishDocument(Aggregate, id), relay.updateMatching(Aggregate, { _id: id, group: 'g' }, { $set: { name: '[erased]' } })]);
      expect(changed).toBe(1);
      if ((await Aggregate.collection.findOne({ _id: id as never }))?.name !== '[erased]') lost.push(id);
    }
    expect(lost).toEqual([]);
    // Only what the filter matches changes.
    expect(await relay.updateMatching(Aggregate, { _id: 'bulk-0', group: 'other' }, { $set: { name: 'x' } })).toBe(0);
    await Aggregate.collection.deleteMany({ _id: { $regex: /^bulk-/ } } as never);
  });

  it('pauses without flushing: a poll under way stops after its batch and the rest waits for start', async () => {
    const ids = ['p1', 'p2', 'p3'];
    for (const id of ids) {
      const event = createEvent({ source: '/test', type: `${entity}.created`, subject: id, data: {} });
      await Aggregate.updateOne({ _id: id }, { $set: { name: id }, ...appendEvents([event]) }, { upsert: true });
    }
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batches: string[][] = [];
    const relay = new OutboxRelay({
      publisher: {
        publish: async (events) => {
          batches.push(events.map((e) => e.subject!));
          if (batches.length === 1) await gate;
        },
      },
      logger,
      batchSize: 1,
    });
    relay.register(Aggregate);
    relay.start();
    await eventually(async () => batches.length === 1 || undefined, 5_000);
    const paused = relay.stop({ flush: false });
    release();
    await paused;
    expect(batches).toHaveLength(1);
    const left = (await Promise.all(ids.map(pendingOf))).filter((pending) => pending.length > 0);
    expect(left).toHaveLength(2);
    // Started again, it publishes what waited.
    relay.start();
    await eventually(async () => ((await Promise.all(ids.map(pendingOf))).every((p) => p.length === 0) ? true : undefined), 10_000);
    await relay.stop();
    expect(batches.flat().sort()).toEqual(ids);
  });

  it('after the writer dies between write and publish, a restarted relay publishes and the effect happens once', async () => {
    const aggregateId = uniqueName('agg');
    const fixture = fileURLToPath(new URL('./fixtures/crash-writer.mjs', import.meta.url));
    const child = spawn(process.execPath, [fixture, infra.mongoUrl, dbName, entity, aggregateId], { stdio: 'inherit' });
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
    expect(signal).toBe('SIGKILL');
    const left = await pendingOf(aggregateId);
    expect(left).toHaveLength(1);
    expect((await Aggregate.findById(aggregateId))?.name).toBe('Ada');

    // A consumer whose side effect is not idempotent on its own: dedupe by event id keeps it exactly-once.
    const effects = connection.collection<{ _id: string; count: number }>('effects');
    const consumer = new EventConsumer({
      client,
      groupId: uniqueName('effects'),
      topics: [topic],
      types: [`${entity}.created`, `${entity}.checked`],
      processed: new MongoProcessedEvents(connection, 'effects'),
      logger,
      handle: async (event) => {
        await effects.updateOne({ _id: `${event.type}:${event.subject}` }, { $inc: { count: 1 } }, { upsert: true });
      },
    });
    await consumer.start();
    cleanups.push(() => consumer.stop());

    // "Restart": a new relay's poller finds the left-over event.
    const publisher = new KafkaEventPublisher(client);
    const relay = new OutboxRelay({ publisher, logger, pollIntervalMs: 100 });
    relay.register(Aggregate);
    relay.start();
    cleanups.push(() => relay.stop());
    await eventually(async () => (await pendingOf(aggregateId)).length === 0, 10_000);
    await eventually(async () => (await effects.findOne({ _id: `${entity}.created:${aggregateId}` }))?.count === 1, 10_000);

    // The same event delivered again (a relay that died after Kafka's ack but before removal), then a marker.
    const marker = createEvent({ source: '/test', type: `${entity}.checked`, subject: aggregateId, data: {} });
    await publisher.publish([left[0]!, marker]);
    await eventually(async () => (await effects.findOne({ _id: `${entity}.checked:${aggregateId}` }))?.count === 1, 10_000);
    expect((await effects.findOne({ _id: `${entity}.created:${aggregateId}` }))?.count).toBe(1);
  });
});
