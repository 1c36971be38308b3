import { defineException } from '@crm/errors';
import { IMPORT_JOB_ERROR_CODES, type ImportJobReason } from '@crm/import-jobs';

export type ProductImportExceptionReason = ImportJobReason;

export const ProductImportException = defineException<ProductImportExceptionReason>('ProductImportException', IMPORT_JOB_ERROR_CODES);
