import { afterAll, describe, expect, it, vi } from 'vitest';
import { parseEnv } from '@crm/env';
import { adminServiceToken, DEMO_ADMIN_CLIENT_SECRET, DEMO_PASSWORD, eventually, gatewayHeaders, graphql, login, smtpCatcher, subgraphTestEnv, testInfra, uniqueName, userSetsPassword, watchTopic } from '@crm/testing';
import { startAdmin } from '../../../app.js';
import { adminEnvSchema } from '../../../env.js';

// Against the real Keycloak: accounts are created, changed and disabled through its admin API by the
// crm-admin service account, and the effects are checked by signing in as the user.
const infra = await testInfra();
const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'admin'), KEYCLOAK_ADMIN_CLIENT_SECRET: DEMO_ADMIN_CLIENT_SECRET };
const running = await startAdmin(parseEnv(adminEnvSchema, rawEnv));
const [admin, rep] = await Promise.all(['admin', 'sales.rep'].map((u) => login(infra, u)));
const adminId = JSON.parse(Buffer.from(admin!.split('.')[1]!, 'base64url').toString()).sub as string;
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = admin!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const events = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.user-account`);

// The realm sends its emails to 127.0.0.1:2525 (infra/keycloak/crm-realm.json): a real SMTP server here.
const smtp = await smtpCatcher(2525);
const mails = smtp.received;

const created: string[] = [];
afterAll(async () => {
  const token = await adminServiceToken(infra);
  for (const id of created) await fetch(`${infra.keycloakUrl}/admin/realms/${infra.realm}/users/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
  await events.stop();
  await smtp.close();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

/** One password grant, no retries: the status and Keycloak's error. */
async function signIn(username: string, password: string): Promise<{ ok: boolean; error?: string; refresh?: string }> {
  const response = await fetch(`${infra.keycloakUrl}/realms/${infra.realm}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'crm-cli', username, password, scope: 'openid' }),
  });
  const body = (await response.json()) as { error_description?: string; refresh_token?: string };
  return { ok: response.ok, ...(body.error_description ? { error: body.error_description } : {}), ...(body.refresh_token ? { refresh: body.refresh_token } : {}) };
}

const ACCOUNT = 'id username email firstName lastName enabled roles groups requiredActions totpConfigured createdAt';
const CREATE = `mutation($input: CreateUserAccountInput!) { createUserAccount(input: $input) { ${ACCOUNT} } }`;

async function newAccount(overrides: Record<string, unknown> = {}) {
  const username = uniqueName('new.rep').toLowerCase().replace(/_/g, '.');
  const result = await call(CREATE, { input: { username, email: `${username}@crm.example`, firstName: 'Wei', lastName: 'Zhang', roles: ['SALES_REP'], groups: ['sales', 'sales-east'], ...overrides } });
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  created.push(result.data!.createUserAccount.id);
  return result.data!.createUserAccount as Record<string, any>;
}

describe('user accounts through Keycloak (real Keycloak, Kafka and Mongo)', () => {
  it('lets only admins administer accounts', async () => {
    for (const query of ['{ userAccounts { edges { node { id } } } }', '{ departments { name } }', '{ identityEvents { type } }']) {
      expect((await call(query, {}, rep)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const attempt = await call(CREATE, { input: { username: 'sneaky', email: 'sneaky@crm.example', firstName: 'S', lastName: 'N', roles: ['ADMIN'] } }, rep);
    expect(attempt.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call('{ userAccounts(search: "sneaky") { edges { node { id } } } }')).data!.userAccounts.edges).toEqual([]);
  });

  it('creates an account with roles and groups that must set a password first; the event carries ids and roles only', async () => {
    const writes = vi.spyOn(running.deps.relay, 'writing');
    const account = await newAccount({ requireTotp: true });
    // The event is appended in step with the relay's removals (FerretDB v1 would otherwise lose one of them).
    expect(writes.mock.calls.map(([model, id]) => [model.collection.collectionName, id])).toContainEqual(['user_accounts', account.id]);
    writes.mockRestore();
    expect(account).toMatchObject({ enabled: true, roles: ['SALES_REP'], groups: ['sales', 'sales-east'], firstName: 'Wei', totpConfigured: false });
    expect(account.requiredActions.sort()).toEqual(['CONFIGURE_TOTP', 'UPDATE_PASSWORD']);
    const event = await events.find((e) => e.subject === account.id && e.type === 'user-account.created', 20_000);
    expect(event.event.data).toEqual({ userId: account.id, roles: ['sales-rep'], groups: ['sales', 'sales-east'], by: adminId });
    expect(JSON.stringify(event.event)).not.toContain(account.email);

    // No password exists yet: nobody can sign in as the new user.
    expect((await signIn(account.username, DEMO_PASSWORD)).ok).toBe(false);
    const listed = await call(`query($s: String) { userAccounts(search: $s) { edges { node { id username } } pageInfo { hasNextPage } } }`, { s: account.username });
    expect(listed.data!.userAccounts.edges.map((e: any) => e.node.id)).toEqual([account.id]);
    expect((await call(`query($id: ID!) { userAccount(id: $id) { username } }`, { id: account.id })).data!.userAccount.username).toBe(account.username);
  });

  it('refuses bad input with every field named, unknown groups, and a taken username', async () => {
    const bad = await call(CREATE, { input: { username: 'A b', email: 'not-an-email', roles: [], firstName: '<script>', lastName: ' ' } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((bad.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual(['email', 'firstName', 'lastName', 'roles', 'username']);
    const unknownGroup = await call(CREATE, { input: { username: uniqueName('x').toLowerCase(), email: 'x@crm.example', firstName: 'X', lastName: 'Y', roles: ['ANALYST'], groups: ['no-such-team'] } });
    expect(unknownGroup.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'groups' }] });
    const taken = await call(CREATE, { input: { username: 'sales.rep', email: 'other@crm.example', firstName: 'O', lastName: 'T', roles: ['SALES_REP'] } });
    expect(taken.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await call(`mutation { disableUserAccount(id: "../../users") { id } }`)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('changes roles and groups, and the new roles are in the user\'s next token', async () => {
    const account = await newAccount();
    const roles = await call(`mutation($id: ID!) { setUserRoles(id: $id, roles: [SALES_MANAGER, ANALYST]) { roles } }`, { id: account.id });
    expect(roles.data!.setUserRoles.roles).toEqual(['ANALYST', 'SALES_MANAGER']);
    const groups = await call(`mutation($id: ID!) { setUserGroups(id: $id, groups: ["service"]) { groups } }`, { id: account.id });
    expect(groups.data!.setUserGroups.groups).toEqual(['service']);
    await events.find((e) => e.subject === account.id && e.type === 'user-account.roles-changed' && e.data.roles.join() === 'analyst,sales-manager', 20_000);
    await events.find((e) => e.subject === account.id && e.type === 'user-account.groups-changed', 20_000);

    await userSetsPassword(infra, account.id, 'Fresh-Passw0rd!x');
    const token = await login(infra, account.username, 'Fresh-Passw0rd!x');
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims.realm_access.roles).toEqual(expect.arrayContaining(['sales-manager', 'analyst']));
    expect(claims.realm_access.roles).not.toContain('sales-rep');
    expect(claims.groups).toEqual(['service']);
  });

  it('disables an account (no sign-in, sessions ended) and enables it again', async () => {
    const account = await newAccount();
    await userSetsPassword(infra, account.id, 'Fresh-Passw0rd!y');
    const before = await signIn(account.username, 'Fresh-Passw0rd!y');
    expect(before.ok).toBe(true);

    const disabled = await call(`mutation($id: ID!) { disableUserAccount(id: $id) { enabled } }`, { id: account.id });
    expect(disabled.data!.disableUserAccount.enabled).toBe(false);
    const refused = await signIn(account.username, 'Fresh-Passw0rd!y');
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/disabled/i) });
    // The session from before is gone: its refresh token no longer works.
    const refreshed = await fetch(`${infra.keycloakUrl}/realms/${infra.realm}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'crm-cli', refresh_token: before.refresh! }),
    });
    expect(refreshed.status).toBe(400);
    await events.find((e) => e.subject === account.id && e.type === 'user-account.disabled', 20_000);

    const enabled = await call(`mutation($id: ID!) { enableUserAccount(id: $id) { enabled } }`, { id: account.id });
    expect(enabled.data!.enableUserAccount.enabled).toBe(true);
    expect((await signIn(account.username, 'Fresh-Passw0rd!y')).ok).toBe(true);
  });

  it('keeps admins from locking themselves out', async () => {
    const self = await call(`mutation($id: ID!) { disableUserAccount(id: $id) { id } }`, { id: adminId });
    expect(self.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'USER_ACCOUNT_SELF_LOCKOUT' });
    const demote = await call(`mutation($id: ID!) { setUserRoles(id: $id, roles: [ANALYST]) { id } }`, { id: adminId });
    expect(demote.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await call(`mutation($id: ID!) { setUserRoles(id: $id, roles: [ADMIN]) { roles } }`, { id: adminId })).data!.setUserRoles.roles).toEqual(['ADMIN']);
  });

  it('emails a set-password link through Keycloak, and can require a one-time-code authenticator', async () => {
    const account = await newAccount();
    const sent = await call(`mutation($id: ID!) { sendSetPasswordEmail(id: $id, lifespanHours: 2) { id } }`, { id: account.id });
    expect(sent.errors).toBeUndefined();
    const mail = await eventually(async () => mails.find((m) => m.to.includes(account.email)), 20_000);
    expect(mail.raw).toMatch(/login-actions\/action-token/);
    expect(mail.raw).not.toMatch(/Fresh-Passw0rd|crm-demo/);

    const totp = await call(`mutation($id: ID!) { requireTotp(id: $id) { requiredActions } }`, { id: account.id });
    expect(totp.data!.requireTotp.requiredActions).toContain('CONFIGURE_TOTP');
    const tooLong = await call(`mutation($id: ID!) { sendSetPasswordEmail(id: $id, lifespanHours: 1000) { id } }`, { id: account.id });
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'lifespanHours' }] });
  });

  it('shows Keycloak\'s sign-in and admin events to admins', async () => {
    const signIns = await call(`query($u: ID) { identityEvents(kind: SIGN_IN, userId: $u, first: 20) { type userId clientId time } }`, { u: adminId });
    expect(signIns.data!.identityEvents.some((e: any) => e.type === 'LOGIN' && e.userId === adminId && e.clientId === 'crm-cli')).toBe(true);
    const adminEvents = await call(`{ identityEvents(kind: ADMIN, first: 50) { type resourceType resourcePath } }`);
    expect(adminEvents.data!.identityEvents.some((e: any) => e.type === 'CREATE' && e.resourceType === 'USER')).toBe(true);
  });

  it('lists departments and teams', async () => {
    const result = await call('{ departments { name path } }');
    expect(result.data!.departments).toEqual(expect.arrayContaining([{ name: 'sales', path: '/sales' }, { name: 'sales-east', path: '/sales/sales-east' }, { name: 'management', path: '/management' }]));
  });
});
