import { defineException } from '@crm/errors';

export type TicketExceptionReason = 'TICKET_NOT_FOUND' | 'TICKET_INVALID_INPUT';

export const TicketException = defineException<TicketExceptionReason>('TicketException', {
  TICKET_NOT_FOUND: 'NOT_FOUND',
  TICKET_INVALID_INPUT: 'BAD_USER_INPUT',
});
