import { defineException } from '@crm/errors';

export type PipelineExceptionReason = 'PIPELINE_INVALID_INPUT' | 'PIPELINE_VERSION_CONFLICT' | 'PIPELINE_STAGE_IN_USE';

export const PipelineException = defineException<PipelineExceptionReason>('PipelineException', {
  PIPELINE_INVALID_INPUT: 'BAD_USER_INPUT',
  PIPELINE_VERSION_CONFLICT: 'CONFLICT',
  PIPELINE_STAGE_IN_USE: 'CONFLICT',
});
