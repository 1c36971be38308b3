import type { TokenVerifier } from '@crm/auth';
import { PlatformException } from '@crm/errors';
import type { Logger } from '@crm/logger';
import { downloadRoute } from '@crm/subgraph';
import type { CustomerService, ListArgs } from '../customer/customer.service.js';
import { CONTENT_TYPES, EXPORT_FORMATS, exportWriter, type ExportFormat } from './customer-export.formats.js';

export const EXPORT_PATH = '/exports/customers';
/** Customers read per `list` call: the largest page `customers(...)` serves. */
const PAGE_SIZE = 100;

export interface CustomerExportRouteOptions {
  customers: CustomerService;
  verifier: TokenVerifier;
  /** The secret only the gateway sends (`x-crm-gateway-secret`), as for `/graphql`. */
  gatewaySecret: string | readonly string[];
  logger: Logger;
}

const badInput = (field: string, message: string) => new PlatformException('INVALID_INPUT', 'Invalid export request', [{ field, message }]);

/** `format`, `filter` (CustomerFilter as JSON), `search` and `orderBy` from the query string. */
export function exportRequestOf(url: string): { format: ExportFormat; args: ListArgs } {
  const params = new URL(url, 'http://localhost').searchParams;
  const format = (params.get('format') ?? 'csv').toLowerCase();
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw badInput('format', `One of ${EXPORT_FORMATS.join(', ')}`);
  let filter: Record<string, unknown> | null = null;
  const rawFilter = params.get('filter');
  if (rawFilter) {
    try {
      filter = JSON.parse(rawFilter) as Record<string, unknown> | null;
    } catch {
      throw badInput('filter', 'Not JSON (a CustomerFilter object)');
    }
    if (filter !== null && (typeof filter !== 'object' || Array.isArray(filter))) throw badInput('filter', 'A CustomerFilter object');
    // The GraphQL DateTime scalar turns these into dates; here they arrive as strings.
    for (const key of ['createdAfter', 'createdBefore']) {
      const value = filter?.[key];
      if (typeof value === 'string' && /(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value))) filter![key] = new Date(value);
    }
  }
  return { format: format as ExportFormat, args: { filter: filter as ListArgs['filter'], search: params.get('search') || null, orderBy: params.get('orderBy') || null } };
}

/**
 * `GET /exports/customers?format=csv|xlsx|xml&filter=<json>&search=...&orderBy=...` (CUS-5): every
 * customer `customers(...)` would list for the caller with these arguments, streamed page by page
 * through `CustomerService.list` (so the same visibility rules apply), never held in memory whole.
 * Answers the gateway only (shared secret) and needs the caller's bearer token, like `/graphql`.
 */
export function customerExportHandler({ customers, verifier, gatewaySecret, logger }: CustomerExportRouteOptions) {
  return downloadRoute({ verifier, gatewaySecret, logger }, async (req, user, log) => {
    const { format, args } = exportRequestOf(req.url ?? '');
    // The first page before any byte is sent: a bad filter or a role that lists nothing is a clean error.
    let page = await customers.list({ ...args, first: PAGE_SIZE, count: false }, user);
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return {
      contentType: CONTENT_TYPES[format],
      fileName: `customers-${stamp}.${format}`,
      write: async (res) => {
        let closed = false;
        res.once('close', () => {
          closed = true;
        });
        const started = Date.now();
        let rows = 0;
        const writer = exportWriter(format, res, customers, user);
        for (;;) {
          for (const customer of page.items) writer.write(customer);
          rows += page.items.length;
          // Backpressure: the next page is read once the client has taken this one.
          if (res.writableNeedDrain && !closed) await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.on('drain', done);
            res.on('close', done);
          });
          if (closed || !page.hasNextPage) break;
          page = await customers.list({ ...args, first: PAGE_SIZE, after: page.endCursor, count: false }, user);
        }
        if (closed) {
          log.info({ rows }, 'export abandoned by the client');
          return;
        }
        await writer.end();
        log.info({ format, rows, ms: Date.now() - started }, 'export sent');
      },
    };
  });
}
