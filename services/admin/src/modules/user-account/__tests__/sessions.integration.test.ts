import { describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, testInfra } from '@crm/testing';

// SYS-3 against the real Keycloak, with the realm as infra/keycloak/crm-realm.json defines it.
const infra = await testInfra();
const tokenUrl = `${infra.keycloakUrl}/realms/${infra.realm}/protocol/openid-connect/token`;
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, any>;

async function grant(params: Record<string, string>) {
  const response = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params) });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

async function adminGet(path: string) {
  const { body } = await grant({ grant_type: 'client_credentials', client_id: 'crm-admin', client_secret: 'crm-admin-demo-secret-change-in-production' });
  const response = await fetch(`${infra.keycloakUrl}/admin/realms/${infra.realm}${path}`, { headers: { authorization: `Bearer ${body.access_token}` } });
  expect(response.status).toBe(200);
  return response.json() as Promise<any>;
}

describe('sessions (SYS-3, real Keycloak)', () => {
  it('issues access tokens for at most 5 minutes and refresh tokens bounded by the 30-minute idle timeout', async () => {
    const { status, body } = await grant({ grant_type: 'password', client_id: 'crm-cli', username: 'analyst', password: DEMO_PASSWORD });
    expect(status).toBe(200);
    const access = claims(body.access_token);
    expect(access.exp - access.iat).toBeLessThanOrEqual(300);
    expect(body.expires_in).toBeLessThanOrEqual(300);
    expect(body.refresh_expires_in).toBeLessThanOrEqual(1800);
  });

  it('rotates refresh tokens: each is good once, and a reused one is refused', async () => {
    const first = await grant({ grant_type: 'password', client_id: 'crm-cli', username: 'analyst', password: DEMO_PASSWORD });
    const second = await grant({ grant_type: 'refresh_token', client_id: 'crm-cli', refresh_token: first.body.refresh_token });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    const reused = await grant({ grant_type: 'refresh_token', client_id: 'crm-cli', refresh_token: first.body.refresh_token });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
  });

  it('has the realm settings the handbook documents: lifetimes, no self sign-up, TOTP available, events recorded', async () => {
    const realm = await adminGet('');
    expect(realm).toMatchObject({
      accessTokenLifespan: 300,
      ssoSessionIdleTimeout: 1800,
      ssoSessionMaxLifespan: 36000,
      revokeRefreshToken: true,
      refreshTokenMaxReuse: 0,
      registrationAllowed: false,
      bruteForceProtected: true,
      otpPolicyType: 'totp',
      otpPolicyDigits: 6,
      eventsEnabled: true,
      adminEventsEnabled: true,
    });
    const actions = (await adminGet('/authentication/required-actions')) as Array<{ alias: string; enabled: boolean }>;
    expect(actions.find((a) => a.alias === 'CONFIGURE_TOTP')?.enabled).toBe(true);
    const events = (await adminGet('/events/config')) as { eventsEnabled: boolean; adminEventsEnabled: boolean; enabledEventTypes: string[] };
    expect(events.enabledEventTypes).toEqual(expect.arrayContaining(['LOGIN', 'LOGIN_ERROR', 'LOGOUT', 'UPDATE_PASSWORD', 'UPDATE_TOTP']));
  });
});
