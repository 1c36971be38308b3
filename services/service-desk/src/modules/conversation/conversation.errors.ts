import { defineException } from '@crm/errors';

export type ConversationExceptionReason = 'CONVERSATION_NOT_FOUND' | 'CONVERSATION_INVALID_INPUT' | 'CONVERSATION_FORBIDDEN' | 'CONVERSATION_INVALID_STATE' | 'CONVERSATION_VERSION_CONFLICT';

export const ConversationException = defineException<ConversationExceptionReason>('ConversationException', {
  /** Also another customer's conversation, or one not handed over for staff (existence not revealed). */
  CONVERSATION_NOT_FOUND: 'NOT_FOUND',
  CONVERSATION_INVALID_INPUT: 'BAD_USER_INPUT',
  CONVERSATION_FORBIDDEN: 'FORBIDDEN',
  /** A message to a CLOSED conversation, an agent reply before hand-over. Nothing changed. */
  CONVERSATION_INVALID_STATE: 'CONFLICT',
  CONVERSATION_VERSION_CONFLICT: 'CONFLICT',
});
