import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { DomainException, toGraphQLError } from '@crm/errors';
import type { Logger } from '@crm/logger';

/** Codes Apollo itself produces for bad requests (and our auth codes); they are safe to show as they are. */
export const CLIENT_ERROR_CODES: ReadonlySet<string> = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'UNAUTHENTICATED',
  'FORBIDDEN',
]);

/**
 * Apollo `formatError`: domain exceptions become their mapped GraphQL error; Apollo's own request
 * errors pass; anything else is logged and masked so internals never reach a client.
 */
export function createFormatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    // Apollo marks resolver errors for unwrapping; errors from elsewhere (e.g. a reference resolver
    // inside `_entities`) may only carry the exception as `originalError`.
    const unwrapped = unwrapResolverError(error);
    const original = unwrapped instanceof GraphQLError && unwrapped.originalError ? unwrapped.originalError : unwrapped;
    if (original instanceof DomainException) {
      const mapped = toGraphQLError(original);
      return { message: mapped.message, path: formatted.path, locations: formatted.locations, extensions: mapped.extensions };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && CLIENT_ERROR_CODES.has(code)) return formatted;
    logger.error({ err: original, path: formatted.path }, 'unexpected error in resolver');
    return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
