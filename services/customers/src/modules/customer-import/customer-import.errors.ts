import { defineException } from '@crm/errors';
import { IMPORT_JOB_ERROR_CODES, type ImportJobReason } from '@crm/import-jobs';

export type CustomerImportExceptionReason = ImportJobReason;

export const CustomerImportException = defineException<CustomerImportExceptionReason>('CustomerImportException', IMPORT_JOB_ERROR_CODES);
