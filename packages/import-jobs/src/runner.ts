import { createHash, randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { z } from 'zod';
import { Role, type AuthUser } from '@crm/auth';
import { fieldProblems, type ExceptionClass } from '@crm/errors';
import type { OutboxRelay } from '@crm/events';
import type { Logger } from '@crm/logger';
import { PerKeySerializer } from '@crm/mongo';
import type { ImportJobModels, ImportJobRecord, ImportRowError, ImportUser } from './model.js';
import { countRows, IMPORT_FORMATS, ImportFileError, readSheet, type RowValues, type SheetItem, type SheetSpec } from './sheet.js';

export const MAX_CHUNK_BYTES = 1024 * 1024;
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
export const MAX_CHUNKS = 100_000;
export const MAX_ERROR_PAGE_SIZE = 500;
const OBJECT_ID = /^[0-9a-f]{24}$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ERROR_CURSOR_PREFIX = 'ie1:';

/** The reasons every kind of import job raises; each module maps them in its own `defineException`. */
export type ImportJobReason = 'IMPORT_NOT_FOUND' | 'IMPORT_INVALID_INPUT' | 'IMPORT_FORBIDDEN' | 'IMPORT_NOT_UPLOADING';
/** The GraphQL codes of {@link ImportJobReason}, for a module's `defineException`. */
export const IMPORT_JOB_ERROR_CODES = {
  IMPORT_NOT_FOUND: 'NOT_FOUND',
  IMPORT_INVALID_INPUT: 'BAD_USER_INPUT',
  IMPORT_FORBIDDEN: 'FORBIDDEN',
  IMPORT_NOT_UPLOADING: 'CONFLICT',
} as const;

export const startImportInput = z.object({
  filename: z.string().trim().min(1, 'Required').max(255, 'At most 255 characters'),
  format: z.enum(IMPORT_FORMATS, `One of ${IMPORT_FORMATS.join(', ')}`),
  sizeBytes: z.number().int().min(1, 'The file is empty').max(MAX_FILE_BYTES, `At most ${MAX_FILE_BYTES} bytes (256 MiB)`),
  sha256: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[0-9a-f]{64}$/, 'The SHA-256 of the file: 64 hex characters'),
});
export type StartImportInput = z.input<typeof startImportInput>;

/** One data row of the file, for the kind of import to store. */
export interface ImportRow<C extends string> {
  row: number;
  values: RowValues<C>;
}

/** What storing one batch of data rows achieved (malformed rows and header problems are the runner's). */
export interface BatchOutcome<K extends string = never> {
  created: number;
  skipped: number;
  failed: number;
  /** The kind's extra counters (see `ImportJobModels.counters`). */
  counters?: Partial<Record<K, number>>;
  /** Problems with these rows (any order: the runner sorts them by row). */
  errors: ImportRowError[];
}

export interface ImportJobRunnerOptions<C extends string, K extends string, Ctx> {
  models: ImportJobModels<K>;
  sheet: SheetSpec<C>;
  logger: Logger;
  /** The module's exception (reasons mapped with {@link IMPORT_JOB_ERROR_CODES}). */
  exception: ExceptionClass<ImportJobReason>;
  /** Who may start, upload and run jobs (FORBIDDEN otherwise, with `forbiddenMessage`). */
  canImport: (user: AuthUser) => boolean;
  forbiddenMessage: string;
  /** Once per run of a job, before its rows (e.g. an index of records already there). */
  prepare?: (job: ImportJobRecord<K>) => Promise<Ctx>;
  /**
   * Stores one batch of data rows, as the job's creator (`job.createdBy`). Must be idempotent: a
   * resumed job hands over again the rows of a batch whose result was not yet stored (ids derived from
   * the file or the row's natural key make a second insert a skip).
   */
  importRows: (rows: Array<ImportRow<C>>, job: ImportJobRecord<K>, context: Ctx) => Promise<BatchOutcome<K>>;
  /** Rows per `importRows` call (one progress update each). */
  batchSize?: number;
  /** Jobs this process runs at once; more wait as QUEUED. */
  parallelJobs?: number;
  /** Batches of one job stored at once (the next is read and validated while the database stores the last). */
  pipelineDepth?: number;
  /** A job whose runner has not reported for this long may be taken over by `run`. */
  staleAfterMs?: number;
  heartbeatMs?: number;
  /**
   * The service's outbox relay. Its poller is paused while jobs run: on FerretDB (SQLite, one writer
   * per database) its event removals and the import's inserts slow each other down many times over.
   * The imported records' events wait in their documents and are published once the jobs are done.
   */
  relay?: OutboxRelay;
}

export interface ImportErrorPage {
  edges: Array<{ cursor: string; node: ImportRowError }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/** An id derived from a seed (e.g. file hash and row, or a natural key): the same input, the same id. */
export function derivedRowId(seed: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(seed).digest().subarray(0, 12));
}

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  const binary = data as { buffer: Uint8Array; position?: number };
  return Buffer.from(binary.buffer.buffer, binary.buffer.byteOffset, binary.position ?? binary.buffer.byteLength);
}

class Interrupted extends Error {}

/**
 * Runs bulk imports of one kind as background jobs. The file arrives in chunks (at most 1 MiB each,
 * re-uploading an index replaces it), is checked against its announced size and SHA-256, then read as
 * a stream (CSV or XLSX) in batches handed to `importRows`. Progress, counts and the batch checkpoint
 * are stored on the job after every batch; row problems go to the errors collection, a page per batch.
 * `run` is idempotent: a completed job stays as it is, a failed or interrupted one resumes after its
 * last stored batch, and a job held by a process that stopped reporting is taken over.
 */
export class ImportJobRunner<C extends string, K extends string = never, Ctx = undefined> {
  private readonly instanceId = randomUUID();
  private readonly models: ImportJobModels<K>;
  private readonly logger: Logger;
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

  constructor(private readonly options: ImportJobRunnerOptions<C, K, Ctx>) {
    this.models = options.models;
    this.logger = options.logger;
    this.batchSize = options.batchSize ?? 1000;
    this.parallelJobs = options.parallelJobs ?? 2;
    this.pipelineDepth = options.pipelineDepth ?? 2;
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
    this.heartbeatMs = options.heartbeatMs ?? 5_000;
    this.relay = options.relay;
    // The connection closing (service stopping) ends running jobs after their current batch.
    this.models.jobs.db.on('close', () => {
      this.stopping = true;
    });
  }

  private invalid(field: string, message: string): never {
    throw new this.options.exception('IMPORT_INVALID_INPUT', 'Invalid import', [{ field, message }]);
  }

  /** Job updates, one per job at a time from this process (FerretDB v1 loses concurrent updates: see @crm/mongo). */
  private updateJob(filter: { _id: Types.ObjectId } & Record<string, unknown>, update: Record<string, unknown>) {
    return this.jobWrites.run(filter._id.toHexString(), () => this.models.jobs.collection.updateOne(filter as never, update));
  }

  private requireImporter(user: AuthUser): void {
    if (!this.options.canImport(user)) throw new this.options.exception('IMPORT_FORBIDDEN', this.options.forbiddenMessage);
  }

  /** A job the caller may see: its creator's and, for admins, every one. */
  async get(id: string, user: AuthUser): Promise<ImportJobRecord<K>> {
    const job = OBJECT_ID.test(id) ? await this.models.jobs.findOne({ _id: new Types.ObjectId(id) }).lean<ImportJobRecord<K>>().exec() : null;
    if (!job || (job.createdBy.id !== user.id && !user.roles.includes(Role.ADMIN))) {
      throw new this.options.exception('IMPORT_NOT_FOUND', `No import job ${id}`);
    }
    return job;
  }

  async start(input: StartImportInput, user: AuthUser): Promise<ImportJobRecord<K>> {
    this.requireImporter(user);
    const parsed = startImportInput.safeParse(input);
    if (!parsed.success) throw new this.options.exception('IMPORT_INVALID_INPUT', 'Invalid import', fieldProblems(parsed.error.issues));
    const now = new Date();
    const createdBy: ImportUser = { id: user.id, username: user.username, roles: [...user.roles], groups: [...user.groups] };
    const job = {
      _id: new Types.ObjectId(),
      ...parsed.data,
      status: 'UPLOADING',
      total: null,
      done: 0,
      created: 0,
      skipped: 0,
      failed: 0,
      ...Object.fromEntries(this.models.counters.map((counter) => [counter, 0])),
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
    } as ImportJobRecord<K>;
    await this.models.jobs.collection.insertOne(job as never);
    return job;
  }

  /** Stores one chunk (at most 1 MiB); uploading the same index again replaces it, so retries are safe. */
  async uploadChunk(jobId: string, index: number, dataBase64: string, user: AuthUser): Promise<ImportJobRecord<K>> {
    this.requireImporter(user);
    const job = await this.get(jobId, user);
    if (job.status !== 'UPLOADING') throw new this.options.exception('IMPORT_NOT_UPLOADING', `Import ${jobId} is ${job.status}: its file can no longer change`);
    if (!Number.isInteger(index) || index < 0 || index >= MAX_CHUNKS) this.invalid('index', `0 to ${MAX_CHUNKS - 1}`);
    if (dataBase64.length > Math.ceil(MAX_CHUNK_BYTES / 3) * 4) this.invalid('dataBase64', `At most ${MAX_CHUNK_BYTES} bytes (1 MiB) per chunk`);
    if (dataBase64.length === 0 || !BASE64.test(dataBase64)) this.invalid('dataBase64', 'Not base64 (RFC 4648, with padding)');
    const data = Buffer.from(dataBase64, 'base64');
    if (data.length > MAX_CHUNK_BYTES) this.invalid('dataBase64', `At most ${MAX_CHUNK_BYTES} bytes (1 MiB) per chunk`);
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
  private async verifyUpload(job: ImportJobRecord<K>): Promise<void> {
    const hash = createHash('sha256');
    let size = 0;
    let chunks = 0;
    for await (const chunk of this.fileOf(job._id)) {
      hash.update(chunk);
      size += chunk.length;
      chunks += 1;
      if (size > job.sizeBytes) this.invalid('sizeBytes', `The chunks hold more than the announced ${job.sizeBytes} bytes`);
    }
    if (size < job.sizeBytes) this.invalid('sizeBytes', `Upload incomplete: ${size} of ${job.sizeBytes} bytes received (chunk ${chunks} is missing)`);
    if (hash.digest('hex') !== job.sha256) this.invalid('sha256', 'The uploaded file does not have the announced SHA-256');
  }

  /**
   * Starts (or resumes) processing in the background and returns at once. Running a completed job
   * again changes nothing; a failed or interrupted job continues after its last stored batch.
   */
  async run(jobId: string, user: AuthUser): Promise<ImportJobRecord<K>> {
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
    const job = await this.models.jobs.findOne(mine).lean<ImportJobRecord<K>>().exec();
    if (!job) return;
    const log = this.logger.child({ importJobId: id });
    try {
      await this.updateJob(mine, { $set: { status: 'RUNNING', startedAt: job.startedAt ?? new Date(), heartbeatAt: new Date() } });
      if (job.total === null) {
        const counted = await countRows(this.fileOf(job._id), job.format, this.options.sheet);
        job.total = counted.rows;
        job.unknownColumns = counted.unknownColumns;
        await this.updateJob(mine, { $set: { total: job.total, unknownColumns: job.unknownColumns } });
      }
      log.info({ total: job.total, resumeAfter: job.done }, 'import running');
      const state = await this.withRelayPaused(() => this.importFile(job, mine));
      await this.updateJob(mine, { $set: { ...state, total: state.done, status: 'COMPLETED', finishedAt: new Date(), runnerId: null, heartbeatAt: null } });
      await this.models.chunks.collection.deleteMany({ jobId: job._id });
      log.info({ done: state.done, created: state.created, skipped: state.skipped, failed: state.failed }, 'import completed');
    } catch (error) {
      if (error instanceof Interrupted || this.stopping) {
        log.info('import interrupted; running it again resumes it');
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
    // The import does not wait for the pause: the poll under way ends after its current batch, which
    // on FerretDB after a large import (a scan plus a hundred removals) took over 30 s on a busy machine.
    if (this.relayHolds === 1) this.relayPaused = this.relay.stop({ flush: false });
    try {
      return await work();
    } finally {
      this.relayHolds -= 1;
      // Started again only once that poll has ended, so two polls never run at once.
      await this.relayPaused;
      if (this.relayHolds === 0 && !this.stopping) this.relay.start();
    }
  }

  /** Reads the file once, skipping rows a previous run already stored, and imports the rest batch by batch. */
  private async importFile(job: ImportJobRecord<K>, mine: { _id: Types.ObjectId; runnerId: string }) {
    const counters = this.models.counters;
    const state = {
      done: job.done,
      created: job.created,
      skipped: job.skipped,
      failed: job.failed,
      errorCount: job.errorCount,
      errorBatches: [...job.errorBatches],
    };
    const extra: Record<string, number> = Object.fromEntries(counters.map((counter) => [counter, Number((job as Record<string, unknown>)[counter] ?? 0)]));
    const context = (this.options.prepare ? await this.options.prepare(job) : undefined) as Ctx;
    let batchNo = Math.floor(job.done / this.batchSize);
    type Item = Exclude<SheetItem<C>, { kind: 'header' }>;
    let batch: Item[] = [];
    let seen = 0;
    let headerErrors: ImportRowError[] = [];
    type Outcome = { items: number; created: number; skipped: number; failed: number; counters: Record<string, number>; errors: ImportRowError[] };
    // Batches are stored while the next ones are read and validated (the database works while this
    // process parses); their results are stored strictly in file order, so `done` is always a
    // checkpoint after which every row is still to be imported.
    const queue: Array<{ number: number; outcome: Promise<Outcome> }> = [];

    const insert = async (items: Item[], headerProblems: ImportRowError[]): Promise<Outcome> => {
      const rows = items.filter((item): item is Extract<Item, { kind: 'row' }> => item.kind === 'row');
      const result: BatchOutcome<K> = rows.length > 0 ? await this.options.importRows(rows.map(({ row, values }) => ({ row, values })), job, context) : { created: 0, skipped: 0, failed: 0, errors: [] };
      const errors: ImportRowError[] = [...headerProblems, ...result.errors];
      for (const item of items) if (item.kind === 'malformed') errors.push({ row: item.row, field: null, message: item.message });
      errors.sort((a, b) => a.row - b.row);
      return {
        items: items.length,
        created: result.created,
        skipped: result.skipped,
        failed: result.failed + (items.length - rows.length),
        counters: Object.fromEntries(counters.map((counter) => [counter, (result.counters as Record<string, number> | undefined)?.[counter] ?? 0])),
        errors,
      };
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
      for (const counter of counters) extra[counter] = (extra[counter] ?? 0) + (outcome.counters[counter] ?? 0);
      state.errorCount += outcome.errors.length;
      const saved = await this.updateJob(mine, { $set: { ...state, ...extra, heartbeatAt: new Date() } });
      // Another process took the job over (this one was presumed dead): stop without writing more.
      if (saved.matchedCount === 0) throw new Interrupted('import job taken over');
    };
    const commitOldest = async () => {
      const next = queue.shift()!;
      await commit(next.number, await next.outcome);
    };
    const schedule = async (items: Item[], headerProblems: ImportRowError[]) => {
      if (this.stopping) throw new Interrupted('stopping');
      while (queue.length >= this.pipelineDepth) await commitOldest();
      const outcome = insert(items, headerProblems);
      outcome.catch(() => undefined);
      queue.push({ number: batchNo, outcome });
      batchNo += 1;
    };

    try {
      for await (const item of readSheet(this.fileOf(job._id), job.format, this.options.sheet)) {
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
    return { ...state, ...extra };
  }

  /** Row problems in row order, paged (`first` 1 to 500). */
  async errors(job: ImportJobRecord<K>, { first, after }: { first?: number | null; after?: string | null }): Promise<ImportErrorPage> {
    const size = first ?? 50;
    if (!Number.isInteger(size) || size < 1 || size > MAX_ERROR_PAGE_SIZE) this.invalid('first', `Must be 1 to ${MAX_ERROR_PAGE_SIZE}`);
    let from = { batch: -1, offset: -1 };
    if (after) {
      const match = /^ie1:(\d+):(\d+)$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
      if (!match) this.invalid('after', 'Not a cursor of this list');
      from = { batch: Number(match[1]), offset: Number(match[2]) };
    }
    const cursor = (batch: number, offset: number) => Buffer.from(`${ERROR_CURSOR_PREFIX}${batch}:${offset}`).toString('base64url');
    const edges: ImportErrorPage['edges'] = [];
    const batches = [...new Set(job.errorBatches)].sort((a, b) => a - b).filter((batch) => batch >= from.batch);
    for (const batch of batches) {
      const page = await this.models.errors.collection.findOne({ _id: `${job._id.toHexString()}:${batch}` } as never);
      const errors = (page?.problems ?? []) as ImportRowError[];
      errors.forEach((error, offset) => {
        if (batch > from.batch || (batch === from.batch && offset > from.offset)) edges.push({ cursor: cursor(batch, offset), node: { ...error, field: error.field ?? null } });
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
