import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '@crm/mongo';
import { eventually, uniqueName } from '@crm/testing';
import { createEvent, deadLetterTopicFor, type CloudEvent } from '../envelope.js';
import { EventConsumer, MongoProcessedEvents, PoisonEventError } from '../consumer.js';
import { KafkaEventPublisher } from '../kafka.js';
import { collect, infra, kafkaClient, logger } from './helpers.js';

// Each test run uses its own entity name, hence its own topic `crm.<entity>`.
const entity = uniqueName('probe').replace(/_/g, '-');
const topic = `crm.${entity}`;
const client = kafkaClient();
const publisher = new KafkaEventPublisher(client);
const connection = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('events_consumer') });

const handled: CloudEvent[] = [];
let failuresToInject = 0;
const consumer = new EventConsumer({
  client,
  groupId: uniqueName('group'),
  topics: [topic],
  processed: new MongoProcessedEvents(connection, 'test-group'),
  logger,
  retryDelayMs: 10,
  maxAttempts: 3,
  handle: async (event) => {
    if ((event.data as { poison?: boolean }).poison) throw new PoisonEventError('cannot use this event');
    if ((event.data as { flaky?: boolean }).flaky && failuresToInject > 0) {
      failuresToInject -= 1;
      throw new Error('database briefly away');
    }
    handled.push(event);
  },
});
let deadLetters: Awaited<ReturnType<typeof collect>>;

beforeAll(async () => {
  await consumer.start();
  deadLetters = await collect(client, [deadLetterTopicFor(topic)]);
  await eventually(async () => consumer.isReady(), 20_000);
});

afterAll(async () => {
  await consumer.stop();
  await deadLetters.stop();
  await client.disconnect();
  await connection.dropDatabase();
  await connection.close();
});

const make = (data: Record<string, unknown>, subject = 'agg-1') => createEvent({ source: '/test', type: `${entity}.happened`, subject, data });

describe('EventConsumer against real Kafka', () => {
  it('handles a published event and reports ready', async () => {
    const event = make({ n: 1 });
    await publisher.publish([event]);
    await eventually(async () => handled.some((e) => e.id === event.id), 10_000);
    expect(consumer.isReady()).toBe(true);
  });

  it('skips a redelivered event with the same id', async () => {
    const event = make({ n: 2 });
    const sentinel = make({ n: 3 });
    // Same key, so same partition: the sentinel is handled after both copies.
    await publisher.publish([event, event, sentinel]);
    await eventually(async () => handled.some((e) => e.id === sentinel.id), 10_000);
    expect(handled.filter((e) => e.id === event.id)).toHaveLength(1);
  });

  it('retries a failing handler and succeeds without parking the message', async () => {
    failuresToInject = 2;
    const event = make({ flaky: true });
    await publisher.publish([event]);
    await eventually(async () => handled.some((e) => e.id === event.id), 10_000);
    expect(failuresToInject).toBe(0);
    expect(deadLetters.messages.some((m) => m.value?.toString().includes(event.id))).toBe(false);
  });

  it('parks poison messages on the dead-letter topic and keeps consuming', async () => {
    const poison = make({ poison: true });
    const after = make({ n: 4 });
    await client.send([{ topic, key: 'agg-1', value: '{not json' }]);
    await publisher.publish([poison, after]);
    await eventually(async () => handled.some((e) => e.id === after.id), 10_000);
    const parked = await eventually(async () => (deadLetters.messages.length >= 2 ? deadLetters.messages : undefined), 10_000);
    expect(parked.map((m) => m.headers['x-dlq-reason'])).toEqual([
      'InvalidEventError: Message is not JSON',
      'PoisonEventError: cannot use this event',
    ]);
    expect(parked[1]?.headers['x-dlq-topic']).toBe(topic);
    expect(handled.some((e) => e.id === poison.id)).toBe(false);
  });
});

describe('EventConsumer in batches against real Kafka', () => {
  const batchEntity = uniqueName('batch').replace(/_/g, '-');
  const batchTopic = `crm.${batchEntity}`;
  const batches: string[][] = [];
  const singles: string[] = [];
  const poisonOf = (event: CloudEvent) => Boolean((event.data as { poison?: boolean }).poison);
  const batched = new EventConsumer({
    client,
    groupId: uniqueName('batch-group'),
    topics: [batchTopic],
    processed: new MongoProcessedEvents(connection, 'batch-group'),
    logger,
    retryDelayMs: 10,
    maxAttempts: 2,
    maxBatch: 50,
    handleBatch: async (events) => {
      if (events.some(poisonOf)) throw new PoisonEventError('a poison event in the batch');
      batches.push(events.map((e) => e.id));
    },
    handle: async (event) => {
      if (poisonOf(event)) throw new PoisonEventError('cannot use this event');
      singles.push(event.id);
    },
  });
  const makeIn = (data: Record<string, unknown>, subject = 'agg-b') => createEvent({ source: '/test', type: `${batchEntity}.happened`, subject, data });
  let parked: Awaited<ReturnType<typeof collect>>;

  beforeAll(async () => {
    parked = await collect(client, [deadLetterTopicFor(batchTopic)]);
    // Published before the consumer starts, so they wait in the partition and arrive together.
    const events = Array.from({ length: 120 }, (_, n) => makeIn({ n }));
    await client.ensureTopics([batchTopic]);
    await publisher.publish([...events, events[0]!, events[1]!]);
    await batched.start();
  });

  afterAll(async () => {
    await batched.stop();
    await parked.stop();
  });

  it('hands waiting events over in batches of at most maxBatch, each event once, in partition order', async () => {
    const processed = connection.collection('processed_events');
    // A batch is marked processed after its handler returns, so wait for the marks as well.
    await eventually(async () => batches.flat().length >= 120 && (await processed.countDocuments({ groupId: 'batch-group' })) >= 120, 20_000);
    expect(batches.flat()).toHaveLength(120);
    expect(new Set(batches.flat()).size).toBe(120);
    expect(Math.max(...batches.map((b) => b.length))).toBeGreaterThan(1);
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(50);
    expect(await processed.countDocuments({ groupId: 'batch-group' })).toBe(120);
  });

  it('skips events handled in an earlier batch', async () => {
    const again = batches.flat().slice(0, 3);
    const sentinel = makeIn({ n: 'sentinel' });
    const replayed = await connection.collection('processed_events').find({ groupId: 'batch-group', eventId: { $in: again } }).toArray();
    expect(replayed).toHaveLength(3);
    // The first three events again (same ids), then a new one: only the new one is handled.
    const originals = Array.from({ length: 3 }, (_, n) => ({ ...makeIn({ n }), id: again[n]! }));
    await publisher.publish([...originals, sentinel]);
    await eventually(async () => batches.flat().includes(sentinel.id), 10_000);
    expect(batches.flat().filter((id) => again.includes(id))).toHaveLength(3);
  });

  it('handles a batch holding a poison event one by one: the poison is parked, the others handled', async () => {
    const good = [makeIn({ n: 'g1' }), makeIn({ n: 'g2' })];
    const poison = makeIn({ poison: true });
    await client.send([{ topic: batchTopic, key: 'agg-b', value: 'not json either' }]);
    await publisher.publish([good[0]!, poison, good[1]!]);
    await eventually(async () => good.every((g) => singles.includes(g.id) || batches.flat().includes(g.id)), 10_000);
    const reasons = await eventually(async () => (parked.messages.length >= 2 ? parked.messages.map((m) => m.headers['x-dlq-reason']) : undefined), 10_000);
    expect(reasons).toEqual(['InvalidEventError: Message is not JSON', 'PoisonEventError: cannot use this event']);
    expect([...singles, ...batches.flat()]).not.toContain(poison.id);
  });
});
