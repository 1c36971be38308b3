import { defineException } from '@crm/errors';

export type CompetitorExceptionReason = 'COMPETITOR_INVALID_INPUT' | 'COMPETITOR_NOT_FOUND' | 'COMPETITOR_NAME_TAKEN' | 'COMPETITOR_VERSION_CONFLICT';

/** The competitor module's one error type; each reason maps to one GraphQL error code. */
export const CompetitorException = defineException<CompetitorExceptionReason>('CompetitorException', {
  COMPETITOR_INVALID_INPUT: 'BAD_USER_INPUT',
  COMPETITOR_NOT_FOUND: 'NOT_FOUND',
  COMPETITOR_NAME_TAKEN: 'CONFLICT',
  COMPETITOR_VERSION_CONFLICT: 'CONFLICT',
});
