import { Schema } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { connectMongo } from '@crm/mongo';
import { eventually, uniqueName } from '@crm/testing';
import { createEvent } from '../envelope.js';
import { EventConsumer, MongoProcessedEvents } from '../consumer.js';
import { KafkaEventPublisher } from '../kafka.js';
import { appendEvents, OutboxRelay, outboxPlugin } from '../outbox.js';
import { infra, kafkaClient, logger } from './helpers.js';

// The readings behind crm_kafka_consumer_lag and crm_outbox_backlog, against real Kafka and Mongo.
const entity = uniqueName('lag').replace(/_/g, '-');
const topic = `crm.${entity}`;
const client = kafkaClient();
const connection = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('events_lag') });
const schema = new Schema({ _id: String, name: String });
schema.plugin(outboxPlugin);
const Aggregate = connection.model('Aggregate', schema, 'aggregates');

afterAll(async () => {
  await client.disconnect();
  await connection.dropDatabase();
  await connection.close();
});

describe('consumer lag and outbox backlog readings', () => {
  it('counts what a group has not processed yet, from the beginning before its first commit, down to 0', async () => {
    await client.ensureTopics([topic]);
    const publisher = new KafkaEventPublisher(client);
    await publisher.publish(Array.from({ length: 5 }, (_, i) => createEvent({ source: '/test', type: `${entity}.created`, subject: `a${i}`, data: { i } })));

    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const handled: string[] = [];
    const consumer = new EventConsumer({
      client,
      groupId: uniqueName('lag-group'),
      topics: [topic],
      processed: new MongoProcessedEvents(connection, 'lag-group'),
      logger,
      handle: async (event) => {
        await gate;
        handled.push(event.id);
      },
    });
    expect(await consumer.lag()).toEqual([{ group: expect.stringContaining('lag-group'), topic, lag: 5 }]);
    await consumer.start();
    try {
      await eventually(async () => consumer.isReady(), 20_000);
      expect((await consumer.lag())[0]!.lag).toBe(5);
      open();
      await eventually(async () => ((await consumer.lag())[0]!.lag === 0 ? true : undefined), 20_000);
      expect(handled).toHaveLength(5);
    } finally {
      await consumer.stop();
    }
  });

  it('counts aggregates holding unpublished events, and none once the relay has published them', async () => {
    const relay = new OutboxRelay({ publisher: new KafkaEventPublisher(client), logger });
    relay.register(Aggregate);
    expect(await relay.backlog()).toEqual([{ aggregate: 'aggregates', pending: 0 }]);
    for (const id of ['b1', 'b2', 'b3']) {
      const event = createEvent({ source: '/test', type: `${entity}.renamed`, subject: id, data: {} });
      await Aggregate.updateOne({ _id: id }, { $set: { name: id }, ...appendEvents([event]) }, { upsert: true });
    }
    await Aggregate.updateOne({ _id: 'b4' }, { $set: { name: 'quiet' } }, { upsert: true });
    expect(await relay.backlog()).toEqual([{ aggregate: 'aggregates', pending: 3 }]);
    await relay.drain();
    expect(await relay.backlog()).toEqual([{ aggregate: 'aggregates', pending: 0 }]);
  });
});
