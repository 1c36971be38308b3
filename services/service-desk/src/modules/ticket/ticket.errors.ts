import { defineException } from '@crm/errors';

export type TicketExceptionReason =
  | 'TICKET_NOT_FOUND'
  | 'TICKET_INVALID_INPUT'
  | 'TICKET_FORBIDDEN'
  | 'TICKET_INVALID_TRANSITION'
  | 'TICKET_VERSION_CONFLICT'
  | 'TICKET_CLOSED'
  | 'TICKET_ALREADY_RATED'
  | 'TICKET_REOPEN_WINDOW_PASSED';

export const TicketException = defineException<TicketExceptionReason>('TicketException', {
  /** Also a customer asking for another customer's ticket (its existence is not revealed). */
  TICKET_NOT_FOUND: 'NOT_FOUND',
  TICKET_INVALID_INPUT: 'BAD_USER_INPUT',
  TICKET_FORBIDDEN: 'FORBIDDEN',
  /** E.g. resolving a NEW ticket, approving one that needs no approval. Nothing changed. */
  TICKET_INVALID_TRANSITION: 'CONFLICT',
  TICKET_VERSION_CONFLICT: 'CONFLICT',
  /** A comment on a CLOSED ticket. */
  TICKET_CLOSED: 'CONFLICT',
  /** A second rating of the same ticket. */
  TICKET_ALREADY_RATED: 'CONFLICT',
  TICKET_REOPEN_WINDOW_PASSED: 'CONFLICT',
});
