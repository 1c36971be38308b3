import { describe, expect, it } from 'vitest';
import { EnvValidationError, kafkaTopicEnvShape, parseEnv, serviceEnvSchema, z } from '../index.js';

const valid = {
  PORT: '4001',
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  MONGO_DB: 'crm_customers',
  KAFKA_BROKERS: '127.0.0.1:9092',
  KEYCLOAK_URL: 'http://127.0.0.1:8080',
  GATEWAY_SECRET: 'x'.repeat(32),
};

function problems(source: Record<string, string | undefined>, schema: z.ZodType = serviceEnvSchema): string[] {
  try {
    parseEnv(schema, source);
  } catch (error) {
    if (error instanceof EnvValidationError) return error.problems;
    throw error;
  }
  return [];
}

describe('MongoDB write concern variables', () => {
  it('default to majority with journal and no write timeout', () => {
    const env = parseEnv(serviceEnvSchema, valid);
    expect(env).toMatchObject({ MONGO_WRITE_CONCERN: 'majority', MONGO_JOURNAL: true });
    expect(env.MONGO_WRITE_TIMEOUT_MS).toBeUndefined();
  });

  it('take a member count, journal off and a timeout', () => {
    const env = parseEnv(serviceEnvSchema, { ...valid, MONGO_WRITE_CONCERN: '2', MONGO_JOURNAL: 'false', MONGO_WRITE_TIMEOUT_MS: '5000' });
    expect(env).toMatchObject({ MONGO_WRITE_CONCERN: 2, MONGO_JOURNAL: false, MONGO_WRITE_TIMEOUT_MS: 5000 });
  });

  it('refuse 0 (unacknowledged), other words, a non-boolean journal and a zero timeout, all at once', () => {
    const found = problems({ ...valid, MONGO_WRITE_CONCERN: '0', MONGO_JOURNAL: 'maybe', MONGO_WRITE_TIMEOUT_MS: '0' });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['MONGO_JOURNAL', 'MONGO_WRITE_CONCERN', 'MONGO_WRITE_TIMEOUT_MS']);
    expect(problems({ ...valid, MONGO_WRITE_CONCERN: 'all' })).toEqual(['MONGO_WRITE_CONCERN: "majority" or a number of members from 1 to 50']);
    expect(problems({ ...valid, MONGO_WRITE_CONCERN: '1.5' })).toHaveLength(1);
  });
});

describe('Kafka topic variables', () => {
  it('default to one replica, min ISR 1 and 3 partitions (one local broker)', () => {
    expect(parseEnv(serviceEnvSchema, valid)).toMatchObject({ KAFKA_REPLICATION_FACTOR: 1, KAFKA_MIN_INSYNC_REPLICAS: 1, KAFKA_PARTITIONS: 3 });
    expect(parseEnv(serviceEnvSchema, { ...valid, KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2', KAFKA_PARTITIONS: '6' })).toMatchObject({
      KAFKA_REPLICATION_FACTOR: 3,
      KAFKA_MIN_INSYNC_REPLICAS: 2,
      KAFKA_PARTITIONS: 6,
    });
  });

  it('refuse a min ISR above the replication factor, together with every other problem', () => {
    const found = problems({ ...valid, KAFKA_REPLICATION_FACTOR: '2', KAFKA_MIN_INSYNC_REPLICAS: '3', PORT: 'abc', MONGO_JOURNAL: 'maybe' });
    expect(found).toContain('KAFKA_MIN_INSYNC_REPLICAS: 3 is more than KAFKA_REPLICATION_FACTOR (2)');
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['KAFKA_MIN_INSYNC_REPLICAS', 'MONGO_JOURNAL', 'PORT']);
    // The default replication factor (1) counts too.
    expect(problems({ ...valid, KAFKA_MIN_INSYNC_REPLICAS: '2' })).toEqual(['KAFKA_MIN_INSYNC_REPLICAS: 2 is more than KAFKA_REPLICATION_FACTOR (1)']);
  });

  it('report each bad number once, without a comparison of values that did not parse', () => {
    const found = problems({ ...valid, KAFKA_REPLICATION_FACTOR: '0', KAFKA_MIN_INSYNC_REPLICAS: 'two', KAFKA_PARTITIONS: '0' });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual(['KAFKA_MIN_INSYNC_REPLICAS', 'KAFKA_PARTITIONS', 'KAFKA_REPLICATION_FACTOR']);
  });

  it('keep the rule in schemas that extend the service schema (overriding keys) or reuse the shape', () => {
    const extended = serviceEnvSchema.extend({ PORT: z.coerce.number().default(4010), EXTRA: z.string().default('x') });
    expect(problems({ ...valid, KAFKA_MIN_INSYNC_REPLICAS: '2' }, extended)).toEqual(['KAFKA_MIN_INSYNC_REPLICAS: 2 is more than KAFKA_REPLICATION_FACTOR (1)']);
    const gatewayLike = z.object({ KAFKA_BROKERS: z.string(), ...kafkaTopicEnvShape });
    expect(problems({ KAFKA_BROKERS: 'b:9092', KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '4' }, gatewayLike)).toEqual([
      'KAFKA_MIN_INSYNC_REPLICAS: 4 is more than KAFKA_REPLICATION_FACTOR (3)',
    ]);
    expect(parseEnv(gatewayLike, { KAFKA_BROKERS: 'b:9092', KAFKA_REPLICATION_FACTOR: '3', KAFKA_MIN_INSYNC_REPLICAS: '2' })).toMatchObject({ KAFKA_MIN_INSYNC_REPLICAS: 2 });
  });
});
