import { createSign, generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { graphql, login, testInfra } from '@crm/testing';
import { startGateway } from '../app.js';
import { gatewayEnvSchema } from '../env.js';
import { testGatewayEnv } from './helpers.js';

// Auth is decided at the gateway before any subgraph is called, so none needs to run here;
// forwarding to real subgraphs is covered by the end-to-end test (e2e/).
const infra = await testInfra();
const env = testGatewayEnv(infra);
const gateway = await startGateway(env);
afterAll(() => gateway.stop());

const b64 = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
function forged(claims: Record<string, unknown>, alg = 'RS256'): string {
  const now = Math.floor(Date.now() / 1000);
  const body = { iss: `${infra.keycloakUrl}/realms/${infra.realm}`, aud: 'crm-api', typ: 'Bearer', sub: 'u', preferred_username: 'x', exp: now + 300, ...claims };
  const unsigned = `${b64({ alg, typ: 'JWT' })}.${b64(body)}`;
  return alg === 'none' ? `${unsigned}.` : `${unsigned}.${b64(createSign('RSA-SHA256').update(unsigned).sign(privateKey))}`;
}

const ask = (headers: Record<string, string>) => graphql(gateway.url, '{ customers { totalCount } }', {}, headers);

describe('gateway authentication (real Keycloak)', () => {
  it.each([
    ['no token', {}],
    ['a non-bearer scheme', { authorization: 'Basic c2FsZXMucmVwOmNybS1kZW1vLTIwMjY=' }],
    ['garbage', { authorization: 'Bearer not.a.token' }],
    ['an expired token', { authorization: `Bearer ${forged({ exp: Math.floor(Date.now() / 1000) - 60 })}` }],
    ['alg none', { authorization: `Bearer ${forged({}, 'none')}` }],
    ['a token signed by a foreign key', { authorization: `Bearer ${forged({})}` }],
  ])('rejects %s with 401 UNAUTHENTICATED', async (_name, headers) => {
    const result = await ask(headers as Record<string, string>);
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(result.data).toBeUndefined();
  });

  it('rejects a real token with the wrong issuer (Keycloak reached by another host name)', async () => {
    const other = infra.keycloakUrl.includes('127.0.0.1') ? infra.keycloakUrl.replace('127.0.0.1', 'localhost') : infra.keycloakUrl.replace('localhost', '127.0.0.1');
    const token = await login({ ...infra, keycloakUrl: other }, 'sales.rep');
    const result = await ask({ authorization: `Bearer ${token}` });
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.message).toMatch(/wrong ISS/);
  });

  it('lets a valid token through to query planning (subgraph down here: a non-auth error)', async () => {
    const token = await login(infra, 'sales.rep');
    const result = await ask({ authorization: `Bearer ${token}` });
    expect(result.status).not.toBe(401);
    expect(result.errors?.[0]?.extensions?.code).not.toBe('UNAUTHENTICATED');
  });

  it('answers health without a token, and is not ready while subgraphs are down', async () => {
    const base = gateway.url.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, checks: { accepting: true, customers: false } });
  });

  it('reports every missing setting at once', () => {
    expect(() => parseEnv(gatewayEnvSchema, { KEYCLOAK_URL: 'nope' })).toThrow(/KEYCLOAK_URL[\s\S]*SUBGRAPH_CUSTOMERS_SECRET[\s\S]*SUBGRAPH_ANALYTICS_SECRET/);
  });
});
