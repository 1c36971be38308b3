import { defineException } from '@crm/errors';

export type MessageExceptionReason = 'MESSAGE_INVALID_INPUT' | 'MESSAGE_NO_CONSENT' | 'MESSAGE_CHANNEL_UNAVAILABLE';

/** The message module's one error type; each reason maps to one GraphQL error code. */
export const MessageException = defineException<MessageExceptionReason>('MessageException', {
  MESSAGE_INVALID_INPUT: 'BAD_USER_INPUT',
  MESSAGE_NO_CONSENT: 'CONFLICT',
  MESSAGE_CHANNEL_UNAVAILABLE: 'CONFLICT',
});
