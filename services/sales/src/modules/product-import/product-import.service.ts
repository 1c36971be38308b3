import type { Types } from 'mongoose';
import type { AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import type { OutboxRelay } from '@crm/events';
import { derivedRowId, ImportJobRunner, type BatchOutcome, type ImportErrorPage, type ImportRow, type ImportRowError, type StartImportInput } from '@crm/import-jobs';
import type { Logger } from '@crm/logger';
import { createProductInput, type CreateProductInput, type ProductService } from '../product/product.service.js';
import { ProductImportException } from './product-import.errors.js';
import type { ProductImportJobRecord, ProductImportModels } from './product-import.model.js';
import { PRODUCT_SHEET, productColumnOf, toProductInput, type ProductImportColumn } from './product-import.columns.js';

export interface ProductImportOptions {
  /** Rows per `createMany` call (one insertMany, one progress update). */
  batchSize?: number;
  parallelJobs?: number;
  pipelineDepth?: number;
  staleAfterMs?: number;
  heartbeatMs?: number;
  /** The outbox relay, paused while jobs run (see `@crm/import-jobs`). */
  relay?: OutboxRelay;
}

/**
 * A product's id from its SKU: the same SKU always gets the same id, so importing it again (from this
 * file or another) is a duplicate insert, reported as skipped, never a second product. A SKU created
 * by hand (random id) is caught by the unique SKU index the same way.
 */
export function productIdForSku(sku: string): Types.ObjectId {
  return derivedRowId(`product-sku:${sku.trim().toUpperCase()}`);
}

/**
 * Bulk import of products from CSV or XLSX as a background job (SAL-1), on the job runner of
 * `@crm/import-jobs` (the one customers use): chunked upload checked against its size and SHA-256,
 * streamed in batches, progress and per-row problems, resumable. This module adds the product columns,
 * the exact decimal → minor units conversion, and `ProductService.createMany`.
 */
export class ProductImportService {
  private readonly runner: ImportJobRunner<ProductImportColumn>;

  constructor(
    models: ProductImportModels,
    private readonly products: ProductService,
    logger: Logger,
    options: ProductImportOptions = {},
  ) {
    this.runner = new ImportJobRunner({
      ...options,
      models,
      sheet: PRODUCT_SHEET,
      logger,
      exception: ProductImportException,
      canImport: (user) => products.canWrite(user),
      forbiddenMessage: 'Only sales managers and admins import products',
      importRows: (rows, job) => this.importRows(rows, job),
    });
  }

  private async importRows(rows: Array<ImportRow<ProductImportColumn>>, job: ProductImportJobRecord): Promise<BatchOutcome> {
    const outcome: BatchOutcome & { errors: ImportRowError[] } = { created: 0, skipped: 0, failed: 0, errors: [] };
    const valid: Array<{ row: number; id: Types.ObjectId; input: CreateProductInput }> = [];
    for (const { row, values } of rows) {
      const { input, problems } = toProductInput(values);
      if (problems.length > 0) {
        // Also report the row's other problems, once per column.
        const parsed = createProductInput.safeParse(input);
        const others = parsed.success ? [] : fieldProblems(parsed.error.issues, '').map((p) => ({ field: productColumnOf(p.field), message: p.message }));
        const columns = new Set(problems.map((p) => p.field));
        outcome.failed += 1;
        for (const problem of [...problems, ...others.filter((p) => !columns.has(p.field))]) outcome.errors.push({ row, field: problem.field, message: problem.message });
        continue;
      }
      // Without a SKU the row fails validation; its id only has to be unique.
      valid.push({ row, id: values.sku ? productIdForSku(values.sku) : derivedRowId(`${job.sha256}:${row}`), input });
    }
    const results = valid.length > 0 ? await this.products.createMany(valid.map(({ id, input }) => ({ id, input })), job.createdBy as AuthUser) : [];
    results.forEach((result, i) => {
      const { row } = valid[i]!;
      if (result.status === 'CREATED') outcome.created += 1;
      else if (result.status === 'SKIPPED') {
        outcome.skipped += 1;
        outcome.errors.push({ row, field: 'sku', message: 'Skipped: a product with this SKU already exists' });
      } else {
        outcome.failed += 1;
        for (const problem of result.problems ?? []) outcome.errors.push({ row, field: problem.field ? productColumnOf(problem.field) : null, message: problem.message });
      }
    });
    return outcome;
  }

  get(id: string, user: AuthUser): Promise<ProductImportJobRecord> {
    return this.runner.get(id, user);
  }

  start(input: StartImportInput, user: AuthUser): Promise<ProductImportJobRecord> {
    return this.runner.start(input, user);
  }

  uploadChunk(jobId: string, index: number, dataBase64: string, user: AuthUser): Promise<ProductImportJobRecord> {
    return this.runner.uploadChunk(jobId, index, dataBase64, user);
  }

  run(jobId: string, user: AuthUser): Promise<ProductImportJobRecord> {
    return this.runner.run(jobId, user);
  }

  errors(job: ProductImportJobRecord, args: { first?: number | null; after?: string | null }): Promise<ImportErrorPage> {
    return this.runner.errors(job, args);
  }

  stop(): Promise<void> {
    return this.runner.stop();
  }
}
