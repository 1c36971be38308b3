import { Schema, type Connection, type mongo } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { testInfra, uniqueName } from '@crm/testing';
import { connectMongo, type MongoWriteConcern } from '../index.js';

const infra = await testInfra();
const opened: Connection[] = [];

/** A connection that records the write concern of every insert it sends (driver command monitoring). */
async function open(writeConcern?: MongoWriteConcern) {
  const url = new URL(infra.mongoUrl);
  url.searchParams.set('monitorCommands', 'true');
  const connection = await connectMongo({ url: url.toString(), dbName: uniqueName('mongo_wc'), ...(writeConcern ? { writeConcern } : {}) });
  opened.push(connection);
  const sent: unknown[] = [];
  connection.getClient().on('commandStarted', (event: mongo.CommandStartedEvent) => {
    if (event.commandName === 'insert') sent.push(event.command.writeConcern);
  });
  const Note = connection.model('Note', new Schema({ text: String }));
  return { connection, sent, Note };
}

/** FerretDB answers buildInfo with its own version beside the MongoDB one it imitates. */
async function isFerretDb(connection: Connection): Promise<boolean> {
  const info = await connection.db!.admin().command({ buildInfo: 1 });
  return 'ferretdbVersion' in info;
}

afterAll(async () => {
  for (const connection of opened) {
    await connection.dropDatabase();
    await connection.close();
  }
});

describe('connectMongo write concern (real server)', () => {
  it('writes with majority and the journal by default, and the write is stored', async () => {
    const { connection, sent, Note } = await open();
    expect(connection.getClient().options.writeConcern).toMatchObject({ w: 'majority', journal: true });
    expect(connection.db!.writeConcern).toMatchObject({ w: 'majority', journal: true });
    await Note.create({ text: 'kept' });
    await Note.insertMany([{ text: 'a' }, { text: 'b' }]);
    expect(await Note.countDocuments()).toBe(3);
    // What went over the wire, for both mongoose paths.
    expect(sent).toEqual([
      { w: 'majority', j: true },
      { w: 'majority', j: true },
    ]);
  });

  it('takes a member count, journal off and a write timeout', async () => {
    const { connection, sent, Note } = await open({ w: 1, journal: false, wtimeoutMS: 2000 });
    expect(connection.getClient().options.writeConcern).toMatchObject({ w: 1, journal: false, wtimeoutMS: 2000 });
    await Note.create({ text: 'one member' });
    expect(await Note.countDocuments()).toBe(1);
    expect(sent).toEqual([{ w: 1, j: false, wtimeout: 2000 }]);
  });

  it('refuses unacknowledged and nonsense write concerns before connecting', async () => {
    await expect(connectMongo({ url: infra.mongoUrl, dbName: 'never', writeConcern: { w: 0, journal: false } })).rejects.toThrow(/positive integer, not 0/);
    await expect(connectMongo({ url: infra.mongoUrl, dbName: 'never', writeConcern: { w: 1.5, journal: true } })).rejects.toThrow(/not 1.5/);
  });

  it('w: 5 on a single node: FerretDB ignores it and stores the write, MongoDB refuses it', async () => {
    const { connection, sent, Note } = await open({ w: 5, journal: true, wtimeoutMS: 1000 });
    expect(sent).toEqual([]);
    if (await isFerretDb(connection)) {
      await Note.create({ text: 'five members wanted' });
      expect(await Note.countDocuments()).toBe(1);
      expect(sent).toEqual([{ w: 5, j: true, wtimeout: 1000 }]);
    } else {
      // Standalone: "cannot use 'w' > 1"; a smaller replica set: UnsatisfiableWriteConcern.
      await expect(Note.create({ text: 'five members wanted' })).rejects.toThrow();
    }
  });
});
