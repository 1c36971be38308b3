// GraphiQL with Keycloak sign-in: authorization code + PKCE (S256) with the public client `crm-web`.
// Tokens stay in sessionStorage (gone with the tab); the access token is refreshed before it expires.
(async () => {
  const config = await (await fetch('/ide/config.json')).json();
  const redirectUri = `${location.origin}/auth/callback`;
  const store = sessionStorage;

  const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));
  const claims = (jwt) => JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));

  async function tokenRequest(params) {
    const response = await fetch(config.tokenUrl, { method: 'POST', body: new URLSearchParams({ client_id: config.clientId, ...params }) });
    if (!response.ok) throw new Error(`Keycloak: ${response.status} ${await response.text()}`);
    const body = await response.json();
    store.setItem('access_token', body.access_token);
    if (body.refresh_token) store.setItem('refresh_token', body.refresh_token);
    if (body.id_token) store.setItem('id_token', body.id_token);
  }

  async function login() {
    const verifier = random(48);
    const state = random(16);
    store.setItem('pkce_verifier', verifier);
    store.setItem('pkce_state', state);
    const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
    const query = new URLSearchParams({ response_type: 'code', client_id: config.clientId, redirect_uri: redirectUri, scope: 'openid', state, code_challenge: challenge, code_challenge_method: 'S256' });
    location.assign(`${config.authUrl}?${query}`);
  }

  async function currentToken() {
    const token = store.getItem('access_token');
    if (!token) return null;
    if (claims(token).exp * 1000 > Date.now() + 30_000) return token;
    const refresh = store.getItem('refresh_token');
    if (!refresh) return null;
    try {
      await tokenRequest({ grant_type: 'refresh_token', refresh_token: refresh });
      return store.getItem('access_token');
    } catch {
      store.clear(); // refresh token expired (e.g. 30 minutes idle): sign in again
      return null;
    }
  }

  if (location.pathname === '/auth/callback') {
    const params = new URLSearchParams(location.search);
    if (params.get('code') && params.get('state') === store.getItem('pkce_state')) {
      await tokenRequest({ grant_type: 'authorization_code', code: params.get('code'), redirect_uri: redirectUri, code_verifier: store.getItem('pkce_verifier') });
    }
    store.removeItem('pkce_verifier');
    store.removeItem('pkce_state');
    history.replaceState(null, '', '/');
  }

  const token = await currentToken();
  document.getElementById('who').textContent = token ? `signed in as ${claims(token).preferred_username} (${(claims(token).realm_access?.roles ?? []).join(', ')})` : 'not signed in: queries will be refused';
  document.getElementById('login').hidden = Boolean(token);
  document.getElementById('logout').hidden = !token;
  document.getElementById('login').onclick = login;
  document.getElementById('logout').onclick = () => {
    const idToken = store.getItem('id_token');
    store.clear();
    const query = new URLSearchParams({ client_id: config.clientId, post_logout_redirect_uri: `${location.origin}/`, ...(idToken ? { id_token_hint: idToken } : {}) });
    location.assign(`${config.logoutUrl}?${query}`);
  };

  const fetcher = async (params) => {
    const bearer = await currentToken();
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify(params),
    });
    return response.json();
  };
  const root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher, defaultQuery: '# Sign in, then try:\n{\n  customers(first: 5) {\n    totalCount\n    edges { node { id name organization tickets { subject status } } }\n  }\n  customerStats { totalCustomers }\n}\n' }));
})();
