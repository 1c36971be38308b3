import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { BSON, MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, testInfra, uniqueName } from '@crm/testing';
import { backup, restore, type Manifest } from '../backup.js';
import { deleteRealm, type KeycloakAdminLogin } from '../keycloak-dump.js';

// SYS-5 against the real servers: back up two databases and the live realm, restore them into
// empty ones (other database names, another realm) and compare everything.
const infra = await testInfra();
const root = repoRoot(fileURLToPath(new URL('.', import.meta.url)));
const passwordFile = join(root, '.local', 'keycloak-admin-password');
const login: KeycloakAdminLogin = {
  url: infra.keycloakUrl,
  user: process.env.KEYCLOAK_ADMIN_USER ?? 'kcadmin',
  password: process.env.KEYCLOAK_ADMIN_PASSWORD ?? (existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').trim() : 'admin'),
};
const DEMO_SECRET = 'crm-admin-demo-secret-change-in-production';
const client = await MongoClient.connect(infra.mongoUrl);
const databases = [uniqueName('bk_customers'), uniqueName('bk_sales')];
const restoredRealm = uniqueName('restored').toLowerCase();
const suffix = '_r';
const dir = join(mkdtempSync(join(tmpdir(), 'crm-backup-')), 'b1');

afterAll(async () => {
  await deleteRealm(login, restoredRealm);
  for (const name of databases) {
    await client.db(name).dropDatabase();
    await client.db(`${name}${suffix}`).dropDatabase();
  }
  await client.close();
});

const { ObjectId, Long, Binary } = BSON;

async function seed(): Promise<void> {
  const customers = client.db(databases[0]!).collection('customers');
  await customers.createIndex({ 'identity.hash': 1 }, { unique: true, sparse: true, name: 'identity_hash' });
  await customers.createIndex({ ownerId: 1, createdAt: -1 }, { name: 'owner_recent' });
  await customers.insertMany(
    Array.from({ length: 1234 }, (_, i) => ({
      _id: new ObjectId(),
      name: i % 2 ? `张伟 ${i}` : `Li Na ${i} 💼`,
      ownerId: `user-${i % 7}`,
      createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      identity: i % 3 === 0 ? { hash: `h${i}`, last4: String(1000 + i).slice(-4) } : undefined,
      balance: Long.fromString(`9007199254740${String(i).padStart(3, '0')}`),
      // No Decimal128: FerretDB v1 has none, and money here is integer minor units anyway.
      rate: 0.1,
      blob: new Binary(Buffer.from([0, 1, 2, i % 256])),
      tags: ['vip', { nested: [1, 2.5, null, true] }],
      pendingEvents: [],
    })),
  );
  await client.db(databases[1]!).collection('orders').insertOne({ _id: 'o-1' as never, total: { amountMinor: 129_900, currency: 'CNY' }, lines: [] });
  await client.db(databases[1]!).collection('empty_collection').insertOne({ _id: 'x' as never });
  await client.db(databases[1]!).collection('empty_collection').deleteMany({});
}

async function everything(db: string) {
  const out: Record<string, { docs: string; indexes: unknown }> = {};
  for (const { name } of await client.db(db).listCollections({}, { nameOnly: true }).toArray()) {
    const docs = await client.db(db).collection(name).find({}).sort({ _id: 1 }).toArray();
    const indexes = (await client.db(db).collection(name).indexes()).map(({ key, name: n, unique, sparse }) => ({ key, name: n, unique: unique ?? false, sparse: sparse ?? false }));
    out[name] = { docs: BSON.EJSON.stringify(docs, { relaxed: false }), indexes };
  }
  return out;
}

async function realmToken(realm: string, clientId: string, secret: string): Promise<string> {
  const response = await fetch(`${infra.keycloakUrl}/realms/${realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('backup and restore (real MongoDB-compatible server and Keycloak)', () => {
  let manifest: Manifest;

  it('backs up every collection, its indexes and the realm, with a manifest', async () => {
    await seed();
    manifest = await backup({ mongoUrl: infra.mongoUrl, databases, dir, keycloak: { login, realm: infra.realm } });
    expect(manifest.mongo[databases[0]!]!.customers!.documents).toBe(1234);
    expect(manifest.mongo[databases[1]!]).toMatchObject({ orders: { documents: 1 }, empty_collection: { documents: 0 } });
    expect(manifest.keycloak!.users).toBeGreaterThanOrEqual(11);
    const users = JSON.parse(readFileSync(join(dir, 'keycloak', 'users.json'), 'utf8'));
    expect(JSON.stringify(users)).not.toMatch(/crm-demo-2026|"credentials"/);
  });

  it('refuses to restore a damaged backup, writing nothing', async () => {
    const damaged = join(mkdtempSync(join(tmpdir(), 'crm-backup-')), 'copy');
    await promisify(execFile)('cp', ['-r', dir, damaged]);
    const file = join(damaged, 'mongo', databases[1]!, 'orders.ndjson');
    writeFileSync(file, readFileSync(file, 'utf8').replace('129900', '1'));
    await expect(restore({ mongoUrl: infra.mongoUrl, dir: damaged, databaseSuffix: suffix })).rejects.toThrow(/damaged/);
    expect(await client.db(`${databases[1]}${suffix}`).listCollections().toArray()).toEqual([]);
  });

  it('restores into empty databases and a new realm exactly as backed up', async () => {
    // One Keycloak serves every test here and its user ids are taken by the live realm, so this copy
    // gets new user ids; a restore into an empty Keycloak keeps them (the default).
    const todo = await restore({ mongoUrl: infra.mongoUrl, dir, databaseSuffix: suffix, keycloak: { login, realm: restoredRealm, clientSecrets: { 'crm-admin': DEMO_SECRET }, newUserIds: true } });
    for (const name of databases) expect(await everything(`${name}${suffix}`)).toEqual(await everything(name));
    expect(todo.some((t) => /new password/.test(t))).toBe(true);

    // Realm: settings, roles, groups, clients, every user with the same id, roles and groups.
    const dumped = JSON.parse(readFileSync(join(dir, 'keycloak', 'users.json'), 'utf8')) as { users: Array<Record<string, any>> };
    const token = await realmToken(restoredRealm, 'crm-admin', DEMO_SECRET);
    const get = async (path: string) => (await fetch(`${infra.keycloakUrl}/admin/realms/${restoredRealm}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<any>;
    const settings = await get('');
    expect(settings).toMatchObject({ accessTokenLifespan: 300, ssoSessionIdleTimeout: 1800, revokeRefreshToken: true, registrationAllowed: false, eventsEnabled: true, adminEventsEnabled: true });
    for (const user of dumped.users) {
      const [restoredUser] = (await get(`/users?username=${encodeURIComponent(user.username)}&exact=true&briefRepresentation=false`)) as Array<Record<string, any>>;
      expect(restoredUser, user.username).toMatchObject({ username: user.username, enabled: user.enabled, email: user.email });
      expect(restoredUser!.requiredActions).toContain('UPDATE_PASSWORD');
      const roles = ((await get(`/users/${restoredUser!.id}/role-mappings/realm`)) as Array<{ name: string }>).map((r) => r.name).sort();
      expect(roles, user.username).toEqual(user.realmRoles);
      const groups = ((await get(`/users/${restoredUser!.id}/groups`)) as Array<{ path: string }>).map((g) => g.path).sort();
      expect(groups, user.username).toEqual(user.groups);
    }
  });

  it('refuses to restore over data or over an existing realm, before writing anything', async () => {
    const untouched = `${restoredRealm}_2`;
    await expect(restore({ mongoUrl: infra.mongoUrl, dir, databaseSuffix: suffix, keycloak: { login, realm: untouched, newUserIds: true } })).rejects.toThrow(/not empty/);
    expect((await fetch(`${infra.keycloakUrl}/realms/${untouched}`)).status).toBe(404);
    await expect(restore({ mongoUrl: infra.mongoUrl, dir, databaseSuffix: '_other', keycloak: { login, realm: restoredRealm } })).rejects.toThrow(/exists/);
    expect(await client.db(`${databases[0]}_other`).listCollections().toArray()).toEqual([]);
  });

  it('runs as a command: pnpm backup --out DIR', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'crm-backup-')), 'cli');
    const { stdout } = await promisify(execFile)(process.execPath, [join(root, 'ops/dist/cli.js'), 'backup', '--out', out, '--databases', databases.join(','), '--no-keycloak'], {
      env: { ...process.env, MONGO_URL: infra.mongoUrl },
    });
    expect(stdout).toMatch(/2 databases, 1235 documents/);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).keycloak).toBeNull();
  });
});
