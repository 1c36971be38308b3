import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import type { AuthUser } from '@crm/auth';
import type { OutboxRelay } from '@crm/events';
import { ImportJobRunner, MAX_CHUNK_BYTES, MAX_CHUNKS, MAX_ERROR_PAGE_SIZE, MAX_FILE_BYTES, startImportInput, type BatchOutcome, type StartImportInput } from '@crm/import-jobs';
import type { Logger } from '@crm/logger';
import { canWrite } from '../customer/customer.access.js';
import type { CustomerService, DuplicateReason } from '../customer/customer.service.js';
import { CustomerImportException } from './customer-import.errors.js';
import type { CustomerImportJobRecord, CustomerImportModels, CustomerImportRowError, ImportProblemKind } from './customer-import.model.js';
import { columnOf, CUSTOMER_SHEET, toCustomerInput, type ImportColumn, type ImportFormat } from './customer-import.parse.js';

export { MAX_CHUNK_BYTES, MAX_CHUNKS, MAX_ERROR_PAGE_SIZE, MAX_FILE_BYTES };

export const startCustomerImportInput = startImportInput;
export type StartCustomerImportInput = StartImportInput;

export interface CustomerImportOptions {
  /** Rows per `createMany` call (one insertMany, one progress update). */
  batchSize?: number;
  /** Jobs this process runs at once; more wait as QUEUED. */
  parallelJobs?: number;
  /** Batches of one job inserted at once (the next is validated while the database stores the last). */
  pipelineDepth?: number;
  /** A job whose runner has not reported for this long may be taken over by `run`. */
  staleAfterMs?: number;
  heartbeatMs?: number;
  /**
   * The service's outbox relay. Its poller is paused while jobs run: on FerretDB (SQLite, one writer
   * per database) its event removals and the import's inserts slow each other down many times over.
   * The imported customers' events wait in their documents and are published once the jobs are done.
   */
  relay?: OutboxRelay;
}

export interface ImportErrorPage {
  edges: Array<{ cursor: string; node: CustomerImportRowError & { kind: ImportProblemKind; duplicateOfId: string | null } }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/** The customer id of one row of one file: the same file content always yields the same ids (re-runs skip). */
export function rowCustomerId(sha256: string, row: number): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(`${sha256}:${row}`).digest().subarray(0, 12));
}

/** The column a likely-duplicate note points at, and how its reason reads. */
const DUPLICATE_COLUMN: Record<DuplicateReason, string> = { SAME_PHONE: 'phone', SAME_EMAIL: 'email', SAME_IDENTITY_NUMBER: 'id_number', SIMILAR_NAME_SAME_ORGANIZATION: 'name' };
const DUPLICATE_WORDS: Record<DuplicateReason, string> = {
  SAME_PHONE: 'same phone',
  SAME_EMAIL: 'same email',
  SAME_IDENTITY_NUMBER: 'same identity number',
  SIMILAR_NAME_SAME_ORGANIZATION: 'same name and organisation',
};

/**
 * Imports customers from an uploaded CSV or XLSX file as a background job (CUS-5), on the shared job
 * runner of `@crm/import-jobs` (chunked upload, size and SHA-256 check, streamed reading in batches,
 * progress and checkpoint per batch, row problems paged, resumable). This module adds what is
 * customer-specific: the columns, the row → create input mapping, `CustomerService.createMany`, and
 * the likely-duplicate notes (CUS-6). Every row's customer id derives from the file hash and row
 * number, so running a job again, resuming it, or importing the same file twice never creates a
 * customer twice.
 */
export class CustomerImportService {
  private readonly runner: ImportJobRunner<ImportColumn, 'duplicates', Awaited<ReturnType<CustomerService['duplicateIndex']>>>;

  constructor(
    models: CustomerImportModels,
    private readonly customers: CustomerService,
    logger: Logger,
    options: CustomerImportOptions = {},
  ) {
    this.runner = new ImportJobRunner({
      ...options,
      models,
      sheet: CUSTOMER_SHEET,
      logger,
      exception: CustomerImportException,
      canImport: canWrite,
      forbiddenMessage: 'Only sales staff and admins import customers',
      // CUS-6: what the importer's customers look like now, to flag rows that resemble one of them.
      prepare: (job) => this.customers.duplicateIndex(job.createdBy),
      importRows: (rows, job, duplicates) => this.importRows(rows, job, duplicates),
    });
  }

  private async importRows(
    rows: Array<{ row: number; values: Parameters<typeof toCustomerInput>[0] }>,
    job: CustomerImportJobRecord,
    duplicates: Awaited<ReturnType<CustomerService['duplicateIndex']>>,
  ): Promise<BatchOutcome<'duplicates'>> {
    const results = await this.customers.createMany(rows.map((r) => ({ id: rowCustomerId(job.sha256, r.row), input: toCustomerInput(r.values) })), job.createdBy, { duplicates });
    const outcome = { created: 0, skipped: 0, failed: 0, counters: { duplicates: 0 }, errors: [] as CustomerImportRowError[] };
    results.forEach((result, i) => {
      const row = rows[i]!;
      if (result.status === 'CREATED') {
        outcome.created += 1;
        if (result.likelyDuplicates?.length) outcome.counters.duplicates += 1;
        for (const { customerId, reasons } of result.likelyDuplicates ?? []) {
          outcome.errors.push({
            row: row.row,
            kind: 'LIKELY_DUPLICATE',
            duplicateOfId: customerId,
            field: DUPLICATE_COLUMN[reasons[0]!],
            message: `Imported; likely the same as customer ${customerId} (${reasons.map((r) => DUPLICATE_WORDS[r]).join(', ')}): merge them if so`,
          });
        }
      } else if (result.status === 'SKIPPED') outcome.skipped += 1;
      else {
        outcome.failed += 1;
        for (const problem of result.problems ?? []) outcome.errors.push({ row: row.row, field: problem.field ? columnOf(problem.field, row.values) : null, message: problem.message });
      }
    });
    return outcome;
  }

  /** A job the caller may see: its creator's and, for admins, every one. */
  get(id: string, user: AuthUser): Promise<CustomerImportJobRecord> {
    return this.runner.get(id, user);
  }

  start(input: StartCustomerImportInput, user: AuthUser): Promise<CustomerImportJobRecord> {
    return this.runner.start(input, user);
  }

  /** Stores one chunk (at most 1 MiB); uploading the same index again replaces it, so retries are safe. */
  uploadChunk(jobId: string, index: number, dataBase64: string, user: AuthUser): Promise<CustomerImportJobRecord> {
    return this.runner.uploadChunk(jobId, index, dataBase64, user);
  }

  /**
   * Starts (or resumes) processing in the background and returns at once. Running a completed job
   * again changes nothing; a failed or interrupted job continues after its last stored batch.
   */
  run(jobId: string, user: AuthUser): Promise<CustomerImportJobRecord> {
    return this.runner.run(jobId, user);
  }

  /** Row problems and likely duplicates in row order, paged. */
  async errors(job: CustomerImportJobRecord, args: { first?: number | null; after?: string | null }): Promise<ImportErrorPage> {
    const page = await this.runner.errors(job, args);
    return {
      ...page,
      edges: page.edges.map(({ cursor, node }) => {
        const error = node as CustomerImportRowError;
        return { cursor, node: { row: error.row, kind: error.kind ?? 'ERROR', duplicateOfId: error.duplicateOfId ?? null, field: error.field ?? null, message: error.message } };
      }),
    };
  }

  /** Stops taking jobs; running ones stop after their current batch and are left QUEUED for a later `run`. */
  stop(): Promise<void> {
    return this.runner.stop();
  }
}

export type { ImportFormat };
