import { gql } from 'graphql-tag';
import { describe, expect, it } from 'vitest';
import { parseEnv, serviceEnvSchema } from '@crm/env';
import { subgraphTestEnv, testInfra } from '@crm/testing';
import { runSubgraph } from '../run.js';

const infra = await testInfra();

async function start(overrides: Record<string, string>) {
  const env = parseEnv(serviceEnvSchema, { ...subgraphTestEnv(infra, 'run-settings'), ...overrides });
  return runSubgraph({ name: 'run-settings', env, typeDefs: gql('type Query { ok: Int }'), setup: () => ({ services: {}, resolvers: { Query: { ok: () => 1 } } }) });
}

describe('runSubgraph data-safety settings (real servers)', () => {
  it('opens Mongo with majority and the journal, and creates topics with RF 1 / min ISR 1 / 3 partitions, by default', async () => {
    const running = await start({});
    try {
      expect(running.deps.connection.getClient().options.writeConcern).toMatchObject({ w: 'majority', journal: true });
      expect(running.deps.kafka.replication).toEqual({ replicationFactor: 1, minInsyncReplicas: 1 });
      expect(running.deps.kafka.numPartitions).toBe(3);
    } finally {
      await running.stop();
    }
  });

  it('passes the variables through', async () => {
    const running = await start({ MONGO_WRITE_CONCERN: '1', MONGO_JOURNAL: 'false', MONGO_WRITE_TIMEOUT_MS: '3000', KAFKA_PARTITIONS: '2' });
    try {
      expect(running.deps.connection.getClient().options.writeConcern).toMatchObject({ w: 1, journal: false, wtimeoutMS: 3000 });
      expect(running.deps.kafka.numPartitions).toBe(2);
      await running.deps.connection.db!.collection('probe').insertOne({ ok: true });
      expect(await running.deps.connection.db!.collection('probe').countDocuments()).toBe(1);
    } finally {
      await running.deps.connection.dropDatabase();
      await running.stop();
    }
  });
});
