/**
 * The only module that imports kafkajs. Everything else speaks in CloudEvents and the small
 * interfaces below, so replacing the client (kafkajs is in maintenance mode upstream) touches this file.
 */
import kafkajs, { Kafka, logLevel, type Admin, type Consumer, type Producer, type LogEntry, type KafkaMessage } from 'kafkajs';
import type { Logger } from '@crm/logger';
import { CLOUDEVENTS_CONTENT_TYPE, DEFAULT_TOPIC_PREFIX, topicFor, type CloudEvent } from './envelope.js';

export interface KafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Namespace of every topic this client publishes to (`<prefix>.<entity>`). */
  topicPrefix?: string;
  /** Copies of each partition of the topics this client creates; at most the brokers (default 1, production 3). */
  replicationFactor?: number;
  /**
   * Replicas that must hold a message before a send (acks=all) succeeds, set on the topics this client
   * creates (default 1, production 2); at most `replicationFactor`.
   */
  minInsyncReplicas?: number;
  /** Partitions of the topics this client creates (default 3). */
  numPartitions?: number;
}

/** How the topics a client creates are replicated; existing topics that differ are reported, not changed. */
export interface TopicReplication {
  replicationFactor: number;
  minInsyncReplicas: number;
}

/** Refuses settings Kafka would accept but not honour (it caps min ISR at the replica count since 3.7). */
function replicationProblems({ replicationFactor, minInsyncReplicas, numPartitions }: TopicReplication & { numPartitions: number }): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries({ replicationFactor, minInsyncReplicas, numPartitions })) {
    if (!Number.isInteger(value) || value < 1) problems.push(`${name} must be a positive integer, not ${value}`);
  }
  if (problems.length === 0 && minInsyncReplicas > replicationFactor) {
    problems.push(`minInsyncReplicas (${minInsyncReplicas}) must not exceed replicationFactor (${replicationFactor})`);
  }
  return problems;
}

const MIN_INSYNC_REPLICAS = 'min.insync.replicas';
// Node's ESM loader finds only some of kafkajs' CommonJS exports by name; this one only on the default export.
const { ConfigResourceTypes } = kafkajs;

/** A message as delivered to a consumer; `commit()` commits its offset (manual commits only). */
export interface DeliveredMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface RawMessage {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

/**
 * kafkajs's log lines in ours. Its protocol layer logs a broker's error response ("Response Metadata",
 * "not the leader for that topic-partition") at ERROR and then retries it; a failure that outlasts the
 * retries reaches our code as an exception and is logged there. Those lines are warnings here.
 */
export function kafkaLogCreator(logger: Logger) {
  return () =>
    ({ level, log }: LogEntry) => {
      const { message, ...extra } = log;
      const entry = { kafka: extra };
      if (level <= logLevel.ERROR && message.startsWith('Response ')) logger.warn(entry, message);
      else if (level <= logLevel.ERROR) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else logger.debug(entry, message);
    };
}

/** Connects a kafkajs producer or admin; a failed connection calls `forget` so the next call tries afresh. */
async function connectOnce<T extends { connect: () => Promise<void> }>(connection: T, forget: () => void): Promise<T> {
  try {
    await connection.connect();
    return connection;
  } catch (error) {
    forget();
    throw error;
  }
}

export class KafkaClient {
  private readonly kafka: Kafka;
  /** Connecting or connected; shared so that concurrent first calls make one producer and one admin, not one each. */
  private producer: Promise<Producer> | undefined;
  private admin: Promise<Admin> | undefined;
  private readonly consumers = new Set<Consumer>();
  /** Topics this client created or checked (or is doing so): sends create missing ones with our settings first. */
  private readonly ensured = new Map<string, Promise<void>>();
  readonly logger: Logger;
  readonly topicPrefix: string;
  readonly replication: TopicReplication;
  readonly numPartitions: number;

  constructor({ brokers, clientId, logger, topicPrefix = DEFAULT_TOPIC_PREFIX, replicationFactor = 1, minInsyncReplicas = 1, numPartitions = 3 }: KafkaOptions) {
    const problems = replicationProblems({ replicationFactor, minInsyncReplicas, numPartitions });
    if (problems.length > 0) throw new Error(`Invalid Kafka topic settings: ${problems.join('; ')}`);
    this.logger = logger;
    this.topicPrefix = topicPrefix;
    this.replication = { replicationFactor, minInsyncReplicas };
    this.numPartitions = numPartitions;
    // kafkajs prints a one-time notice about its v2 partitioner change; ours keys every message.
    process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
    this.kafka = new Kafka({
      clientId,
      brokers,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(logger),
      retry: { initialRetryTime: 100, retries: 8 },
      connectionTimeout: 3000,
    });
  }

  private getAdmin(): Promise<Admin> {
    this.admin ??= connectOnce(this.kafka.admin(), () => {
      this.admin = undefined;
    });
    return this.admin;
  }

  /** The topic carrying `eventType` in this client's namespace. */
  topicFor(eventType: string): string {
    return topicFor(eventType, this.topicPrefix);
  }

  /**
   * Creates missing topics with this client's replication factor, `min.insync.replicas` and
   * partitions, and returns once every partition of every topic has a leader. Existing topics are
   * left alone; one whose replication differs from ours is logged as a warning (changing it is an
   * operator's decision: a reassignment moves data). Several processes starting together create the
   * same topics: the losers of that race see "already exists" at once, while the winner's partitions
   * may still lack a leader ("This server does not host this topic-partition" for the next metadata
   * request), so everyone waits.
   */
  async ensureTopics(topics: string[], numPartitions = this.numPartitions, timeoutMs = 30_000): Promise<void> {
    const admin = await this.getAdmin();
    const wanted = [...new Set(topics)];
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((topic) => !existing.has(topic));
    const { replicationFactor, minInsyncReplicas } = this.replication;
    if (missing.length > 0) {
      try {
        // Not kafkajs' own `waitForLeaders`: its wait rejects a promise nobody awaits when the metadata
        // answer is UNKNOWN_TOPIC_OR_PARTITION, which ended the process (seen when services start together).
        await admin.createTopics({
          waitForLeaders: false,
          topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor, configEntries: [{ name: MIN_INSYNC_REPLICAS, value: String(minInsyncReplicas) }] })),
        });
      } catch (error) {
        throw await this.explainCreateError(error, missing);
      }
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const { topics: described } = await admin.fetchTopicMetadata({ topics: wanted });
        if (described.length === wanted.length && described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
          await this.warnAboutReplication(described.map((t) => ({ topic: t.name, replicationFactor: Math.min(...t.partitions.map((p) => p.replicas.length)) })));
          for (const topic of wanted) if (!this.ensured.has(topic)) this.ensured.set(topic, Promise.resolve());
          return;
        }
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) throw new Error(`Kafka topics without a leader after ${timeoutMs} ms: ${wanted.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** kafkajs reports a replication factor above the broker count only as "Replication-factor is invalid". */
  private async explainCreateError(error: unknown, topics: string[]): Promise<unknown> {
    const causes = (error as { errors?: Array<{ type?: string }> }).errors ?? [error as { type?: string }];
    if (!causes.some((cause) => cause.type === 'INVALID_REPLICATION_FACTOR')) return error;
    const brokers = await this.getAdmin()
      .then((admin) => admin.describeCluster())
      .then(({ brokers: list }) => String(list.length))
      .catch(() => 'an unknown number of');
    return new Error(
      `Kafka refused to create ${topics.join(', ')}: replication factor ${this.replication.replicationFactor} needs as many brokers, the cluster has ${brokers} (KAFKA_REPLICATION_FACTOR)`,
      { cause: error },
    );
  }

  /** Logs each topic whose replication factor or `min.insync.replicas` differs from this client's. */
  private async warnAboutReplication(found: Array<{ topic: string; replicationFactor: number }>): Promise<void> {
    const wanted = this.replication;
    let minIsr: Map<string, number>;
    try {
      const { resources } = await (await this.getAdmin()).describeConfigs({
        includeSynonyms: false,
        resources: found.map(({ topic }) => ({ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [MIN_INSYNC_REPLICAS] })),
      });
      minIsr = new Map(resources.map((r) => [r.resourceName, Number(r.configEntries.find((e) => e.configName === MIN_INSYNC_REPLICAS)?.configValue)]));
    } catch (error) {
      // Checking is advice; a broker that refuses to describe configs (ACLs) must not stop a service.
      this.logger.warn({ err: error, topics: found.map((f) => f.topic) }, 'could not read min.insync.replicas of Kafka topics');
      return;
    }
    for (const { topic, replicationFactor } of found) {
      const current = { replicationFactor, minInsyncReplicas: minIsr.get(topic) ?? Number.NaN };
      if (current.replicationFactor === wanted.replicationFactor && current.minInsyncReplicas === wanted.minInsyncReplicas) continue;
      this.logger.warn(
        { topic, found: current, wanted },
        `Kafka topic ${topic} has replication factor ${current.replicationFactor} and min.insync.replicas ${current.minInsyncReplicas}, ` +
          `wanted ${wanted.replicationFactor} and ${wanted.minInsyncReplicas}; left unchanged (see @crm/events README)`,
      );
    }
  }

  /** {@link ensureTopics} for the topics not yet ensured by this client, each once even under concurrent sends. */
  private ensureOnce(topics: string[]): Promise<unknown> {
    const unique = [...new Set(topics)];
    const fresh = unique.filter((topic) => !this.ensured.has(topic));
    if (fresh.length > 0) {
      const pending = this.ensureTopics(fresh);
      for (const topic of fresh) this.ensured.set(topic, pending);
      // A failed attempt is tried again by the next send.
      pending.catch(() => {
        for (const topic of fresh) if (this.ensured.get(topic) === pending) this.ensured.delete(topic);
      });
    }
    return Promise.all(unique.map((topic) => this.ensured.get(topic)));
  }

  /**
   * Moves a consumer group back to the earliest offset of each topic, so its next start replays the
   * whole history (rebuilding a read model). Kafka refuses while the group has running members.
   */
  async resetGroupToEarliest(groupId: string, topics: string[]): Promise<void> {
    const admin = await this.getAdmin();
    for (const topic of [...new Set(topics)]) await admin.resetOffsets({ groupId, topic, earliest: true });
  }

  /** Messages of each topic the group has not committed yet (end offset minus committed, summed over partitions). */
  async consumerLag(groupId: string, topics: string[]): Promise<Array<{ topic: string; lag: number }>> {
    const admin = await this.getAdmin();
    const committed = await admin.fetchOffsets({ groupId, topics });
    return Promise.all(
      committed.map(async ({ topic, partitions }) => {
        let lag = 0n;
        for (const { partition, high, low } of await admin.fetchTopicOffsets(topic)) {
          const offset = partitions.find((p) => p.partition === partition)?.offset ?? '-1';
          // A group that never committed on a partition has all of it still to read (it starts from the beginning).
          const next = offset === '-1' ? BigInt(low) : BigInt(offset);
          if (BigInt(high) > next) lag += BigInt(high) - next;
        }
        return { topic, lag: Number(lag) };
      }),
    );
  }

  /** True when a broker answers a metadata request. */
  async ping(): Promise<boolean> {
    try {
      const admin = await this.getAdmin();
      await admin.describeCluster();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Sends messages and resolves only when every in-sync replica (at least `min.insync.replicas`)
   * acknowledged them. A topic not yet ensured is created first with our settings; the broker's own
   * auto-creation would use its defaults instead.
   */
  async send(messages: RawMessage[]): Promise<void> {
    await this.ensureOnce(messages.map((message) => message.topic));
    // Idempotent: a retried batch is written once (with acks=-1 and one request in flight, as kafkajs requires).
    this.producer ??= connectOnce(this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }), () => {
      this.producer = undefined;
    });
    const producer = await this.producer;
    const byTopic = new Map<string, RawMessage[]>();
    for (const message of messages) byTopic.set(message.topic, [...(byTopic.get(message.topic) ?? []), message]);
    await producer.sendBatch({
      acks: -1,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map(({ key, value, headers }) => ({ key, value, headers })),
      })),
    });
  }

  /**
   * Runs a consumer group with manual offset commits: an offset is committed only when `onMessage`
   * (or `onBatch`, for up to `maxBatch` messages of one partition at a time) resolves, so a crash
   * before that redelivers the message(s).
   */
  async consume(options: {
    groupId: string;
    topics: string[];
    fromBeginning?: boolean;
    onMessage: (message: DeliveredMessage) => Promise<void>;
    /** Handles several messages of one partition at once (in partition order); one commit per call. */
    onBatch?: (messages: DeliveredMessage[]) => Promise<void>;
    maxBatch?: number;
    onReadyChange: (ready: boolean) => void;
  }): Promise<{ stop: () => Promise<void> }> {
    // metadataMaxAge 10 s (kafkajs: 5 min): a group that joined while a fresh topic's partitions had no
    // leader yet is assigned nothing of it until the next metadata refresh; with the default an e2e
    // run's service desk missed a customer's account link for over a minute.
    const consumer = this.kafka.consumer({ groupId: options.groupId, allowAutoTopicCreation: true, sessionTimeout: 15_000, heartbeatInterval: 1000, metadataMaxAge: 10_000 });
    this.consumers.add(consumer);
    consumer.on(consumer.events.GROUP_JOIN, () => options.onReadyChange(true));
    consumer.on(consumer.events.CRASH, (event) => {
      this.logger.error({ err: event.payload.error, groupId: options.groupId }, 'consumer crashed');
      options.onReadyChange(false);
    });
    consumer.on(consumer.events.STOP, () => options.onReadyChange(false));
    await consumer.connect();
    await consumer.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
    const delivered = (topic: string, partition: number, message: KafkaMessage): DeliveredMessage => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? String(value[0]) : String(value);
      }
      return { topic, partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value, headers };
    };
    const onBatch = options.onBatch;
    if (onBatch) {
      const maxBatch = options.maxBatch ?? 200;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          for (let i = 0; i < batch.messages.length; i += maxBatch) {
            if (!isRunning() || isStale()) return;
            const chunk = batch.messages.slice(i, i + maxBatch);
            await onBatch(chunk.map((m) => delivered(batch.topic, batch.partition, m)));
            const last = chunk.at(-1)!.offset;
            resolveOffset(last);
            await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
            await heartbeat();
          }
        },
      });
    } else {
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic, partition, message }) => {
          await options.onMessage(delivered(topic, partition, message));
          await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        },
      });
    }
    return {
      stop: async () => {
        this.consumers.delete(consumer);
        await consumer.disconnect();
      },
    };
  }

  async disconnect(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.disconnect()));
    this.consumers.clear();
    const [producer, admin] = [this.producer, this.admin];
    this.producer = undefined;
    this.admin = undefined;
    // One that never connected has nothing to close.
    await Promise.allSettled([producer, admin].map(async (connecting) => (await connecting)?.disconnect()));
  }
}

/** Publishes CloudEvents: structured mode, topic per aggregate type, key = aggregate id. */
export interface EventPublisher {
  publish(events: CloudEvent[]): Promise<void>;
}

export class KafkaEventPublisher implements EventPublisher {
  constructor(private readonly client: KafkaClient) {}

  async publish(events: CloudEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.client.send(
      events.map((event) => ({
        topic: this.client.topicFor(event.type),
        key: event.subject,
        value: JSON.stringify(event),
        headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE, ce_type: event.type, ce_id: event.id, ...(event.traceparent ? { traceparent: event.traceparent } : {}) },
      })),
    );
  }
}
