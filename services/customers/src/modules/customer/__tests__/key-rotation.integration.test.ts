import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { gatewayHeaders, graphql, login, subgraphTestEnv, testInfra } from '@crm/testing';
import { startCustomers } from '../../../app.js';
import { keyIdOf } from '../customer.crypto.js';
import { customersEnvSchema } from '../../../env.js';

// Rotating CUSTOMER_PII_KEY on a running database (real MongoDB-compatible server, Kafka, Keycloak).
const infra = await testInfra();
const base: Record<string, string> = { ...subgraphTestEnv(infra, 'customers'), CUSTOMER_PII_HASH_KEY: randomBytes(32).toString('base64') };
const oldKey = randomBytes(32).toString('base64');
const newKey = randomBytes(32).toString('base64');
const [admin, rep] = await Promise.all(['admin', 'sales.rep'].map((u) => login(infra, u)));
const numbers = ['11010519491231002X', 'E12345678'];
let running = await startCustomers(parseEnv(customersEnvSchema, { ...base, CUSTOMER_PII_KEY: oldKey }));
const call = (query: string, variables: Record<string, unknown>, token: string) => graphql<Record<string, any>>(running.url, query, variables, gatewayHeaders(token, base.GATEWAY_SECRET!));
afterAll(async () => {
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const ciphertexts = async () =>
  (await running.deps.connection.collection('customers').find({ 'identity.ciphertext': { $exists: true } }).toArray()).map((d) => (d.identity as { ciphertext: string }).ciphertext);
const hashes = async () =>
  (await running.deps.connection.collection('customers').find({ 'identity.hash': { $exists: true } }).sort({ _id: 1 }).toArray()).map((d) => (d.identity as { hash: string }).hash);
const READ = 'query($id: ID!) { customer(id: $id) { identityDocument { number masked } } }';

describe('identity-number key rotation', () => {
  const ids: string[] = [];

  it('moves every identity number to the new key in batches, readable throughout, then the old key can go', async () => {
    for (const [i, number] of numbers.entries()) {
      const created = await call('mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }', { input: { name: `Rotating ${i}`, identityDocument: { type: i === 0 ? 'PRC_RESIDENT_ID' : 'PASSPORT', number } } }, admin!);
      expect(created.errors).toBeUndefined();
      ids.push(created.data!.createCustomer.id);
    }
    expect((await ciphertexts()).every((c) => c.startsWith(`v2:${keyIdOf(Buffer.from(oldKey, 'base64'))}:`))).toBe(true);
    const hashesBefore = await hashes();
    expect(hashesBefore).toHaveLength(2);

    // Deploy with the new key current and the old one as previous.
    await running.stop();
    running = await startCustomers(parseEnv(customersEnvSchema, { ...base, CUSTOMER_PII_KEY: newKey, CUSTOMER_PII_PREVIOUS_KEYS: oldKey }));
    expect((await call(READ, { id: ids[0] }, admin!)).data!.customer.identityDocument).toEqual({ number: numbers[0], masked: false });

    const REENCRYPT = 'mutation($n: Int) { reencryptIdentityDocuments(batchSize: $n) { resealed remaining } }';
    expect((await call(REENCRYPT, { n: 1 }, rep!)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(REENCRYPT, { n: 0 }, admin!)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await call(REENCRYPT, { n: 1 }, admin!)).data!.reencryptIdentityDocuments).toEqual({ resealed: 1, remaining: 1 });
    expect((await call(REENCRYPT, { n: 10 }, admin!)).data!.reencryptIdentityDocuments).toEqual({ resealed: 1, remaining: 0 });
    expect((await call(REENCRYPT, { n: 10 }, admin!)).data!.reencryptIdentityDocuments).toEqual({ resealed: 0, remaining: 0 });
    const stored = await ciphertexts();
    expect(stored.every((c) => c.startsWith(`v2:${keyIdOf(Buffer.from(newKey, 'base64'))}:`))).toBe(true);
    expect(stored.join()).not.toMatch(/11010519491231002X|E12345678/);

    // Drop the old key: everything still opens.
    await running.stop();
    running = await startCustomers(parseEnv(customersEnvSchema, { ...base, CUSTOMER_PII_KEY: newKey }));
    for (const [i, id] of ids.entries()) expect((await call(READ, { id }, admin!)).data!.customer.identityDocument.number).toBe(numbers[i]);
    // The blind index (exact lookups, duplicate detection) is untouched: it has its own key.
    expect(await hashes()).toEqual(hashesBefore);
  });
});
