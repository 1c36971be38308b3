import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, gatewayHeaders, readEnvFile, repoRoot, testInfra, uniqueName } from '../index.js';

describe('test helpers', () => {
  it('reads the env file written by infra/local/up.sh', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'env-')), 'infra.env');
    writeFileSync(file, '# comment\nMONGO_URL=mongodb://127.0.0.1:27017\nexport KAFKA_BROKERS="127.0.0.1:9092"\nbad line\n');
    expect(readEnvFile(file)).toEqual({ MONGO_URL: 'mongodb://127.0.0.1:27017', KAFKA_BROKERS: '127.0.0.1:9092' });
  });

  it('finds the servers from the environment first', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { MONGO_URL: 'mongodb://h:1', KAFKA_BROKERS: 'a:1, b:2', KEYCLOAK_URL: 'http://k:8080/', KEYCLOAK_REALM: 'r' });
    try {
      expect(await testInfra()).toEqual({ mongoUrl: 'mongodb://h:1', kafkaBrokers: ['a:1', 'b:2'], keycloakUrl: 'http://k:8080', realm: 'r' });
    } finally {
      process.env = saved;
    }
  });

  it('polls until a condition holds, and fails with the last error when it never does', async () => {
    let calls = 0;
    expect(await eventually(async () => (++calls >= 3 ? calls : undefined), 1000, 1)).toBe(3);
    await expect(
      eventually(async () => {
        throw new Error('still down');
      }, 30, 5),
    ).rejects.toThrow(/within 30 ms: Error: still down/);
  });

  it('makes unique names, finds the repo root and builds gateway headers', () => {
    expect(uniqueName('db')).not.toBe(uniqueName('db'));
    expect(uniqueName('db')).toMatch(/^db_[a-z0-9]+_[0-9a-f]{6}$/);
    expect(repoRoot()).toMatch(/\/?[^/]+$/);
    expect(gatewayHeaders('t', 's')).toEqual({ authorization: 'Bearer t', 'x-crm-gateway-secret': 's' });
    expect(gatewayHeaders(undefined, undefined)).toEqual({});
  });
});
