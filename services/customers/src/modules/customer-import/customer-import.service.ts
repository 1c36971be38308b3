import { createHash, randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { z } from 'zod';
import { Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import type { OutboxRelay } from '@crm/events';
import type { Logger } from '@crm/logger';
import { PerKeySerializer } from '@crm/mongo';
import { canWrite } from '../customer/customer.access.js';
import type { CustomerService, DuplicateReason } from '../customer/customer.service.js';
import { CustomerImportException } from './customer-import.errors.js';
import type { CustomerImportJobRecord, CustomerImportModels, CustomerImportRowError, ImportProblemKind, ImportUser } from './customer-import.model.js';
import { columnOf, countRows, IMPORT_FORMATS, ImportFileError, readSheet, toCustomerInput, type ImportFormat, type SheetItem } from './customer-import.parse.js';

export const MAX_CHUNK_BYTES = 1024 * 1024;
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
export const MAX_CHUNKS = 100_000;
export const MAX_ERROR_PAGE_SIZE = 500;
const OBJECT_ID = /^[0-9a-f]{24}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ERROR_CURSOR_PREFIX = 'ie1:';

export const startCustomerImportInput = z.object({
  filename: z.string().trim().min(1, 'Required').max(255, 'At most 255 characters'),
  format: z.enum(IMPORT_FORMATS, `One of ${IMPORT_FORMATS.join(', ')}`),
  sizeBytes: z.number().int().min(1, 'The file is empty').max(MAX_FILE_BYTES, `At most ${MAX_FILE_BYTES} bytes (256 MiB)`),
  sha256: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[0-9a-f]{64}$/, 'The SHA-256 of the file: 64 hex characters'),
});
export type StartCustomerImportInput = z.input<typeof startCustomerImportInput>;

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

const invalid = (field: string, message: string): never => {
  throw new CustomerImportException('IMPORT_INVALID_INPUT', 'Invalid import', [{ field, message }]);
};

/** The customer id of one row of one file: the same file content always yields the same ids (re-runs skip). */
export function rowCustomerId(sha256: string, row: number): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(`${sha256}:${row}`).digest().subarray(0, 12));
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  const binary = data as { buffer: Uint8Array; position?: number };
  return Buffer.from(binary.buffer.buffer, binary.buffer.byteOffset, binary.position ?? binary.buffer.byteLength);
}

class Interrupted extends Error {}

/** The column a likely-duplicate note points at, and how its reason reads. */
const DUPLICATE_COLUMN: Record<DuplicateReason, string> = { SAME_PHONE: 'phone', SAME_EMAIL: 'email', SAME_IDENTITY_NUMBER: 'id_number', SIMILAR_NAME_SAME_ORGANIZATION: 'name' };
const DUPLICATE_WORDS: Record<DuplicateReason, string> = {
  SAME_PHONE: 'same phone',
  SAME_EMAIL: 'same email',
  SAME_IDENTITY_NUMBER: 'same identity number',
  SIMILAR_NAME_SAME_ORGANIZATION: 'same name and organisation',
};

/**
 * Imports customers from an uploaded CSV or XLSX file as a background job (CUS-5). The file arrives
 * in chunks (`customer_import_chunks`), is checked against its announced size and SHA-256, then read
 * as a stream in batches handed to `CustomerService.createMany`. Progress, counts and the batch
 * checkpoint are stored on the job after every batch; row problems go to `customer_import_errors`.
 * Every row's customer id derives from the file hash and row number, so running a job again, resuming
 * it, or importing the same file twice never creates a customer twice.
 */
export class CustomerImportService {
  private readonly instanceId = randomUUID();
  private readonly batchSize: number;
  private readonly parallelJobs: number;
  private readonly pipelineDepth: number;
  private readonly staleAfterMs: number;
  private readonly heartbeatMs: number;
  /** Jobs this process holds, queued or running. */
  private readonly held = new Set<string>();
  private readonly waiting: string[] = [];
  private readonly tasks = new Set<Promise<void>>();
  private heartbeat: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly relay: OutboxRelay | undefined;
  private relayHolds = 0;
  private relayPaused: Promise<void> = Promise.resolve();
  private readonly jobWrites = new PerKeySerializer();

  constructor(
    private readonly models: CustomerImportModels,
    private readonly customers: CustomerService,
    private readonly logger: Logger,
    options: CustomerImportOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1000;
    this.parallelJobs = options.parallelJobs ?? 2;
    this.pipelineDepth = options.pipelineDepth ?? 2;
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.relay = options.relay;
    // The connection closing (service stopping) ends running jobs after their current batch.
    models.jobs.db.on('close', () => {
      this.stopping = true;
    });
  }

  /** Job updates, one per job at a time from this process (FerretDB v1 loses concurrent updates: see @crm/mongo). */
  private updateJob(filter: { _id: Types.ObjectId } & Record<string, unknown>, update: Record<string, unknown>) {
    return this.jobWrites.run(filter._id.toHexString(), () => this.models.jobs.collection.updateOne(filter as never, update));
  }

  private requireImporter(user: AuthUser): void {
    if (!canWrite(user)) throw new CustomerImportException('IMPORT_FORBIDDEN', 'Only sales staff and admins import customers');
  }

  /** A job the caller may see: its creator's and, for admins, every one. */
  async get(id: string, user: AuthUser): Promise<CustomerImportJobRecord> {
    const job = OBJECT_ID.test(id) ? await this.models.jobs.findOne({ _id: new Types.ObjectId(id) }).lean<CustomerImportJobRecord>().exec() : null;
    if (!job || (job.createdBy.id !== user.id && !user.roles.includes(Role.ADMIN))) {
      throw new CustomerImportException('IMPORT_NOT_FOUND', `No import job ${id}`);
    }
    return job;
  }

  async start(input: StartCustomerImportInput, user: AuthUser): Promise<CustomerImportJobRecord> {
    this.requireImporter(user);
    const parsed = startCustomerImportInput.safeParse(input);
    if (!parsed.success) throw new CustomerImportException('IMPORT_INVALID_INPUT', 'Invalid import', fieldProblems(parsed.error.issues));
    const now = new Date();
    const createdBy: ImportUser = { id: user.id, username: user.username, roles: [...user.roles], groups: [...user.groups] };
    const job: CustomerImportJobRecord = {
      _id: new Types.ObjectId(),
      ...parsed.data,
      status: 'UPLOADING',
      total: null,
      done: 0,
      created: 0,
      skipped: 0,
      failed: 0,
      duplicates: 0,
      errorCount: 0,
      errorBatches: [],
      unknownColumns: [],
      failureReason: null,
      createdBy,
      runnerId: null,
      heartbeatAt: null,
      startedAt: null,
      finishedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.models.jobs.collection.insertOne(job as never);
    return job;
  }

  /** Stores one chunk (at most 1 MiB); uploading the same index again replaces it, so retries are safe. */
  async uploadChunk(jobId: string, index: number, dataBase64: string, user: AuthUser): Promise<CustomerImportJobRecord> {
    this.requireImporter(user);
    const job = await this.get(jobId, user);
    if (job.status !== 'UPLOADING') throw new CustomerImportException('IMPORT_NOT_UPLOADING', `Import ${jobId} is ${job.status}: its file can no longer change`);
    if (!Number.isInteger(index) || index < 0 || index >= MAX_CHUNKS) invalid('index', `0 to ${MAX_CHUNKS - 1}`);
    if (dataBase64.length > Math.ceil(MAX_CHUNK_BYTES / 3) * 4) invalid('dataBase64', `At most ${MAX_CHUNK_BYTES} bytes (1 MiB) per chunk`);
    if (dataBase64.length === 0 || !BASE64.test(dataBase64)) invalid('dataBase64', 'Not base64 (RFC 4648, with padding)');
    const data = Buffer.from(dataBase64, 'base64');
    if (data.length > MAX_CHUNK_BYTES) invalid('dataBase64', `At most ${MAX_CHUNK_BYTES} bytes (1 MiB) per chunk`);
    await this.models.chunks.collection.replaceOne(
      { _id: `${job._id.toHexString()}:${index}` } as never,
      { jobId: job._id, index, data, size: data.length, createdAt: new Date() } as never,
      { upsert: true },
    );
    return job;
  }

  /** The uploaded file, chunk after chunk in index order, reading one chunk ahead. */
  private async *fileOf(jobId: Types.ObjectId): AsyncGenerator<Buffer> {
    const read = (index: number) =>
      this.models.chunks.collection.findOne({ _id: `${jobId.toHexString()}:${index}` } as never).then((chunk) => (chunk ? toBuffer(chunk.data) : null));
    let next = read(0);
    for (let index = 0; ; index += 1) {
      const current = await next;
      if (!current) return;
      next = read(index + 1);
      next.catch(() => undefined);
      yield current;
    }
  }

  /** The upload is complete and intact: every chunk from 0 on, the announced size and hash. */
  private async verifyUpload(job: CustomerImportJobRecord): Promise<void> {
    const hash = createHash('sha256');
    let size = 0;
    let chunks = 0;
    for await (const chunk of this.fileOf(job._id)) {
      hash.update(chunk);
      size += chunk.length;
      chunks += 1;
      if (size > job.sizeBytes) invalid('sizeBytes', `The chunks hold more than the announced ${job.sizeBytes} bytes`);
    }
    if (size < job.sizeBytes) invalid('sizeBytes', `Upload incomplete: ${size} of ${job.sizeBytes} bytes received (chunk ${chunks} is missing)`);
    if (hash.digest('hex') !== job.sha256) invalid('sha256', 'The uploaded file does not have the announced SHA-256');
  }

  /**
   * Starts (or resumes) processing in the background and returns at once. Running a completed job
   * again changes nothing; a failed or interrupted job continues after its last stored batch.
   */
  async run(jobId: string, user: AuthUser): Promise<CustomerImportJobRecord> {
    this.requireImporter(user);
    const job = await this.get(jobId, user);
    const id = job._id.toHexString();
    const now = new Date();
    const claim = { status: 'QUEUED', runnerId: this.instanceId, heartbeatAt: now, failureReason: null, finishedAt: null };
    let claimed = false;
    if (job.status === 'UPLOADING') {
      await this.verifyUpload(job);
      claimed = (await this.updateJob({ _id: job._id, status: 'UPLOADING' }, { $set: claim })).modifiedCount === 1;
    } else if (job.status === 'FAILED') {
      claimed = (await this.updateJob({ _id: job._id, status: 'FAILED', finishedAt: job.finishedAt }, { $set: claim })).modifiedCount === 1;
    } else if ((job.status === 'QUEUED' || job.status === 'RUNNING') && !this.held.has(id)) {
      // Held by another process: taken over only when that one stopped reporting (e.g. it was restarted).
      const stale = !job.runnerId || !job.heartbeatAt || now.getTime() - job.heartbeatAt.getTime() > this.staleAfterMs;
      if (stale) {
        claimed =
          (await this.updateJob({ _id: job._id, status: job.status, runnerId: job.runnerId, heartbeatAt: job.heartbeatAt }, { $set: claim }))
            .modifiedCount === 1;
      }
    }
    if (claimed) this.enqueue(id);
    return this.get(jobId, user);
  }

  private enqueue(id: string): void {
    this.held.add(id);
    this.waiting.push(id);
    this.heartbeat ??= setInterval(() => this.beat(), this.heartbeatMs).unref();
    this.pump();
  }

  private pump(): void {
    while (!this.stopping && this.tasks.size < this.parallelJobs && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      const task: Promise<void> = this.process(id)
        .catch((error: unknown) => this.logger.error({ err: error, importJobId: id }, 'import job crashed'))
        .finally(() => {
          this.tasks.delete(task);
          this.held.delete(id);
          if (this.held.size === 0 && this.heartbeat) {
            clearInterval(this.heartbeat);
            this.heartbeat = undefined;
          }
          this.pump();
        });
      this.tasks.add(task);
    }
  }

  /** Tells other processes this one still holds its jobs. */
  private beat(): void {
    const now = new Date();
    for (const id of this.held) {
      this.updateJob({ _id: new Types.ObjectId(id), runnerId: this.instanceId }, { $set: { heartbeatAt: now } }).catch((error: unknown) => {
        this.logger.warn({ err: error, importJobId: id }, 'import heartbeat failed');
      });
    }
  }

  private async process(id: string): Promise<void> {
    const mine = { _id: new Types.ObjectId(id), runnerId: this.instanceId };
    const job = await this.models.jobs.findOne(mine).lean<CustomerImportJobRecord>().exec();
    if (!job) return;
    const log = this.logger.child({ importJobId: id });
    try {
      await this.updateJob(mine, { $set: { status: 'RUNNING', startedAt: job.startedAt ?? new Date(), heartbeatAt: new Date() } });
      if (job.total === null) {
        const counted = await countRows(this.fileOf(job._id), job.format);
        job.total = counted.rows;
        job.unknownColumns = counted.unknownColumns;
        await this.updateJob(mine, { $set: { total: job.total, unknownColumns: job.unknownColumns } });
      }
      log.info({ total: job.total, resumeAfter: job.done }, 'import running');
      const state = await this.withRelayPaused(() => this.importRows(job, mine));
      await this.updateJob(mine, { $set: { ...state, total: state.done, status: 'COMPLETED', finishedAt: new Date(), runnerId: null, heartbeatAt: null } });
      await this.models.chunks.collection.deleteMany({ jobId: job._id });
      log.info({ done: state.done, created: state.created, skipped: state.skipped, failed: state.failed }, 'import completed');
    } catch (error) {
      if (error instanceof Interrupted || this.stopping) {
        log.info('import interrupted; runCustomerImport resumes it');
        await this.updateJob(mine, { $set: { status: 'QUEUED', runnerId: null, heartbeatAt: null } }).catch(() => undefined);
        return;
      }
      const reason = error instanceof ImportFileError ? error.message : 'The import stopped unexpectedly; run it again to resume';
      if (!(error instanceof ImportFileError)) log.error({ err: error }, 'import failed');
      await this.updateJob(mine, { $set: { status: 'FAILED', failureReason: reason, finishedAt: new Date(), runnerId: null, heartbeatAt: null } });
    }
  }

  /** Runs `work` with the outbox poller stopped (counted: the last job to finish starts it again). */
  private async withRelayPaused<T>(work: () => Promise<T>): Promise<T> {
    if (!this.relay) return work();
    this.relayHolds += 1;
    // Paused, not flushed: a flush would publish a previous import's thousands of events first.
    if (this.relayHolds === 1) this.relayPaused = this.relay.stop({ flush: false });
    try {
      await this.relayPaused;
      return await work();
    } finally {
      this.relayHolds -= 1;
      if (this.relayHolds === 0 && !this.stopping) this.relay.start();
    }
  }

  /** Reads the file once, skipping rows a previous run already stored, and imports the rest batch by batch. */
  private async importRows(job: CustomerImportJobRecord, mine: { _id: Types.ObjectId; runnerId: string }) {
    const state = {
      done: job.done,
      created: job.created,
      skipped: job.skipped,
      failed: job.failed,
      duplicates: job.duplicates ?? 0,
      errorCount: job.errorCount,
      errorBatches: [...job.errorBatches],
    };
    const user = job.createdBy;
    // CUS-6: what the importer's customers look like now, to flag rows that resemble one of them.
    const duplicates = await this.customers.duplicateIndex(user);
    let batchNo = Math.floor(job.done / this.batchSize);
    let batch: Array<Exclude<SheetItem, { kind: 'header' }>> = [];
    let seen = 0;
    let headerErrors: CustomerImportRowError[] = [];
    type Outcome = { items: number; created: number; skipped: number; failed: number; duplicates: number; errors: CustomerImportRowError[] };
    // Batches are inserted while the next ones are read and validated (the database works while this
    // process parses); their results are stored strictly in file order, so `done` is always a
    // checkpoint after which every row is still to be imported.
    const queue: Array<{ number: number; outcome: Promise<Outcome> }> = [];

    const insert = async (items: typeof batch, extra: CustomerImportRowError[]): Promise<Outcome> => {
      const rows = items.filter((item) => item.kind === 'row');
      const results =
        rows.length > 0 ? await this.customers.createMany(rows.map((r) => ({ id: rowCustomerId(job.sha256, r.row), input: toCustomerInput(r.values) })), user, { duplicates }) : [];
      const outcome: Outcome = { items: items.length, created: 0, skipped: 0, failed: items.length - rows.length, duplicates: 0, errors: [...extra] };
      for (const item of items) if (item.kind === 'malformed') outcome.errors.push({ row: item.row, field: null, message: item.message });
      results.forEach((result, i) => {
        const row = rows[i]!;
        if (result.status === 'CREATED') {
          outcome.created += 1;
          if (result.likelyDuplicates?.length) outcome.duplicates += 1;
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
      outcome.errors.sort((a, b) => a.row - b.row);
      return outcome;
    };
    const commit = async (number: number, outcome: Outcome) => {
      if (outcome.errors.length > 0) {
        const _id = `${job._id.toHexString()}:${number}`;
        await this.models.errors.collection.replaceOne({ _id } as never, { jobId: job._id, batch: number, problems: outcome.errors } as never, { upsert: true });
        if (!state.errorBatches.includes(number)) state.errorBatches.push(number);
      }
      state.done += outcome.items;
      state.created += outcome.created;
      state.skipped += outcome.skipped;
      state.failed += outcome.failed;
      state.duplicates += outcome.duplicates;
      state.errorCount += outcome.errors.length;
      const saved = await this.updateJob(mine, { $set: { ...state, heartbeatAt: new Date() } });
      // Another process took the job over (this one was presumed dead): stop without writing more.
      if (saved.matchedCount === 0) throw new Interrupted('import job taken over');
    };
    const commitOldest = async () => {
      const next = queue.shift()!;
      await commit(next.number, await next.outcome);
    };
    const schedule = async (items: typeof batch, extra: CustomerImportRowError[]) => {
      if (this.stopping) throw new Interrupted('stopping');
      while (queue.length >= this.pipelineDepth) await commitOldest();
      const outcome = insert(items, extra);
      outcome.catch(() => undefined);
      queue.push({ number: batchNo, outcome });
      batchNo += 1;
    };

    try {
      for await (const item of readSheet(this.fileOf(job._id), job.format)) {
        if (item.kind === 'header') {
          // Reported once, with the first batch.
          headerErrors = item.unknownColumns.map((column) => ({ row: item.row, field: column, message: 'Unknown column: ignored' }));
          continue;
        }
        seen += 1;
        if (seen <= job.done) continue;
        batch.push(item);
        if (batch.length === this.batchSize) {
          await schedule(batch, job.done === 0 && batchNo === 0 ? headerErrors : []);
          batch = [];
        }
      }
      if (batch.length > 0 || (job.done === 0 && batchNo === 0 && headerErrors.length > 0)) {
        await schedule(batch, job.done === 0 && batchNo === 0 ? headerErrors : []);
      }
      while (queue.length > 0) await commitOldest();
    } catch (error) {
      // Store what the batches under way achieved, in order, before the job is marked.
      try {
        while (queue.length > 0) await commitOldest();
      } catch {
        // the first error is the one reported
      }
      throw error;
    }
    return state;
  }

  /** Row problems in row order, paged. */
  async errors(job: CustomerImportJobRecord, { first, after }: { first?: number | null; after?: string | null }): Promise<ImportErrorPage> {
    const size = first ?? 50;
    if (!Number.isInteger(size) || size < 1 || size > MAX_ERROR_PAGE_SIZE) invalid('first', `Must be 1 to ${MAX_ERROR_PAGE_SIZE}`);
    let from = { batch: -1, offset: -1 };
    if (after) {
      const match = /^ie1:(\d+):(\d+)$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
      if (!match) invalid('after', 'Not a cursor of this list');
      from = { batch: Number(match![1]), offset: Number(match![2]) };
    }
    const cursor = (batch: number, offset: number) => Buffer.from(`${ERROR_CURSOR_PREFIX}${batch}:${offset}`).toString('base64url');
    const edges: ImportErrorPage['edges'] = [];
    const batches = [...new Set(job.errorBatches)].sort((a, b) => a - b).filter((batch) => batch >= from.batch);
    for (const batch of batches) {
      const page = await this.models.errors.collection.findOne({ _id: `${job._id.toHexString()}:${batch}` } as never);
      const errors = (page?.problems ?? []) as CustomerImportRowError[];
      errors.forEach((error, offset) => {
        if (batch > from.batch || (batch === from.batch && offset > from.offset)) edges.push({ cursor: cursor(batch, offset), node: { row: error.row, kind: error.kind ?? 'ERROR', duplicateOfId: error.duplicateOfId ?? null, field: error.field ?? null, message: error.message } });
      });
      if (edges.length > size) break;
    }
    const pageEdges = edges.slice(0, size);
    return { edges: pageEdges, pageInfo: { hasNextPage: edges.length > size, endCursor: pageEdges.at(-1)?.cursor ?? null }, totalCount: job.errorCount };
  }

  /** Stops taking jobs; running ones stop after their current batch and are left QUEUED for a later `run`. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await Promise.allSettled([...this.tasks]);
    const left = this.waiting.splice(0);
    await Promise.allSettled(
      left.map((id) => this.updateJob({ _id: new Types.ObjectId(id), runnerId: this.instanceId }, { $set: { runnerId: null, heartbeatAt: null } })),
    );
  }
}

export type { ImportFormat };
