/**
 * The gateway's defences against hostile GraphQL (OWASP API Top 10, GraphQL cheat sheet): document
 * limits, a page-size cap on every connection, per-caller rate limits and error masking. Subgraphs
 * only answer the gateway (shared secret), so these hold for the whole supergraph.
 *
 * Depth, alias, directive and cost limits are graphql-armor's per-rule packages (kept, small, and
 * written as plain validation rules); the token limit is graphql-js's own `parse({ maxTokens })`;
 * rate limiting is rate-limiter-flexible's in-memory limiter (per gateway replica).
 */
import type { ErrorRequestHandler } from 'express';
import { GraphQLError, Kind, TypeInfo, visit, visitWithTypeInfo, type GraphQLFormattedError, type ValidationContext, type ValidationRule, type ValueNode } from 'graphql';
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { GraphQLErrorCode } from '@crm/errors';
import type { Logger } from '@crm/logger';
import { CLIENT_ERROR_CODES } from '@crm/subgraph';

export interface GraphQLLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxCost: number;
}

/** Validation rules run on every operation before it is planned; a failing one is GRAPHQL_VALIDATION_FAILED. */
export function limitRules(limits: GraphQLLimits): ValidationRule[] {
  // Reported as ordinary validation errors (the packages throw a "Syntax Error" by default, which
  // Apollo answers with 500). Limits are not echoed back: they would only help tune a request.
  const reject = (message: string) => ({
    exposeLimits: false,
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null) => context?.reportError(new GraphQLError(message))],
  });
  return [
    maxDepthRule({ n: limits.maxDepth, ...reject('Query too deep') }),
    maxAliasesRule({ n: limits.maxAliases, ...reject('Too many aliases') }),
    maxDirectivesRule({ n: limits.maxDirectives, ...reject('Too many directives') }),
    costLimitRule({ maxCost: limits.maxCost, ...reject('Query too expensive') }),
  ] as unknown as ValidationRule[];
}

function intValue(node: ValueNode, variables: Record<string, unknown>): unknown {
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) return variables[node.name.value];
  return undefined;
}

/**
 * Larger caps for the few lists built for bulk reads (`Type.field`), matching what their subgraph
 * allows; every other `first` gets the default cap.
 */
export const PAGE_SIZE_OVERRIDES: Readonly<Record<string, number>> = { 'Segment.memberIds': 1000 };

/**
 * Refuses any `first` above the cap, wherever it appears (literal or variable, fragments included),
 * before a subgraph is called: the subgraphs check their own page sizes too, but a new list field
 * cannot forget it here.
 */
export function pageSizeCap<TContext extends object>(maxPageSize: number, overrides: Readonly<Record<string, number>> = PAGE_SIZE_OVERRIDES): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, schema }) {
          const variables = request.variables ?? {};
          const problems: Array<{ field: string; message: string }> = [];
          const typeInfo = new TypeInfo(schema);
          visit(
            document,
            visitWithTypeInfo(typeInfo, {
              Argument(node) {
                if (node.name.value !== 'first') return;
                const parent = typeInfo.getParentType();
                const field = typeInfo.getFieldDef();
                const cap = (parent && field ? overrides[`${parent.name}.${field.name}`] : undefined) ?? maxPageSize;
                const value = intValue(node.value, variables);
                if (typeof value === 'number' && value > cap) problems.push({ field: 'first', message: `Must be at most ${cap}` });
              },
            }),
          );
          if (problems.length > 0) {
            throw new GraphQLError('Page size too large', { extensions: { code: 'BAD_USER_INPUT', fields: problems.slice(0, 1), http: { status: 400 } } });
          }
        },
      };
    },
  };
}

/** The path (e.g. `input.name`) of the first string holding a NUL character, if any. */
function nulPath(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = nulPath(value[i], `${path}.${i}`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const found = nulPath(child, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return null;
}

/**
 * Refuses NUL characters in variables and string literals: no CRM text holds one, BSON regexes and
 * PostgreSQL (under FerretDB) cannot store one, and they hide payloads from log readers.
 */
export function rejectNulCharacters<TContext extends object>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, source }) {
          const field = nulPath(request.variables ?? {}, '') ?? (source.includes('\u0000') || source.includes('\\u0000') ? 'query' : null);
          if (field) {
            throw new GraphQLError('Text must not contain NUL characters', { extensions: { code: 'BAD_USER_INPUT', fields: [{ field, message: 'Contains a NUL character' }], http: { status: 400 } } });
          }
        },
      };
    },
  };
}

/** Per-caller request budget: a GraphQL error with HTTP 429 and `Retry-After` once it is spent. */
export class CallerRateLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(perMinute: number) {
    this.limiter = new RateLimiterMemory({ points: perMinute, duration: 60 });
  }

  /** Spends one request of `key` (a user id, or `ip:<address>` for callers without a valid token). */
  async consume(key: string): Promise<void> {
    try {
      await this.limiter.consume(key);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      throw rateLimitedError(Math.max(1, Math.ceil(error.msBeforeNext / 1000)));
    }
  }
}

export function rateLimitedError(retryAfterSeconds: number): GraphQLError {
  const headers = new HeaderMap([['retry-after', String(retryAfterSeconds)]]);
  return new GraphQLError('Too many requests: slow down and retry later', {
    extensions: { code: 'RATE_LIMITED', retryAfterSeconds, http: { status: 429, headers } },
  });
}

/** Codes whose messages are written for clients: Apollo's (as subgraphs pass them), our domain codes, and the gateway's own. */
const CLIENT_CODES: ReadonlySet<string> = new Set([...CLIENT_ERROR_CODES, ...Object.values(GraphQLErrorCode), 'RATE_LIMITED']);

/** Extension keys a client may see; anything else (stack traces, subgraph names, driver details) is dropped. */
const CLIENT_EXTENSIONS = new Set(['code', 'reason', 'fields', 'retryAfterSeconds']);

/**
 * The gateway's `formatError`: client errors keep their message and safe extensions; anything else
 * (a subgraph down, a fetch failure naming an internal URL, a bug) becomes "Internal server error",
 * logged here with its detail.
 */
export function gatewayFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && CLIENT_CODES.has(code)) {
      const extensions = Object.fromEntries(Object.entries(formatted.extensions ?? {}).filter(([key]) => CLIENT_EXTENSIONS.has(key)));
      return { message: formatted.message, ...(formatted.path ? { path: formatted.path } : {}), ...(formatted.locations ? { locations: formatted.locations } : {}), extensions };
    }
    // Apollo's own refusals of a request (HTTP 4xx) are the caller's doing, whatever their code.
    const status = (error as { extensions?: { http?: { status?: number } } } | undefined)?.extensions?.http?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return { message: formatted.message, extensions: { code: typeof code === 'string' && /^[A-Z_]+$/.test(code) && code !== 'INTERNAL_SERVER_ERROR' ? code : 'BAD_REQUEST' } };
    }
    logger.error({ err: error, path: formatted.path, code }, 'unexpected error at the gateway');
    return { message: 'Internal server error', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/** JSON for requests refused before GraphQL sees them (body too large, malformed JSON), never Express's HTML page. */
export const bodyErrorHandler: ErrorRequestHandler = (error: { status?: number; type?: string }, _req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
  const message = status === 413 ? 'Request body too large' : status < 500 ? 'Malformed request body' : 'Internal server error';
  const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR';
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
};
