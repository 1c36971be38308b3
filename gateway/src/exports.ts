import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import cors from 'cors';
import express from 'express';
import { authenticate, authenticationError, type TokenVerifier } from '@crm/auth';
import { requestIdsFrom, type Logger } from '@crm/logger';
import { subgraphSettings, type GatewayEnv } from './env.js';

const GATEWAY_SECRET_HEADER = 'x-crm-gateway-secret';
/** Response headers of a download passed back to the caller. */
const PASSED_HEADERS = ['content-type', 'content-disposition', 'cache-control', 'x-content-type-options'];

/** Downloads served by a subgraph beside its `/graphql`, proxied as they are (the path stays the same). */
const EXPORTS = [
  { path: '/exports/customers', subgraph: 'customers' },
  // ANA-8, ANA-10: `/reports/<report>.<csv|xlsx|xml|svg>?...`
  { path: '/reports/:file', subgraph: 'analytics' },
] as const;

/**
 * `GET /exports/customers?...` (CUS-5) and `GET /reports/<report>.<format>?...` (ANA-8, ANA-10):
 * checks the bearer token like `/graphql` (401 otherwise), then
 * streams the request through to the customers subgraph with its secret and the caller's token, and
 * its response body back without buffering it. The subgraph checks the token again and decides what
 * the caller may see.
 */
export function exportsRouter({ env, verifier, logger }: { env: GatewayEnv; verifier: TokenVerifier; logger: Logger }): express.Router {
  const router = express.Router();
  for (const { path, subgraph } of EXPORTS) {
    const { url, secret } = subgraphSettings(env, subgraph);
    const base = new URL(url);
    // Browsers send the token in a header: a preflight first; the file name header must be readable.
    const allowOrigins = cors({ origin: env.CORS_ORIGINS, methods: ['GET', 'OPTIONS'], exposedHeaders: ['Content-Disposition'], maxAge: 600 });
    router.options(path, allowOrigins);
    router.get(
      path,
      allowOrigins,
      async (req, res) => {
        const ids = requestIdsFrom(req.headers);
        try {
          await authenticate(verifier, req.headers.authorization);
        } catch (error) {
          const { message, extensions } = authenticationError(error);
          res.status(401).json({ errors: [{ message, extensions: { code: extensions.code, ...(extensions.reason ? { reason: extensions.reason } : {}) } }] });
          return;
        }
        const target = new URL(req.path, base);
        target.search = new URL(req.originalUrl, 'http://gateway').search;
        // The caller going away aborts the subgraph request (and so its paging).
        const abort = new AbortController();
        res.once('close', () => abort.abort());
        let upstream: Response;
        try {
          upstream = await fetch(target, {
            headers: {
              authorization: req.headers.authorization ?? '',
              [GATEWAY_SECRET_HEADER]: secret,
              'x-request-id': ids.requestId,
              traceparent: ids.traceparent,
            },
            signal: abort.signal,
          });
        } catch (error) {
          if (abort.signal.aborted) return;
          logger.error({ err: error, requestId: ids.requestId, subgraph }, 'export: subgraph unreachable');
          res.status(502).json({ errors: [{ message: `The ${subgraph} service is not reachable`, extensions: { code: 'BAD_GATEWAY' } }] });
          return;
        }
        res.status(upstream.status);
        for (const name of PASSED_HEADERS) {
          const value = upstream.headers.get(name);
          if (value) res.setHeader(name, value);
        }
        if (!upstream.body) {
          res.end();
          return;
        }
        try {
          await pipeline(Readable.fromWeb(upstream.body as WebReadableStream), res);
        } catch (error) {
          if (!abort.signal.aborted) logger.warn({ err: error, requestId: ids.requestId, subgraph }, 'export: stream broken');
          res.destroy();
        }
      },
    );
  }
  return router;
}
