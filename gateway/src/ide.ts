import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Router, type Response } from 'express';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));
const publicDir = fileURLToPath(new URL('../public/', import.meta.url));

/** Every file the IDE page loads, from node_modules or public/: nothing from a CDN (machines are offline). */
const ASSETS: Record<string, { path: string; type: string }> = {
  'react.js': { path: join(packageDir('react'), 'umd/react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': { path: join(packageDir('react-dom'), 'umd/react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.js': { path: join(packageDir('graphiql'), 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { path: join(packageDir('graphiql'), 'graphiql.min.css'), type: 'text/css' },
  'app.js': { path: join(publicDir, 'ide-app.js'), type: 'text/javascript' },
  'app.css': { path: join(publicDir, 'ide-app.css'), type: 'text/css' },
};

export interface IdeOptions {
  /** Keycloak as the browser reaches it, e.g. http://127.0.0.1:8080. */
  keycloakUrl: string;
  realm: string;
  /** Public client with authorization code + PKCE S256. */
  clientId: string;
}

/**
 * GraphiQL at `/`, logging in through Keycloak's login page (authorization code + PKCE, client
 * `crm-web`). The page is public; every query it sends still needs the token.
 */
export function ideRouter({ keycloakUrl, realm, clientId }: IdeOptions): Router {
  const router = Router();
  const html = readFileSync(join(publicDir, 'ide.html'), 'utf8');
  const keycloakOrigin = new URL(keycloakUrl).origin;
  const oidc = `${keycloakUrl.replace(/\/$/, '')}/realms/${realm}/protocol/openid-connect`;
  const config = { clientId, authUrl: `${oidc}/auth`, tokenUrl: `${oidc}/token`, logoutUrl: `${oidc}/logout` };

  const page = (_req: unknown, res: Response) => {
    res
      .type('html')
      .set('content-security-policy', `default-src 'self'; connect-src 'self' ${keycloakOrigin}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; font-src 'self' data:`)
      .set('cache-control', 'no-store')
      .send(html);
  };
  router.get('/', page);
  router.get('/auth/callback', page);
  router.get('/ide/config.json', (_req, res) => {
    res.json(config);
  });
  router.get('/ide/:file', (req, res) => {
    const asset = ASSETS[req.params.file];
    if (!asset) {
      res.sendStatus(404);
      return;
    }
    // Fixed whitelist of paths; `dotfiles` must be allowed because pnpm keeps packages under node_modules/.pnpm.
    res.type(asset.type).set('cache-control', 'public, max-age=3600').sendFile(asset.path, { dotfiles: 'allow' });
  });
  return router;
}
