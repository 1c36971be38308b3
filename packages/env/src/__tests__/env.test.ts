import { describe, expect, it } from 'vitest';
import { EnvValidationError, parseEnv, serviceEnvSchema } from '../index.js';

const valid = {
  PORT: '4001',
  MONGO_URL: 'mongodb://127.0.0.1:27017',
  MONGO_DB: 'crm_customers',
  KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
  KEYCLOAK_URL: 'http://127.0.0.1:8080',
  GATEWAY_SECRET: 'x'.repeat(32),
};

describe('parseEnv', () => {
  it('parses, coerces and applies defaults', () => {
    const env = parseEnv(serviceEnvSchema, valid);
    expect(env.PORT).toBe(4001);
    expect(env.KAFKA_BROKERS).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(env.KEYCLOAK_REALM).toBe('crm');
    expect(env.LOG_LEVEL).toBe('info');
  });

  it('reports every problem at once', () => {
    const attempt = () =>
      parseEnv(serviceEnvSchema, { ...valid, PORT: 'abc', MONGO_URL: 'http://nope', GATEWAY_SECRET: 'short', MONGO_DB: undefined });
    expect(attempt).toThrow(EnvValidationError);
    try {
      attempt();
    } catch (error) {
      const names = (error as EnvValidationError).problems.map((p) => p.split(':')[0]);
      expect(names.sort()).toEqual(['GATEWAY_SECRET', 'MONGO_DB', 'MONGO_URL', 'PORT']);
    }
  });
});
