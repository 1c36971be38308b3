import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { IMPORT_FORMATS, type ImportFormat } from './customer-import.parse.js';

export const IMPORT_STATUSES = ['UPLOADING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/** Who started the job, as the token said: the rows are created as this user (owner, department, teams). */
export interface ImportUser {
  id: string;
  username: string;
  roles: string[];
  groups: string[];
}

/** One import job (`customer_imports`); its file and its row errors live in their own collections. */
export interface CustomerImportJobRecord {
  _id: Types.ObjectId;
  filename: string;
  format: ImportFormat;
  sizeBytes: number;
  /** SHA-256 of the whole file (hex): checked before running, and the seed of every row's customer id. */
  sha256: string;
  status: ImportStatus;
  /** Rows in the file (data and malformed rows), once counted. */
  total: number | null;
  /** Rows processed so far, in file order: also the checkpoint a resumed job continues after. */
  done: number;
  created: number;
  skipped: number;
  failed: number;
  /** Rows imported that look like a customer already there (or another row): CUS-6. */
  duplicates: number;
  /** Problems stored in `customer_import_errors`, and the batches that have a page there. */
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
export interface CustomerImportChunkRecord {
  _id: string;
  jobId: Types.ObjectId;
  index: number;
  data: Buffer;
  size: number;
  createdAt: Date;
}

export const IMPORT_PROBLEM_KINDS = ['ERROR', 'LIKELY_DUPLICATE'] as const;
export type ImportProblemKind = (typeof IMPORT_PROBLEM_KINDS)[number];

export interface CustomerImportRowError {
  /** Row number as a spreadsheet shows it (the header is row 1). */
  row: number;
  /** ERROR: the row (or a column) was not imported as given; LIKELY_DUPLICATE: imported, but looks like `duplicateOfId`. Absent = ERROR. */
  kind?: ImportProblemKind;
  duplicateOfId?: string | null;
  /** The column the problem is about; null for the row as a whole. */
  field: string | null;
  message: string;
}

/** The problems of one batch of rows: `_id` is `${jobId}:${batch}`; rewriting a batch replaces its page. */
export interface CustomerImportErrorPageRecord {
  _id: string;
  jobId: Types.ObjectId;
  batch: number;
  problems: CustomerImportRowError[];
}

const importUserSchema = new Schema<ImportUser>({ id: String, username: String, roles: [String], groups: [String] }, { _id: false });

const jobSchema = new Schema<CustomerImportJobRecord>(
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
    duplicates: { type: Number, default: 0 },
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
  { collection: 'customer_imports', timestamps: true },
);
jobSchema.index({ 'createdBy.id': 1, createdAt: -1 });

const chunkSchema = new Schema<CustomerImportChunkRecord>(
  {
    _id: { type: String, required: true },
    jobId: { type: Schema.Types.ObjectId, required: true },
    index: { type: Number, required: true },
    data: { type: Buffer, required: true },
    size: { type: Number, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'customer_import_chunks' },
);
chunkSchema.index({ jobId: 1 });

const errorPageSchema = new Schema<CustomerImportErrorPageRecord>(
  {
    _id: { type: String, required: true },
    jobId: { type: Schema.Types.ObjectId, required: true },
    batch: { type: Number, required: true },
    problems: { type: [new Schema<CustomerImportRowError>({ row: Number, kind: String, duplicateOfId: String, field: String, message: String }, { _id: false })], default: [] },
  },
  { collection: 'customer_import_errors' },
);

export interface CustomerImportModels {
  jobs: Model<CustomerImportJobRecord>;
  chunks: Model<CustomerImportChunkRecord>;
  errors: Model<CustomerImportErrorPageRecord>;
}

export function customerImportModels(connection: Connection): CustomerImportModels {
  return {
    jobs: connection.model<CustomerImportJobRecord>('CustomerImportJob', jobSchema),
    chunks: connection.model<CustomerImportChunkRecord>('CustomerImportChunk', chunkSchema),
    errors: connection.model<CustomerImportErrorPageRecord>('CustomerImportErrorPage', errorPageSchema),
  };
}
