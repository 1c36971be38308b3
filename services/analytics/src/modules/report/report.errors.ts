import { defineException } from '@crm/errors';

export type ReportExceptionReason = 'REPORT_INVALID_INPUT' | 'REPORT_NOT_FOUND';

/** Errors of report arguments (ranges, zones, limits) and of report lookups, for every report. */
export const ReportException = defineException<ReportExceptionReason>('ReportException', {
  REPORT_INVALID_INPUT: 'BAD_USER_INPUT',
  REPORT_NOT_FOUND: 'NOT_FOUND',
});
