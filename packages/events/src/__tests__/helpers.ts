import { createLogger } from '@crm/logger';
import { testInfra, uniqueName } from '@crm/testing';
import { KafkaClient, type DeliveredMessage } from '../kafka.js';

export const infra = await testInfra();
export const logger = createLogger({ service: 'events-test', level: process.env.TEST_LOG_LEVEL === 'debug' ? 'debug' : 'silent' });

export function kafkaClient(): KafkaClient {
  return new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('events-test'), logger });
}

/** Collects every message of `topics` (read from the beginning by a fresh group). */
export async function collect(client: KafkaClient, topics: string[]) {
  const messages: DeliveredMessage[] = [];
  await client.ensureTopics(topics);
  const running = await client.consume({
    groupId: uniqueName('collector'),
    topics,
    onMessage: async (message) => {
      messages.push(message);
    },
    onReadyChange: () => undefined,
  });
  return { messages, stop: running.stop };
}
