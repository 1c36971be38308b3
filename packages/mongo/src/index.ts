import mongoose, { type Connection } from 'mongoose';

export type { Connection };

export interface MongoOptions {
  url: string;
  dbName: string;
  /** How long to wait for a server before failing a call; short so readiness reports quickly. */
  serverSelectionTimeoutMS?: number;
}

/**
 * Opens a dedicated connection for one service's database. A connection (not mongoose's global
 * default) keeps each service's models bound to its own database, also inside tests.
 * Works on MongoDB and on FerretDB v1: no transactions or change streams are used anywhere.
 */
export async function connectMongo({ url, dbName, serverSelectionTimeoutMS = 5000 }: MongoOptions): Promise<Connection> {
  const connection = mongoose.createConnection(url, {
    dbName,
    serverSelectionTimeoutMS,
    // FerretDB v1 implements no retryable writes; the outbox makes retries safe instead.
    retryWrites: false,
    autoIndex: true,
    autoCreate: true,
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
