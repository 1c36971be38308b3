import { defineException } from '@crm/errors';

export type OpportunityExceptionReason =
  | 'OPPORTUNITY_INVALID_INPUT'
  | 'OPPORTUNITY_NOT_FOUND'
  | 'OPPORTUNITY_FORBIDDEN'
  | 'OPPORTUNITY_VERSION_CONFLICT'
  | 'OPPORTUNITY_CLOSED';

export const OpportunityException = defineException<OpportunityExceptionReason>('OpportunityException', {
  OPPORTUNITY_INVALID_INPUT: 'BAD_USER_INPUT',
  OPPORTUNITY_NOT_FOUND: 'NOT_FOUND',
  OPPORTUNITY_FORBIDDEN: 'FORBIDDEN',
  OPPORTUNITY_VERSION_CONFLICT: 'CONFLICT',
  OPPORTUNITY_CLOSED: 'CONFLICT',
});
