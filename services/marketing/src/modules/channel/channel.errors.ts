import { defineException } from '@crm/errors';

export type ChannelExceptionReason = 'CHANNEL_INVALID_INPUT' | 'CHANNEL_NOT_FOUND' | 'CHANNEL_NAME_TAKEN' | 'CHANNEL_VERSION_CONFLICT';

/** The channel module's one error type; each reason maps to one GraphQL error code. */
export const ChannelException = defineException<ChannelExceptionReason>('ChannelException', {
  CHANNEL_INVALID_INPUT: 'BAD_USER_INPUT',
  CHANNEL_NOT_FOUND: 'NOT_FOUND',
  CHANNEL_NAME_TAKEN: 'CONFLICT',
  CHANNEL_VERSION_CONFLICT: 'CONFLICT',
});
