import { EventConsumer, MongoProcessedEvents, type CloudEvent, type KafkaClient } from '@crm/events';
import type { Logger } from '@crm/logger';
import type { Connection } from '@crm/mongo';

interface Registered {
  consumer: EventConsumer;
  groupId: string;
  topics: string[];
}

/**
 * Creates the analytics consumers (one consumer group per read model, `<prefix>.<name>`) and rebuilds
 * them: stop, forget processed ids, move the groups back to the start of their topics, drop the read
 * models, start again — the figures are then recomputed from the whole event history.
 */
export class ReadModelConsumers {
  private readonly registered: Registered[] = [];

  constructor(
    private readonly options: { client: KafkaClient; connection: Connection; logger: Logger; groupPrefix: string },
  ) {}

  /** `handleBatch`, when given, takes up to 50 events of one partition at once (see EventConsumer). */
  create(name: string, topicsOf: string[], types: string[], handle: (event: CloudEvent) => Promise<void>, handleBatch?: (events: CloudEvent[]) => Promise<void>): EventConsumer {
    const { client, connection, logger, groupPrefix } = this.options;
    const groupId = `${groupPrefix}.${name}`;
    const topics = [...new Set(topicsOf.map((entity) => client.topicFor(`${entity}.any`)))];
    const consumer = new EventConsumer({ client, groupId, topics, types, processed: new MongoProcessedEvents(connection, groupId), logger: logger.child({ consumer: groupId }), handle, ...(handleBatch ? { handleBatch, maxBatch: 50 } : {}) });
    this.registered.push({ consumer, groupId, topics });
    return consumer;
  }

  get groups(): string[] {
    return this.registered.map((r) => r.groupId);
  }

  /** Rebuilds every read model from the start of the topics; `collections` are the read models to drop. */
  async rebuild(collections: string[]): Promise<{ groups: string[]; dropped: string[] }> {
    const { client, connection, logger } = this.options;
    for (const { consumer } of this.registered) await consumer.stop();
    try {
      for (const { groupId, topics } of this.registered) await client.resetGroupToEarliest(groupId, topics);
      await connection.collection('processed_events').deleteMany({ groupId: { $in: this.groups } });
      const existing = new Set((await connection.db!.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
      const dropped = collections.filter((name) => existing.has(name));
      for (const name of dropped) await connection.collection(name).deleteMany({});
      logger.warn({ groups: this.groups, dropped }, 'read models reset; replaying from the start of the topics');
      return { groups: this.groups, dropped };
    } finally {
      for (const { consumer } of this.registered) await consumer.start();
    }
  }
}

export type ReadModelConsumerFactory = Pick<ReadModelConsumers, 'create'>;
