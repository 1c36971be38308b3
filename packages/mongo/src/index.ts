import mongoose, { type Connection } from 'mongoose';

export type { Connection };

/**
 * When a write counts as done. `w: 'majority'` with the journal: a write acknowledged to a caller
 * survives losing the primary (it is on disk on most voting members, so the next primary has it).
 */
export interface MongoWriteConcern {
  /** `majority` or how many members must acknowledge (1 = the primary alone). */
  w: 'majority' | number;
  journal: boolean;
  /** Fail a write not acknowledged in time (it may still be applied); unset: wait. */
  wtimeoutMS?: number;
}

export const DEFAULT_WRITE_CONCERN: MongoWriteConcern = { w: 'majority', journal: true };

export interface MongoOptions {
  url: string;
  dbName: string;
  /** How long to wait for a server before failing a call; short so readiness reports quickly. */
  serverSelectionTimeoutMS?: number;
  /** Every write of the connection; default {@link DEFAULT_WRITE_CONCERN}. */
  writeConcern?: MongoWriteConcern;
}

/**
 * Opens a dedicated connection for one service's database. A connection (not mongoose's global
 * default) keeps each service's models bound to its own database, also inside tests.
 * Works on MongoDB and on FerretDB v1: no transactions or change streams are used anywhere.
 * FerretDB v1 accepts and ignores any write concern (its commands mark `writeConcern` as ignored);
 * a write there is durable once PostgreSQL committed it.
 */
export async function connectMongo({ url, dbName, serverSelectionTimeoutMS = 5000, writeConcern = DEFAULT_WRITE_CONCERN }: MongoOptions): Promise<Connection> {
  const { w, journal, wtimeoutMS } = writeConcern;
  // Unacknowledged writes (w: 0) would make the outbox publish events of writes that may be lost.
  if (w !== 'majority' && !(Number.isInteger(w) && w >= 1)) throw new Error(`MongoDB write concern w must be 'majority' or a positive integer, not ${String(w)}`);
  const connection = mongoose.createConnection(url, {
    dbName,
    serverSelectionTimeoutMS,
    // FerretDB v1 implements no retryable writes; the outbox makes retries safe instead.
    retryWrites: false,
    autoIndex: true,
    autoCreate: true,
    writeConcern: { w, journal, ...(wtimeoutMS ? { wtimeoutMS } : {}) },
  });
  await connection.asPromise();
  return connection;
}

/** True when the server answers a ping within the selection timeout. */
export async function pingMongo(connection: Connection): Promise<boolean> {
  try {
    const db = connection.db;
    if (!db) return false;
    await db.admin().ping();
    return true;
  } catch {
    return false;
  }
}

/** Creates the declared indexes of every model on the connection (autoIndex runs them in the background). */
export async function syncIndexes(connection: Connection): Promise<void> {
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
}

export * from './paginate.js';
export * from './money.js';
export * from './find-by-ids.js';
export { PerKeySerializer } from './serial.js';
export { DUPLICATE_KEY, duplicateKeyIndexes, isDuplicateKey } from './errors.js';
