import type { Connection } from 'mongoose';
import { duplicateKeyIndexes, isDuplicateKey } from '@crm/mongo';
import type { Logger } from '@crm/logger';
import { inSpan, outsideTraces } from '@crm/telemetry';
import { deadLetterTopicFor, InvalidEventError, parseEvent, type CloudEvent } from './envelope.js';
import type { DeliveredMessage, KafkaClient } from './kafka.js';

/** Thrown by a handler for an event it can never process (bad data); parked at once, no retries. */
export class PoisonEventError extends Error {
  override name = 'PoisonEventError';
}

/** Remembers which event ids a consumer group has handled, to skip redeliveries. */
export interface ProcessedEvents {
  has(eventId: string): Promise<boolean>;
  add(eventId: string): Promise<void>;
  /** The ids among `eventIds` already handled. */
  hasAny(eventIds: string[]): Promise<Set<string>>;
  addAll(eventIds: string[]): Promise<void>;
}

/** Processed-event ids in the consuming service's own database (`processed_events`). */
export class MongoProcessedEvents implements ProcessedEvents {
  constructor(
    private readonly connection: Connection,
    private readonly groupId: string,
  ) {}

  private get collection() {
    return this.connection.collection<{ _id: string; groupId: string; eventId: string; processedAt: Date }>('processed_events');
  }

  async has(eventId: string): Promise<boolean> {
    return (await this.collection.countDocuments({ _id: `${this.groupId}:${eventId}` }, { limit: 1 })) > 0;
  }

  async add(eventId: string): Promise<void> {
    try {
      await this.collection.insertOne({ _id: `${this.groupId}:${eventId}`, groupId: this.groupId, eventId, processedAt: new Date() });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  // One lookup per id, 16 at a time: FerretDB v1 serves `_id` equality from the index but scans for
  // `$in`, and more concurrent requests than its PostgreSQL pool holds can wedge it.
  async hasAny(eventIds: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < eventIds.length; i += 16) {
      const chunk = eventIds.slice(i, i + 16);
      const seen = await Promise.all(chunk.map((id) => this.has(id)));
      chunk.forEach((id, k) => seen[k] && found.add(id));
    }
    return found;
  }

  async addAll(eventIds: string[]): Promise<void> {
    if (!eventIds.length) return;
    const processedAt = new Date();
    try {
      await this.collection.insertMany(eventIds.map((eventId) => ({ _id: `${this.groupId}:${eventId}`, groupId: this.groupId, eventId, processedAt })), { ordered: false });
    } catch (error) {
      // Ids recorded before (a redelivered batch) are duplicates; the rest were inserted.
      if (!duplicateKeyIndexes(error)) throw error;
    }
  }
}

export interface EventConsumerOptions {
  client: KafkaClient;
  groupId: string;
  topics: string[];
  /** Event types to handle; others on the same topics are skipped (and committed). */
  types?: string[];
  handle: (event: CloudEvent) => Promise<void>;
  /**
   * Handles the new events of up to `maxBatch` messages of one partition at once (in partition order,
   * duplicates and other types already removed): for read models that fold many events into a few
   * documents. If it fails for good, the events are handled one by one with `handle`, so a poison
   * event is parked alone.
   */
  handleBatch?: (events: CloudEvent[]) => Promise<void>;
  maxBatch?: number;
  processed: ProcessedEvents;
  logger: Logger;
  /** Attempts for an error that may pass (e.g. the database briefly away) before the message is parked. */
  maxAttempts?: number;
  retryDelayMs?: number;
}

/**
 * A consumer with the platform's delivery rules: offsets are committed only after the side effect,
 * events already processed (by id) are skipped, and poison messages go to `<topic>.dlq` so they do
 * not block the partition. Handlers must still be idempotent for the crash window between the side
 * effect and recording the id.
 */
export class EventConsumer {
  private ready = false;
  private running: { stop: () => Promise<void> } | undefined;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;

  constructor(private readonly options: EventConsumerOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 200;
  }

  isReady(): boolean {
    return this.ready;
  }

  /** The group's lag per topic it reads (for `crm_kafka_consumer_lag`). */
  async lag(): Promise<Array<{ group: string; topic: string; lag: number }>> {
    const { client, topics, groupId } = this.options;
    return (await client.consumerLag(groupId, topics)).map((reading) => ({ group: groupId, ...reading }));
  }

  async start(): Promise<void> {
    const { client, topics, groupId } = this.options;
    await client.ensureTopics([...topics, ...topics.map(deadLetterTopicFor)]);
    this.running = await client.consume({
      groupId,
      topics,
      onMessage: (message) => this.onMessage(message),
      ...(this.options.handleBatch ? { onBatch: (messages: DeliveredMessage[]) => this.onBatch(messages), maxBatch: this.options.maxBatch } : {}),
      onReadyChange: (ready) => {
        this.ready = ready;
      },
    });
  }

  async stop(): Promise<void> {
    this.ready = false;
    await this.running?.stop();
    this.running = undefined;
  }

  private async onMessage(message: DeliveredMessage): Promise<void> {
    const { logger, processed, types } = this.options;
    let event: CloudEvent;
    try {
      event = parseEvent(message.value);
    } catch (error) {
      if (error instanceof InvalidEventError) return this.deadLetter(message, error);
      throw error;
    }
    if (types && !types.includes(event.type)) return;
    if (await processed.has(event.id)) {
      logger.debug({ eventId: event.id }, 'duplicate event skipped');
      return;
    }
    // The handling continues the trace of the request that caused the event.
    await inSpan(
      `${event.type} process`,
      { kind: 'consumer', traceparent: message.headers.traceparent ?? event.traceparent, attributes: this.spanAttributes(message, event.id) },
      () => this.handleWithRetries(message, event),
    );
  }

  private spanAttributes(message: DeliveredMessage, eventId?: string) {
    return {
      'messaging.system': 'kafka',
      'messaging.destination.name': message.topic,
      'messaging.consumer.group.name': this.options.groupId,
      ...(eventId ? { 'messaging.message.id': eventId } : {}),
    };
  }

  private async handleWithRetries(message: DeliveredMessage, event: CloudEvent): Promise<void> {
    const { logger, processed } = this.options;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.options.handle(event);
        break;
      } catch (error) {
        if (error instanceof PoisonEventError || attempt >= this.maxAttempts) {
          return this.deadLetter(message, error as Error, event);
        }
        logger.warn({ err: error, eventId: event.id, attempt }, 'event handler failed; retrying');
        await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
    await processed.add(event.id);
  }

  private async onBatch(messages: DeliveredMessage[]): Promise<void> {
    const { processed, types } = this.options;
    const handleBatch = this.options.handleBatch!;
    const parsed: Array<{ message: DeliveredMessage; event: CloudEvent }> = [];
    for (const message of messages) {
      try {
        const event = parseEvent(message.value);
        if (!types || types.includes(event.type)) parsed.push({ message, event });
      } catch (error) {
        if (error instanceof InvalidEventError) await this.deadLetter(message, error);
        else throw error;
      }
    }
    const done = await processed.hasAny([...new Set(parsed.map((p) => p.event.id))]);
    const fresh: typeof parsed = [];
    for (const item of parsed) {
      if (done.has(item.event.id)) continue;
      done.add(item.event.id); // the same event twice in one batch
      fresh.push(item);
    }
    if (!fresh.length) return;
    // One span for the batch, linked to the trace of every event in it.
    await inSpan(
      `${fresh.length} events process`,
      { kind: 'consumer', links: fresh.map((f) => f.message.headers.traceparent ?? f.event.traceparent), attributes: { ...this.spanAttributes(fresh[0]!.message), 'messaging.batch.message_count': fresh.length } },
      () => this.handleBatchWithRetries(fresh, handleBatch),
    );
  }

  private async handleBatchWithRetries(fresh: Array<{ message: DeliveredMessage; event: CloudEvent }>, handleBatch: (events: CloudEvent[]) => Promise<void>): Promise<void> {
    const { logger, processed } = this.options;
    for (let attempt = 1; ; attempt += 1) {
      try {
        await handleBatch(fresh.map((f) => f.event));
        await processed.addAll(fresh.map((f) => f.event.id));
        return;
      } catch (error) {
        if (error instanceof PoisonEventError || attempt >= this.maxAttempts) {
          logger.warn({ err: error, events: fresh.length }, 'batch failed; handling its events one by one');
          // Outside this batch's span: each event's own handling continues its own trace.
          for (const { message } of fresh) await outsideTraces(() => this.onMessage(message));
          return;
        }
        logger.warn({ err: error, events: fresh.length, attempt }, 'batch handler failed; retrying');
        await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  private async deadLetter(message: DeliveredMessage, error: Error, event?: CloudEvent): Promise<void> {
    const { client, groupId, logger } = this.options;
    logger.error({ err: error, topic: message.topic, offset: message.offset, eventId: event?.id }, 'message parked on dead-letter topic');
    await client.send([
      {
        topic: deadLetterTopicFor(message.topic),
        key: message.key ?? '',
        value: message.value?.toString() ?? '',
        headers: {
          ...message.headers,
          'x-dlq-reason': `${error.name}: ${error.message}`.slice(0, 1000),
          'x-dlq-topic': message.topic,
          'x-dlq-partition': String(message.partition),
          'x-dlq-offset': message.offset,
          'x-dlq-group': groupId,
        },
      },
    ]);
  }
}
