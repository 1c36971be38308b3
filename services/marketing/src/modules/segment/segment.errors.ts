import { defineException } from '@crm/errors';

export type SegmentExceptionReason = 'SEGMENT_INVALID_INPUT' | 'SEGMENT_NOT_FOUND' | 'SEGMENT_VERSION_CONFLICT' | 'SEGMENT_WRONG_KIND';

/** The segment module's one error type; each reason maps to one GraphQL error code. */
export const SegmentException = defineException<SegmentExceptionReason>('SegmentException', {
  SEGMENT_INVALID_INPUT: 'BAD_USER_INPUT',
  SEGMENT_NOT_FOUND: 'NOT_FOUND',
  SEGMENT_VERSION_CONFLICT: 'CONFLICT',
  SEGMENT_WRONG_KIND: 'CONFLICT',
});
