import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptedSecrets, authenticate, authenticationError, sharedSecretMatches, type AuthUser, type TokenVerifier } from '@crm/auth';
import { DomainException, toGraphQLError } from '@crm/errors';
import { requestIdsFrom, type Logger } from '@crm/logger';

export const GATEWAY_SECRET_HEADER = 'x-crm-gateway-secret';

const HTTP_STATUS: Record<string, number> = { BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409 };

/** A domain error as a JSON body in the GraphQL error shape, with the HTTP status of its code. */
export function sendDomainError(res: ServerResponse, error: DomainException): void {
  const { message, extensions } = toGraphQLError(error);
  res.writeHead(HTTP_STATUS[String(extensions.code)] ?? 400, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ errors: [{ message, extensions }] }));
}

function sendJson(res: ServerResponse, status: number, message: string, code: string, reason?: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code, ...(reason ? { reason } : {}) } }] }));
}

/** What a download sends once its request was checked: headers, then the body written to the response. */
export interface Download {
  contentType: string;
  /** The file name offered to the browser (`attachment`); without it the body is shown inline. */
  fileName?: string;
  write(res: ServerResponse): Promise<void>;
}

export interface DownloadRouteOptions {
  verifier: TokenVerifier;
  /** The secret only the gateway sends (`x-crm-gateway-secret`), as for `/graphql` (current and previous during a rotation). */
  gatewaySecret: string | readonly string[];
  logger: Logger;
}

/**
 * An HTTP download beside `/graphql` (exports, charts): answers the gateway only, needs the caller's
 * bearer token like `/graphql`, and lets `prepare` check the request and read what it needs before any
 * byte is sent, so bad input and missing rights are clean JSON errors (400/403/404 ...). An error after
 * the headers went out can only break the transfer.
 */
export function downloadRoute(options: DownloadRouteOptions, prepare: (req: IncomingMessage, user: AuthUser, log: Logger) => Promise<Download>) {
  const secret = acceptedSecrets(...[options.gatewaySecret].flat());
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!sharedSecretMatches(secret, req.headers[GATEWAY_SECRET_HEADER])) return sendJson(res, 403, 'This subgraph only answers the gateway', 'FORBIDDEN', 'GATEWAY_SECRET_MISMATCH');
    const ids = requestIdsFrom(req.headers);
    let user: AuthUser;
    try {
      user = await authenticate(options.verifier, req.headers.authorization);
    } catch (error) {
      const { message, extensions } = authenticationError(error);
      return sendJson(res, 401, message, 'UNAUTHENTICATED', typeof extensions.reason === 'string' ? extensions.reason : undefined);
    }
    const log = options.logger.child({ requestId: ids.requestId, traceId: ids.traceId, userId: user.id });
    let download: Download;
    try {
      download = await prepare(req, user, log);
    } catch (error) {
      if (error instanceof DomainException) return sendDomainError(res, error);
      log.error({ err: error }, 'download failed');
      return sendJson(res, 500, 'Internal server error', 'INTERNAL_SERVER_ERROR');
    }
    res.writeHead(200, {
      'content-type': download.contentType,
      ...(download.fileName ? { 'content-disposition': `attachment; filename="${download.fileName}"` } : {}),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    try {
      await download.write(res);
    } catch (error) {
      // Headers are out: the only way to tell the client is to break the transfer.
      log.error({ err: error }, 'download failed while streaming');
      res.destroy(error as Error);
    }
  };
}
