import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, graphql, testInfra } from '@crm/testing';
import { startGateway } from '../app.js';
import { testGatewayEnv } from './helpers.js';

const infra = await testInfra();
const env = testGatewayEnv(infra);
const gateway = await startGateway(env);
const base = gateway.url.replace(/\/graphql$/, '');
afterAll(() => gateway.stop());

describe('GraphQL IDE served by the gateway', () => {
  it('serves the page and every asset locally, with no CDN reference', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('/ide/graphiql.js');
    expect(html).not.toMatch(/https?:\/\/|\/\/unpkg|cdn/i);
    for (const [file, type] of [['react.js', 'javascript'], ['react-dom.js', 'javascript'], ['graphiql.js', 'javascript'], ['graphiql.css', 'css'], ['app.js', 'javascript'], ['app.css', 'css']]) {
      const asset = await fetch(`${base}/ide/${file}`);
      expect({ file, status: asset.status, type: asset.headers.get('content-type')?.includes(type!) }).toEqual({ file, status: 200, type: true });
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    expect((await fetch(`${base}/ide/..%2Fpackage.json`)).status).toBe(404);
    expect(await (await fetch(`${base}/ide/config.json`)).json()).toEqual({
      clientId: 'crm-web',
      authUrl: `${infra.keycloakUrl}/realms/${infra.realm}/protocol/openid-connect/auth`,
      tokenUrl: `${infra.keycloakUrl}/realms/${infra.realm}/protocol/openid-connect/token`,
      logoutUrl: `${infra.keycloakUrl}/realms/${infra.realm}/protocol/openid-connect/logout`,
    });
  });
});

describe('crm-web sign-in as the IDE does it (authorization code + PKCE at the real Keycloak)', () => {
  const config = { authUrl: `${infra.keycloakUrl}/realms/${infra.realm}/protocol/openid-connect/auth`, tokenUrl: `${infra.keycloakUrl}/realms/${infra.realm}/protocol/openid-connect/token` };
  const redirectUri = 'http://127.0.0.1:4000/auth/callback';

  async function authorize(params: Record<string, string>) {
    const response = await fetch(`${config.authUrl}?${new URLSearchParams({ response_type: 'code', client_id: 'crm-web', scope: 'openid', ...params })}`, { redirect: 'manual' });
    return { response, body: await response.text(), cookies: response.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') };
  }

  async function keycloakMessage(response: Response): Promise<string> {
    const page = await response.text();
    const shown = /id="input-error[^"]*"[^>]*>([\s\S]*?)<\/span>|class="[^"]*(?:kc-feedback-text|pf-c-alert__title|alert-error)[^"]*"[^>]*>([\s\S]*?)<\//.exec(page);
    return (shown?.[1] ?? shown?.[2] ?? page.slice(0, 300)).replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim();
  }

  it('signs in with S256 and the token works at the gateway', async () => {
    const verifier = randomBytes(48).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const { response, body, cookies } = await authorize({ redirect_uri: redirectUri, state: 's1', code_challenge: challenge, code_challenge_method: 'S256' });
    expect(response.status).toBe(200);
    const action = /action="([^"]+)"/.exec(body)?.[1]?.replace(/&amp;/g, '&');
    expect(action).toBeDefined();
    const submitted = await fetch(action!, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookies, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'analyst', password: DEMO_PASSWORD }),
    });
    // On a refused sign-in Keycloak renders the form again (200): say what it said.
    const refusal = submitted.status === 302 ? '' : await keycloakMessage(submitted);
    expect(submitted.status, `Keycloak answered the sign-in with: ${refusal}`).toBe(302);
    const location = new URL(submitted.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
    expect(location.searchParams.get('state')).toBe('s1');

    const exchanged = await fetch(config.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'crm-web', code: location.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: verifier }),
    });
    expect(exchanged.status).toBe(200);
    const tokens = (await exchanged.json()) as { access_token: string };
    const result = await graphql(gateway.url, '{ customerStats { totalCustomers } }', {}, { authorization: `Bearer ${tokens.access_token}` });
    expect(result.status).not.toBe(401);
    expect(result.errors?.[0]?.extensions?.code).not.toBe('UNAUTHENTICATED');
  });

  it('requires PKCE and an exactly registered redirect URI', async () => {
    const noPkce = await authorize({ redirect_uri: redirectUri, state: 's2' });
    expect(noPkce.response.status).toBe(302);
    expect(new URL(noPkce.response.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    const plain = await authorize({ redirect_uri: redirectUri, state: 's3', code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' });
    expect(new URL(plain.response.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    const foreign = await authorize({ redirect_uri: 'http://127.0.0.1:4000/auth/callback/../evil', state: 's4', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' });
    expect(foreign.response.status).toBe(400);
    expect(foreign.body).toMatch(/Invalid parameter: redirect_uri/);
  });
});
