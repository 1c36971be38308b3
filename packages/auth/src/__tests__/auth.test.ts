import { createSign, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { login, testInfra } from '@crm/testing';
import { authenticate, authenticationError, bearerToken, requireRole, TokenVerifier, type AuthUser } from '../index.js';

const infra = await testInfra();
const issuer = `${infra.keycloakUrl}/realms/${infra.realm}`;
const verifier = new TokenVerifier({ keycloakUrl: infra.keycloakUrl, realm: infra.realm, audience: 'crm-api' });

const b64 = (value: object | Buffer) => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value))).toString('base64url');

// A key pair of our own, to forge tokens that differ from a real one in exactly one claim.
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const pinnedVerifier = new TokenVerifier({ keycloakUrl: infra.keycloakUrl, realm: infra.realm, audience: 'crm-api', realmPublicKey: spki });
function sign(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const body = { iss: issuer, aud: 'crm-api', typ: 'Bearer', sub: 'u1', preferred_username: 'forged', iat: now, exp: now + 300, ...claims };
  const unsigned = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'test' })}.${b64(body)}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(privateKey);
  return `${unsigned}.${b64(signature)}`;
}

describe('TokenVerifier against the real Keycloak', () => {
  it('accepts a real access token and reads user, roles and groups', async () => {
    const user = await verifier.verify(await login(infra, 'sales.rep'));
    expect(user).toMatchObject({ username: 'sales.rep', name: 'Wei Chen', roles: ['sales-rep'] });
    // Department and team (subgroup) memberships, by name.
    expect([...user.groups].sort()).toEqual(['sales', 'sales-east']);
    expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('checks the issuer against the public address and fetches keys from the internal one (Keycloak behind an ingress)', async () => {
    // The same Keycloak by two names: tokens issued at one ("public") and keys read at the other ("in-cluster").
    const local = new URL(infra.keycloakUrl);
    const otherHost = local.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
    const publicUrl = infra.keycloakUrl.replace(local.hostname, otherHost);
    const token = await login({ ...infra, keycloakUrl: publicUrl }, 'sales.rep');
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).iss).toBe(`${publicUrl}/realms/${infra.realm}`);

    const split = new TokenVerifier({ keycloakUrl: infra.keycloakUrl, issuerUrl: publicUrl, realm: infra.realm, audience: 'crm-api' });
    expect(await split.verify(token)).toMatchObject({ username: 'sales.rep' });
    // Without the public address the issuer does not match.
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/ISS/) });
    // Keys come from keycloakUrl: when that is unreachable, nothing verifies.
    const unreachable = new TokenVerifier({ keycloakUrl: 'http://127.0.0.1:1', issuerUrl: publicUrl, realm: infra.realm, audience: 'crm-api' });
    await expect(unreachable.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('rejects a real token whose payload was altered (bad signature)', async () => {
    const [header, payload, signature] = (await login(infra, 'sales.rep')).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = `${header}.${b64({ ...claims, realm_access: { roles: ['admin'] } })}.${signature}`;
    await expect(verifier.verify(tampered)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/signature/) });
  });

  it('rejects an unsigned token (alg: none)', async () => {
    const [, payload] = (await login(infra, 'sales.rep')).split('.');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    await expect(verifier.verify(unsigned)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('rejects a real, correctly signed token with another issuer', async () => {
    // Keycloak (dev mode) names the issuer after the host it was reached by: same realm key, other `iss`.
    const otherHost = infra.keycloakUrl.includes('127.0.0.1') ? infra.keycloakUrl.replace('127.0.0.1', 'localhost') : infra.keycloakUrl.replace('localhost', '127.0.0.1');
    const token = await login({ ...infra, keycloakUrl: otherHost }, 'sales.rep');
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/wrong ISS/) });
    await expect(pinnedVerifier.verify(sign({ iss: `${infra.keycloakUrl}/realms/master` }))).rejects.toMatchObject({ message: expect.stringMatching(/wrong ISS/) });
  });

  it('rejects garbage and a token signed by a key the realm does not have', async () => {
    await expect(verifier.verify('not-a-jwt')).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(verifier.verify(sign({}))).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});

describe('TokenVerifier claim checks (realm key pinned to a test key)', () => {
  it('accepts a well-formed token', async () => {
    await expect(pinnedVerifier.verify(sign({ groups: ['sales'] }))).resolves.toMatchObject({ username: 'forged', groups: ['sales'], roles: [] });
  });

  it.each([
    ['expired', { exp: Math.floor(Date.now() / 1000) - 10 }, /expired/],
    ['wrong audience', { aud: 'some-other-api' }, /wrong audience/],
    ['wrong type', { typ: 'Refresh' }, /wrong type/],
    ['no expiry', { exp: undefined }, /no expiry/],
    ['not yet valid', { nbf: Math.floor(Date.now() / 1000) + 3600 }, /not yet valid/],
    ['no subject', { sub: undefined }, /no subject/],
  ])('rejects a token with %s', async (_name, claims, message) => {
    await expect(pinnedVerifier.verify(sign(claims))).rejects.toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(message) });
  });
});

describe('request helpers', () => {
  it('reads bearer tokens and refuses other schemes', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('answers UNAUTHENTICATED when no token is sent', async () => {
    await expect(authenticate(verifier, undefined)).rejects.toMatchObject({ code: 'UNAUTHENTICATED', reason: 'MISSING_TOKEN' });
  });

  it('lets admins and listed roles through and forbids the rest', () => {
    const user = (roles: string[]): AuthUser => ({ id: 'u', username: 'u', roles, groups: [] });
    expect(() => requireRole(user(['sales-rep']), ['sales-rep', 'sales-manager'])).not.toThrow();
    expect(() => requireRole(user(['admin']), ['marketer'])).not.toThrow();
    expect(() => requireRole(user(['customer']), ['marketer'])).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });
});

describe('authenticationError', () => {
  it('is a 401 UNAUTHENTICATED GraphQL error carrying the reason', async () => {
    const failure = await authenticate(verifier, undefined).catch((error: unknown) => error);
    expect(authenticationError(failure).extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'MISSING_TOKEN', http: { status: 401 } });
    expect(authenticationError(new Error('boom')).extensions).toEqual({ code: 'UNAUTHENTICATED', http: { status: 401 } });
  });
});
