import { randomBytes, randomUUID } from 'node:crypto';
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export interface LoggerOptions {
  service: string;
  level?: LevelWithSilent;
  /** Where lines go; stdout by default. */
  destination?: NodeJS.WritableStream;
}

/** JSON logs on stdout, one line per entry; every line names its service. */
export function createLogger({ service, level = 'info', destination }: LoggerOptions): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Never let a token or the gateway secret reach the logs.
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-crm-gateway-secret"]', '*.password', '*.identityNumber'],
      censor: '[redacted]',
    },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

export interface RequestIds {
  requestId: string;
  /** W3C trace-context trace id (32 hex chars); continued from `traceparent` when present. */
  traceId: string;
  /** A `traceparent` header value to pass downstream so the trace continues. */
  traceparent: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Reads or creates the request id (`x-request-id`) and trace id (`traceparent`) of an incoming request. */
export function requestIdsFrom(headers: HeaderBag): RequestIds {
  const incomingRequestId = header(headers, 'x-request-id');
  const requestId = incomingRequestId && /^[\w.:-]{1,128}$/.test(incomingRequestId) ? incomingRequestId : randomUUID();
  const match = TRACEPARENT.exec(header(headers, 'traceparent') ?? '');
  const traceId = match?.[1] && !/^0+$/.test(match[1]) ? match[1] : randomBytes(16).toString('hex');
  const flags = match?.[3] ?? '01';
  const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-${flags}`;
  return { requestId, traceId, traceparent };
}
