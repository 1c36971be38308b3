import { defineException } from '@crm/errors';

export type SurveyExceptionReason =
  | 'SURVEY_INVALID_INPUT'
  | 'SURVEY_NOT_FOUND'
  | 'SURVEY_INVITATION_NOT_FOUND'
  | 'SURVEY_NOT_OPEN'
  | 'SURVEY_ILLEGAL_TRANSITION'
  | 'SURVEY_VERSION_CONFLICT'
  | 'SURVEY_ALREADY_ANSWERED'
  | 'SURVEY_FORBIDDEN';

/** The survey module's one error type; each reason maps to one GraphQL error code. */
export const SurveyException = defineException<SurveyExceptionReason>('SurveyException', {
  SURVEY_INVALID_INPUT: 'BAD_USER_INPUT',
  SURVEY_NOT_FOUND: 'NOT_FOUND',
  SURVEY_INVITATION_NOT_FOUND: 'NOT_FOUND',
  SURVEY_NOT_OPEN: 'CONFLICT',
  SURVEY_ILLEGAL_TRANSITION: 'CONFLICT',
  SURVEY_VERSION_CONFLICT: 'CONFLICT',
  SURVEY_ALREADY_ANSWERED: 'CONFLICT',
  SURVEY_FORBIDDEN: 'FORBIDDEN',
});
