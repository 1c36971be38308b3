import type { Connection } from 'mongoose';
import { importJobModels, type ImportJobModels, type ImportJobRecord } from '@crm/import-jobs';

/** One product import job (`product_imports`), the generic job of `@crm/import-jobs`. */
export type ProductImportJobRecord = ImportJobRecord;
export type ProductImportModels = ImportJobModels;

/** `product_imports`, `product_import_chunks`, `product_import_errors`. */
export function productImportModels(connection: Connection): ProductImportModels {
  return importJobModels(connection, { name: 'ProductImport', collection: 'product_import' });
}
