/**
 * The Keycloak realm to files and back through Keycloak's admin REST API, as a master-realm admin:
 * realm settings, roles, groups and clients (partial export), every user with their id, roles and
 * groups, and the service accounts' roles. Keycloak's admin API never reveals password hashes, client
 * secrets or realm keys: a restored user sets a new password at next sign-in (UPDATE_PASSWORD),
 * client secrets come from the operator (`--client-secret`), and the realm gets new keys. Keycloak's
 * own database backup keeps credentials too (see infra/README.md).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KeycloakAdminLogin {
  url: string;
  /** A master-realm administrator (the bootstrap admin). */
  user: string;
  password: string;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface DumpedUser extends Json {
  id: string;
  username: string;
  realmRoles: string[];
  clientRoles: Record<string, string[]>;
  groups: string[];
}

interface ServiceAccountRoles {
  clientId: string;
  realmRoles: string[];
  clientRoles: Record<string, string[]>;
}

const MASKED = '**********';

class AdminApi {
  private token = '';
  constructor(private readonly login: KeycloakAdminLogin) {}

  async signIn(): Promise<void> {
    const response = await fetch(`${this.login.url}/realms/master/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: this.login.user, password: this.login.password }),
    });
    if (!response.ok) throw new Error(`Keycloak admin sign-in failed: ${response.status} ${await response.text()}`);
    this.token = ((await response.json()) as { access_token: string }).access_token;
  }

  async call<T = Json>(method: string, path: string, body?: unknown, okStatuses = [200, 201, 204]): Promise<T> {
    const response = await fetch(`${this.login.url}/admin/realms${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!okStatuses.includes(response.status)) throw new Error(`Keycloak ${method} ${path}: ${response.status} ${(await response.text()).slice(0, 300)}`);
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

async function rolesOf(api: AdminApi, realm: string, userId: string) {
  const mappings = await api.call('GET', `/${realm}/users/${userId}/role-mappings`);
  const realmRoles = ((mappings.realmMappings ?? []) as Json[]).map((r) => r.name as string).sort();
  const clientRoles: Record<string, string[]> = {};
  for (const [clientId, value] of Object.entries((mappings.clientMappings ?? {}) as Record<string, Json>)) {
    clientRoles[clientId] = ((value.mappings ?? []) as Json[]).map((r) => r.name as string).sort();
  }
  return { realmRoles, clientRoles };
}

export async function dumpRealm(login: KeycloakAdminLogin, realm: string, dir: string): Promise<{ users: number; sha256: string }> {
  const api = new AdminApi(login);
  await api.signIn();
  const realmRep = await api.call('POST', `/${realm}/partial-export?exportClients=true&exportGroupsAndRoles=true`);
  const users: DumpedUser[] = [];
  for (let first = 0; ; first += 100) {
    const page = await api.call<Json[]>('GET', `/${realm}/users?briefRepresentation=false&first=${first}&max=100`);
    for (const user of page) {
      const { access: _access, federatedIdentities: _federated, ...rest } = user;
      const groups = (await api.call<Json[]>('GET', `/${realm}/users/${user.id}/groups`)).map((g) => g.path as string).sort();
      users.push({ ...rest, id: user.id, username: user.username, ...(await rolesOf(api, realm, user.id)), groups } as DumpedUser);
    }
    if (page.length < 100) break;
  }
  const serviceAccounts: ServiceAccountRoles[] = [];
  for (const client of (realmRep.clients ?? []) as Json[]) {
    if (!client.serviceAccountsEnabled) continue;
    const account = await api.call('GET', `/${realm}/clients/${client.id}/service-account-user`);
    serviceAccounts.push({ clientId: client.clientId, ...(await rolesOf(api, realm, account.id)) });
  }
  mkdirSync(join(dir, 'keycloak'), { recursive: true });
  const realmText = JSON.stringify(realmRep, null, 2);
  const usersText = JSON.stringify({ users, serviceAccounts }, null, 2);
  writeFileSync(join(dir, 'keycloak', 'realm.json'), realmText);
  writeFileSync(join(dir, 'keycloak', 'users.json'), usersText);
  return { users: users.length, sha256: createHash('sha256').update(realmText).update(usersText).digest('hex') };
}

/** Ids of roles, groups, clients and components belong to the old database; Keycloak assigns new ones. */
function withoutIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutIds);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Json).filter(([key]) => key !== 'id' && key !== 'containerId').map(([key, child]) => [key, withoutIds(child)]));
  }
  return value;
}

export interface RestoreRealmOptions {
  /** Restore under another realm name (default: the backed-up name). */
  realm?: string;
  /** Secrets of confidential clients, by client id (the API never exports them). */
  clientSecrets?: Record<string, string>;
  /**
   * Give users new ids: only for a copy beside the original in the same Keycloak, whose user ids are
   * taken. The services' records name owners by user id, so a real restore keeps them (the default).
   */
  newUserIds?: boolean;
}

function readDump(dir: string) {
  const realmText = readFileSync(join(dir, 'keycloak', 'realm.json'), 'utf8');
  const usersText = readFileSync(join(dir, 'keycloak', 'users.json'), 'utf8');
  return { realmText, usersText, sha256: createHash('sha256').update(realmText).update(usersText).digest('hex') };
}

/** Checks the realm files against the manifest and that the target realm does not exist yet. */
export async function checkRealmRestore(login: KeycloakAdminLogin, dir: string, expectedSha256: string, options: RestoreRealmOptions = {}): Promise<void> {
  const { realmText, sha256 } = readDump(dir);
  if (sha256 !== expectedSha256) throw new Error('The Keycloak files of the backup are damaged (sha256 differs)');
  const target = options.realm ?? ((JSON.parse(realmText) as Json).realm as string);
  const existing = await fetch(`${login.url}/realms/${encodeURIComponent(target)}`);
  if (existing.status !== 404) throw new Error(`Realm ${target} exists: restore into an empty installation (or another --realm)`);
}

/** Creates the realm from a dump checked by {@link checkRealmRestore}. Returns what the operator must still do. */
export async function restoreRealm(login: KeycloakAdminLogin, dir: string, options: RestoreRealmOptions = {}): Promise<string[]> {
  const { realmText, usersText } = readDump(dir);
  const realmRep = JSON.parse(realmText) as Json;
  const { users, serviceAccounts } = JSON.parse(usersText) as { users: DumpedUser[]; serviceAccounts: ServiceAccountRoles[] };
  const target = options.realm ?? (realmRep.realm as string);
  const api = new AdminApi(login);
  await api.signIn();
  const todo: string[] = [];
  const rep = withoutIds(realmRep) as Json;
  rep.realm = target;
  // Key providers come back without their private keys: let Keycloak generate fresh keys.
  if (rep.components) delete rep.components['org.keycloak.keys.KeyProvider'];
  for (const client of (rep.clients ?? []) as Json[]) {
    if (client.secret !== MASKED) continue;
    const secret = options.clientSecrets?.[client.clientId];
    if (secret) client.secret = secret;
    else {
      delete client.secret;
      todo.push(`client ${client.clientId}: Keycloak generated a new secret; set the services' copy, or restore with --client-secret ${client.clientId}=<secret>`);
    }
  }
  if (rep.smtpServer?.password === MASKED) {
    delete rep.smtpServer.password;
    todo.push('SMTP password: set it again in the realm settings');
  }
  await api.call('POST', '', rep, [201]);

  const restoredUsers = users.map(({ realmRoles, clientRoles, groups, id, ...user }) => ({
    ...(options.newUserIds ? {} : { id }),
    ...user,
    realmRoles,
    clientRoles,
    groups,
    requiredActions: [...new Set([...((user.requiredActions as string[] | undefined) ?? []), 'UPDATE_PASSWORD'])],
  }));
  if (restoredUsers.length > 0) await api.call('POST', `/${target}/partialImport`, { ifResourceExists: 'FAIL', users: restoredUsers });
  if (users.length > 0) todo.push(`${users.length} users: each sets a new password at next sign-in (the admin API never exports password hashes)`);

  for (const account of serviceAccounts) {
    const [client] = await api.call<Json[]>('GET', `/${target}/clients?clientId=${encodeURIComponent(account.clientId)}`);
    const user = await api.call('GET', `/${target}/clients/${client!.id}/service-account-user`);
    if (account.realmRoles.length > 0) {
      const roles = await Promise.all(account.realmRoles.map((name) => api.call('GET', `/${target}/roles/${encodeURIComponent(name)}`)));
      await api.call('POST', `/${target}/users/${user.id}/role-mappings/realm`, roles);
    }
    for (const [clientId, names] of Object.entries(account.clientRoles)) {
      const [owner] = await api.call<Json[]>('GET', `/${target}/clients?clientId=${encodeURIComponent(clientId)}`);
      const roles = await Promise.all(names.map((name) => api.call('GET', `/${target}/clients/${owner!.id}/roles/${encodeURIComponent(name)}`)));
      await api.call('POST', `/${target}/users/${user.id}/role-mappings/clients/${owner!.id}`, roles);
    }
  }
  return todo;
}

/** Deletes a realm (tests, and undoing a restore into the wrong name). */
export async function deleteRealm(login: KeycloakAdminLogin, realm: string): Promise<void> {
  const api = new AdminApi(login);
  await api.signIn();
  await api.call('DELETE', `/${realm}`, undefined, [204, 404]);
}
