import { defineException } from '@crm/errors';

export type LeadExceptionReason =
  | 'LEAD_INVALID_INPUT'
  | 'LEAD_NOT_FOUND'
  | 'LEAD_FORBIDDEN'
  | 'LEAD_STATUS_TRANSITION'
  | 'LEAD_VERSION_CONFLICT'
  | 'LEAD_ALREADY_CONVERTED';

export const LeadException = defineException<LeadExceptionReason>('LeadException', {
  LEAD_INVALID_INPUT: 'BAD_USER_INPUT',
  LEAD_NOT_FOUND: 'NOT_FOUND',
  LEAD_FORBIDDEN: 'FORBIDDEN',
  LEAD_STATUS_TRANSITION: 'CONFLICT',
  LEAD_VERSION_CONFLICT: 'CONFLICT',
  LEAD_ALREADY_CONVERTED: 'CONFLICT',
});
