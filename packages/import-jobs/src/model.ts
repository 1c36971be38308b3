import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { IMPORT_FORMATS, type ImportFormat } from './sheet.js';

export const IMPORT_STATUSES = ['UPLOADING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** Who started the job, as the token said: the rows are created as this user. */
export interface ImportUser {
  id: string;
  username: string;
  roles: string[];
  groups: string[];
}

/**
 * One import job; its file and its row problems live in their own collections. `K` names the extra
 * counters a kind of import keeps next to created/skipped/failed (customers: `duplicates`).
 */
export type ImportJobRecord<K extends string = never> = BaseImportJobRecord & { [P in K]: number };

export interface BaseImportJobRecord {
  _id: Types.ObjectId;
  filename: string;
  format: ImportFormat;
  sizeBytes: number;
  /** SHA-256 of the whole file (hex): checked before running, and a seed for deterministic row ids. */
  sha256: string;
  status: ImportStatus;
  /** Rows in the file (data and malformed rows), once counted. */
  total: number | null;
  /** Rows processed so far, in file order: also the checkpoint a resumed job continues after. */
  done: number;
  created: number;
  skipped: number;
  failed: number;
  /** Problems stored in the errors collection, and the batches that have a page there. */
  errorCount: number;
  errorBatches: number[];
  unknownColumns: string[];
  failureReason: string | null;
  createdBy: ImportUser;
  /** The process holding the job (queued or running) and when it last said so; stale means resumable. */
  runnerId: string | null;
  heartbeatAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Part of an uploaded file: `_id` is `${jobId}:${index}`, read back one by one by `_id` (FerretDB pushes only that down). */
export interface ImportChunkRecord {
  _id: string;
  jobId: Types.ObjectId;
  index: number;
  data: Buffer;
  size: number;
  createdAt: Date;
}

/**
 * One problem with one row (or with the header row). A kind of import may add fields of its own
 * (customers: `kind`, `duplicateOfId`); they are stored and paged as given.
 */
export interface ImportRowError {
  /** Row number as a spreadsheet shows it (the header is row 1). */
  row: number;
  /** The column the problem is about; null for the row as a whole. */
  field: string | null;
  message: string;
  [extra: string]: unknown;
}

/** The problems of one batch of rows: `_id` is `${jobId}:${batch}`; rewriting a batch replaces its page. */
export interface ImportErrorPageRecord {
  _id: string;
  jobId: Types.ObjectId;
  batch: number;
  problems: ImportRowError[];
}

export interface ImportJobModels<K extends string = never> {
  jobs: Model<ImportJobRecord<K>>;
  chunks: Model<ImportChunkRecord>;
  errors: Model<ImportErrorPageRecord>;
  /** The extra counters of this kind of import. */
  counters: readonly K[];
}

export interface ImportJobModelOptions<K extends string> {
  /** Model names are `<name>Job`, `<name>Chunk`, `<name>ErrorPage` (e.g. `CustomerImport`). */
  name: string;
  /** Collections `<collection>s`, `<collection>_chunks`, `<collection>_errors` (e.g. `customer_import`). */
  collection: string;
  counters?: readonly K[];
}

const importUserSchema = new Schema<ImportUser>({ id: String, username: String, roles: [String], groups: [String] }, { _id: false });

/** The three collections of one kind of import job, on a service's connection. */
export function importJobModels<K extends string = never>(connection: Connection, { name, collection, counters = [] }: ImportJobModelOptions<K>): ImportJobModels<K> {
  const jobSchema = new Schema(
    {
      filename: { type: String, required: true },
      format: { type: String, enum: IMPORT_FORMATS, required: true },
      sizeBytes: { type: Number, required: true },
      sha256: { type: String, required: true },
      status: { type: String, enum: IMPORT_STATUSES, required: true },
      total: { type: Number, default: null },
      done: { type: Number, default: 0 },
      created: { type: Number, default: 0 },
      skipped: { type: Number, default: 0 },
      failed: { type: Number, default: 0 },
      ...Object.fromEntries(counters.map((counter) => [counter, { type: Number, default: 0 }])),
      errorCount: { type: Number, default: 0 },
      errorBatches: { type: [Number], default: [] },
      unknownColumns: { type: [String], default: [] },
      failureReason: { type: String, default: null },
      createdBy: { type: importUserSchema, required: true },
      runnerId: { type: String, default: null },
      heartbeatAt: { type: Date, default: null },
      startedAt: { type: Date, default: null },
      finishedAt: { type: Date, default: null },
    },
    { collection: `${collection}s`, timestamps: true },
  );
  jobSchema.index({ 'createdBy.id': 1, createdAt: -1 });

  const chunkSchema = new Schema<ImportChunkRecord>(
    {
      _id: { type: String, required: true },
      jobId: { type: Schema.Types.ObjectId, required: true },
      index: { type: Number, required: true },
      data: { type: Buffer, required: true },
      size: { type: Number, required: true },
      createdAt: { type: Date, required: true },
    },
    { collection: `${collection}_chunks` },
  );
  chunkSchema.index({ jobId: 1 });

  const errorPageSchema = new Schema(
    {
      _id: { type: String, required: true },
      jobId: { type: Schema.Types.ObjectId, required: true },
      batch: { type: Number, required: true },
      // Written and read with the driver (as stored), so each kind keeps its own problem fields.
      problems: { type: Array, default: [] },
    },
    { collection: `${collection}_errors` },
  );

  return {
    jobs: connection.model(`${name}Job`, jobSchema) as unknown as Model<ImportJobRecord<K>>,
    chunks: connection.model<ImportChunkRecord>(`${name}Chunk`, chunkSchema),
    errors: connection.model(`${name}ErrorPage`, errorPageSchema) as unknown as Model<ImportErrorPageRecord>,
    counters,
  };
}
