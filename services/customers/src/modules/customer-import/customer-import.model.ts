import type { Connection } from 'mongoose';
import {
  importJobModels,
  type ImportChunkRecord,
  type ImportErrorPageRecord,
  type ImportJobModels,
  type ImportJobRecord,
  type ImportRowError,
} from '@crm/import-jobs';

export { IMPORT_STATUSES, type ImportStatus, type ImportUser } from '@crm/import-jobs';

/** One customer import job (`customer_imports`): the generic job (`@crm/import-jobs`) plus `duplicates`. */
export type CustomerImportJobRecord = ImportJobRecord<'duplicates'>;
export type CustomerImportChunkRecord = ImportChunkRecord;
export type CustomerImportErrorPageRecord = ImportErrorPageRecord;

export const IMPORT_PROBLEM_KINDS = ['ERROR', 'LIKELY_DUPLICATE'] as const;
export type ImportProblemKind = (typeof IMPORT_PROBLEM_KINDS)[number];

export interface CustomerImportRowError extends ImportRowError {
  /** ERROR: the row (or a column) was not imported as given; LIKELY_DUPLICATE: imported, but looks like `duplicateOfId`. Absent = ERROR. */
  kind?: ImportProblemKind;
  duplicateOfId?: string | null;
}

export type CustomerImportModels = ImportJobModels<'duplicates'>;

/** `customer_imports`, `customer_import_chunks`, `customer_import_errors`. */
export function customerImportModels(connection: Connection): CustomerImportModels {
  return importJobModels(connection, { name: 'CustomerImport', collection: 'customer_import', counters: ['duplicates'] as const });
}
