import { Writable } from 'node:stream';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@crm/logger';
import { createTopicWithLeaders, uniqueName } from '@crm/testing';
import { connectMongo } from '@crm/mongo';
import { EventConsumer, MongoProcessedEvents } from '../consumer.js';
import { deadLetterTopicFor } from '../envelope.js';
import { KafkaClient, type KafkaOptions } from '../kafka.js';
import { infra, logger } from './helpers.js';

// Against the real local broker (one node). kafkajs' admin directly is the instrument, so the code
// under test does not also measure itself.
const admin = new Kafka({ clientId: uniqueName('replication-probe'), brokers: infra.kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
await admin.connect();
const brokerCount = (await admin.describeCluster()).brokers.length;
const clients: KafkaClient[] = [];
const created: string[] = [];

/**
 * A client whose own warnings are kept as parsed log lines. kafkajs' protocol lines (they carry a
 * `kafka` field) are left out: a metadata answer for a topic created a moment ago may be
 * "This server does not host this topic-partition", which the client waits out.
 */
function client(options: Partial<KafkaOptions> = {}) {
  const warnings: Array<{ msg: string; topic?: string; found?: unknown; wanted?: unknown }> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { level: string; msg: string; kafka?: unknown };
        if (entry.level === 'warn' && entry.kafka === undefined) warnings.push(entry);
      }
      done();
    },
  });
  const logger = createLogger({ service: 'replication-test', level: 'warn', destination });
  const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('replication-test'), logger, ...options });
  clients.push(kafka);
  return { kafka, warnings };
}

function topicName(label: string): string {
  const topic = uniqueName(`replication-${label}`);
  created.push(topic);
  return topic;
}

async function described(topic: string) {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
  });
  return {
    partitions: topics[0]!.partitions.length,
    replicationFactor: Math.min(...topics[0]!.partitions.map((p) => p.replicas.length)),
    minInsyncReplicas: resources[0]!.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue,
  };
}

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.disconnect()));
  const existing = new Set(await admin.listTopics());
  await admin.deleteTopics({ topics: created.filter((t) => existing.has(t)) });
  await admin.disconnect();
});

describe('topic replication settings (real Kafka, one broker)', () => {
  it('creates topics with replication factor 1 and min.insync.replicas 1 by default, without warnings', async () => {
    const { kafka, warnings } = client();
    const topic = topicName('defaults');
    await kafka.ensureTopics([topic]);
    expect(await described(topic)).toEqual({ partitions: 3, replicationFactor: 1, minInsyncReplicas: '1' });
    // Checking again finds it as wanted.
    await kafka.ensureTopics([topic]);
    expect(warnings).toEqual([]);
  });

  it('a consumer creates its topics and their dead-letter topics with the client settings', async () => {
    const { kafka, warnings } = client({ numPartitions: 2 });
    const topic = topicName('consumed');
    created.push(deadLetterTopicFor(topic));
    const connection = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('events_replication') });
    const groupId = uniqueName('replication-group');
    const consumer = new EventConsumer({ client: kafka, groupId, topics: [topic], handle: async () => undefined, processed: new MongoProcessedEvents(connection, groupId), logger });
    try {
      await consumer.start();
      // The broker's num.partitions is 3: 2 shows the topics are ours.
      expect(await described(topic)).toEqual({ partitions: 2, replicationFactor: 1, minInsyncReplicas: '1' });
      expect(await described(deadLetterTopicFor(topic))).toEqual({ partitions: 2, replicationFactor: 1, minInsyncReplicas: '1' });
      expect(warnings).toEqual([]);
    } finally {
      await consumer.stop();
      await connection.dropDatabase();
      await connection.close();
    }
  });

  it('send creates a topic it has not seen with our settings, not the broker auto-creation defaults', async () => {
    const { kafka } = client({ numPartitions: 2 });
    const topic = topicName('on-send');
    await kafka.send([{ topic, key: 'k', value: 'v' }]);
    // The broker's num.partitions is 3: 2 shows the topic is ours.
    expect(await described(topic)).toEqual({ partitions: 2, replicationFactor: 1, minInsyncReplicas: '1' });
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(1);
  });

  it('refuses a min.insync.replicas above the replication factor, and reports every bad setting', () => {
    expect(() => client({ replicationFactor: 1, minInsyncReplicas: 2 })).toThrow('minInsyncReplicas (2) must not exceed replicationFactor (1)');
    expect(() => client({ replicationFactor: 0, minInsyncReplicas: 1.5, numPartitions: -1 })).toThrow(
      'Invalid Kafka topic settings: replicationFactor must be a positive integer, not 0; minInsyncReplicas must be a positive integer, not 1.5; numPartitions must be a positive integer, not -1',
    );
  });

  it('min.insync.replicas 2 on one replica: Kafka accepts the topic and acks=all sends succeed (it caps the minimum at the replica count)', async () => {
    const topic = topicName('isr2');
    expect(await createTopicWithLeaders(admin, topic, 1, { replicationFactor: 1, configEntries: [{ name: 'min.insync.replicas', value: '2' }] })).toBe(true);
    expect(await described(topic)).toEqual({ partitions: 1, replicationFactor: 1, minInsyncReplicas: '2' });
    const { kafka } = client();
    await kafka.send([{ topic, key: 'k', value: 'kept by one replica only' }]);
    expect(Number((await admin.fetchTopicOffsets(topic))[0]!.high)).toBe(1);
  });

  it('replication factor 3 on a single broker fails with an error naming the topic and the broker count', async () => {
    expect(brokerCount).toBeLessThan(3);
    const { kafka } = client({ replicationFactor: 3, minInsyncReplicas: 2 });
    const topic = topicName('rf3');
    await expect(kafka.ensureTopics([topic])).rejects.toThrow(
      `Kafka refused to create ${topic}: replication factor 3 needs as many brokers, the cluster has ${brokerCount} (KAFKA_REPLICATION_FACTOR)`,
    );
    expect(await admin.listTopics()).not.toContain(topic);
    // A send to a topic that cannot be created fails the same way instead of falling back to the broker's defaults.
    await expect(kafka.send([{ topic, key: 'k', value: 'v' }])).rejects.toThrow(/replication factor 3 needs as many brokers/);
    expect(await admin.listTopics()).not.toContain(topic);
  });

  it('concurrent first sends and topic checks share one producer and one admin connection', async () => {
    const producers = vi.spyOn(Kafka.prototype, 'producer');
    const admins = vi.spyOn(Kafka.prototype, 'admin');
    try {
      const { kafka } = client();
      const topics = [topicName('shared-a'), topicName('shared-b'), topicName('shared-c')];
      await Promise.all(topics.map((topic) => kafka.send([{ topic, key: 'k', value: 'v' }])));
      await Promise.all([kafka.ensureTopics(topics), kafka.ensureTopics(topics)]);
      expect(producers).toHaveBeenCalledTimes(1);
      expect(admins).toHaveBeenCalledTimes(1);
      for (const topic of topics) expect((await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0)).toBe(1);
      await kafka.disconnect();
      // After a disconnect the next send connects afresh.
      await kafka.send([{ topic: topics[0]!, key: 'k', value: 'again' }]);
      expect(producers).toHaveBeenCalledTimes(2);
    } finally {
      producers.mockRestore();
      admins.mockRestore();
    }
  });

  it('warns about an existing topic whose replication differs, naming found and wanted values, and leaves it alone', async () => {
    const topic = topicName('mismatch');
    await createTopicWithLeaders(admin, topic, 1, { replicationFactor: 1 });
    const { kafka, warnings } = client({ replicationFactor: 3, minInsyncReplicas: 2 });
    await kafka.ensureTopics([topic]);
    expect(warnings).toEqual([
      expect.objectContaining({
        topic,
        found: { replicationFactor: 1, minInsyncReplicas: 1 },
        wanted: { replicationFactor: 3, minInsyncReplicas: 2 },
        msg: `Kafka topic ${topic} has replication factor 1 and min.insync.replicas 1, wanted 3 and 2; left unchanged (see @crm/events README)`,
      }),
    ]);
    expect(await described(topic)).toEqual({ partitions: 1, replicationFactor: 1, minInsyncReplicas: '1' });
  });
});
