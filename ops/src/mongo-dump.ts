/**
 * Every collection of the service databases to files and back: one Extended JSON (canonical, so
 * ObjectIds, dates and 64-bit numbers survive exactly) document per line, plus the index definitions.
 * Works on MongoDB and on FerretDB alike: plain finds and ordered inserts, no mongodump needed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BSON, MongoClient, type Document } from 'mongodb';

const { EJSON } = BSON;

export interface CollectionSummary {
  documents: number;
  /** sha256 of the collection file, checked before a restore reads it. */
  sha256: string;
}

export type DatabaseSummary = Record<string, CollectionSummary>;

const INSERT_BATCH = 500;

export async function dumpDatabases(url: string, databases: string[], dir: string): Promise<Record<string, DatabaseSummary>> {
  const client = await MongoClient.connect(url);
  try {
    const summary: Record<string, DatabaseSummary> = {};
    for (const name of databases) {
      const db = client.db(name);
      const target = join(dir, 'mongo', name);
      mkdirSync(target, { recursive: true });
      summary[name] = {};
      for (const { name: collection } of await db.listCollections({}, { nameOnly: true }).toArray()) {
        if (collection.startsWith('system.')) continue;
        const file = join(target, `${collection}.ndjson`);
        const out = createWriteStream(file);
        const hash = createHash('sha256');
        let documents = 0;
        for await (const doc of db.collection(collection).find({}).sort({ _id: 1 })) {
          const line = `${EJSON.stringify(doc, { relaxed: false })}\n`;
          hash.update(line);
          if (!out.write(line)) await once(out, 'drain');
          documents += 1;
        }
        out.end();
        await once(out, 'finish');
        const indexes = (await db.collection(collection).indexes()).filter((index) => index.name !== '_id_');
        writeFileSync(join(target, `${collection}.indexes.json`), JSON.stringify(indexes, null, 2));
        summary[name][collection] = { documents, sha256: hash.digest('hex') };
      }
    }
    return summary;
  } finally {
    await client.close();
  }
}

/**
 * Checks a dump before anything is written: each file's digest against the manifest (a damaged
 * backup fails here), and that every target database is empty.
 */
export async function checkRestore(url: string, dir: string, summary: Record<string, DatabaseSummary>, rename: (name: string) => string = (n) => n): Promise<void> {
  for (const [name, collections] of Object.entries(summary)) {
    for (const [collection, expected] of Object.entries(collections)) {
      const actual = createHash('sha256').update(readFileSync(join(dir, 'mongo', name, `${collection}.ndjson`))).digest('hex');
      if (actual !== expected.sha256) throw new Error(`${name}.${collection}: the backup file is damaged (sha256 differs from the manifest)`);
    }
  }
  const client = await MongoClient.connect(url);
  try {
    for (const name of Object.keys(summary)) {
      const db = client.db(rename(name));
      for (const { name: collection } of await db.listCollections({}, { nameOnly: true }).toArray()) {
        if (!collection.startsWith('system.') && (await db.collection(collection).estimatedDocumentCount()) > 0) {
          throw new Error(`${db.databaseName} is not empty (${collection} has documents): restore into an empty installation`);
        }
      }
    }
  } finally {
    await client.close();
  }
}

/** Loads a dump (checked with {@link checkRestore}) into empty databases; `rename` maps a dumped name to the target name. */
export async function restoreDatabases(url: string, dir: string, summary: Record<string, DatabaseSummary>, rename: (name: string) => string = (n) => n): Promise<void> {
  // As the services write (@crm/mongo): a restore reported done survives a failover right after it.
  const client = await MongoClient.connect(url, { writeConcern: { w: 'majority', journal: true } });
  try {
    for (const [name, collections] of Object.entries(summary)) {
      const db = client.db(rename(name));
      for (const collection of Object.keys(collections)) {
        const source = join(dir, 'mongo', name);
        const indexFile = join(source, `${collection}.indexes.json`);
        const indexes = existsSync(indexFile) ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Array<Document & { key: Document; name: string }>) : [];
        await db.createCollection(collection).catch(() => undefined);
        for (const { key, name: indexName, v: _v, ns: _ns, ...options } of indexes) {
          await db.collection(collection).createIndex(key, { ...options, name: indexName });
        }
        let batch: Document[] = [];
        const lines = createInterface({ input: createReadStream(join(source, `${collection}.ndjson`)), crlfDelay: Infinity });
        for await (const line of lines) {
          if (!line) continue;
          batch.push(EJSON.parse(line, { relaxed: false }) as Document);
          if (batch.length === INSERT_BATCH) {
            await db.collection(collection).insertMany(batch, { ordered: true });
            batch = [];
          }
        }
        if (batch.length > 0) await db.collection(collection).insertMany(batch, { ordered: true });
      }
    }
  } finally {
    await client.close();
  }
}
