import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, requestIdsFrom } from '../index.js';

describe('requestIdsFrom', () => {
  it('continues an incoming W3C trace and keeps a well-formed request id', () => {
    const ids = requestIdsFrom({
      'x-request-id': 'req-123',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(ids.requestId).toBe('req-123');
    expect(ids.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ids.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
  });

  it('starts a new trace when the header is missing or malformed', () => {
    const ids = requestIdsFrom({ 'x-request-id': 'bad id with spaces', traceparent: 'garbage' });
    expect(ids.requestId).not.toBe('bad id with spaces');
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('createLogger', () => {
  it('writes JSON lines that name the service and redacts credentials', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write: (chunk, _encoding, done) => {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ service: 'customers', destination });
    logger.info({ req: { headers: { authorization: 'Bearer secret', 'x-crm-gateway-secret': 's3cret' } } }, 'hello');
    const entry = JSON.parse(lines[0] ?? '{}');
    expect(entry).toMatchObject({ service: 'customers', level: 'info', msg: 'hello' });
    expect(entry.req.headers.authorization).toBe('[redacted]');
    expect(entry.req.headers['x-crm-gateway-secret']).toBe('[redacted]');
  });
});
