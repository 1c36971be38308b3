import { afterAll, describe, expect, it } from 'vitest';
import { connectMongo } from '@crm/mongo';
import { testInfra, uniqueName } from '@crm/testing';
import { settlePending, type FactWithPending } from '../read-model.pending.js';

/** Exactly-once aggregate changes against a real database (FerretDB or MongoDB). */
const infra = await testInfra();
const connection = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('analytics_pending') });
const facts = connection.collection<FactWithPending>('facts');
const targets = connection.collection<{ _id: string; n?: number; last?: Date; ops?: string[] }>('targets');

afterAll(async () => {
  await connection.dropDatabase();
  await connection.close();
});

const fact = (id: string, changes: Array<[string, string, number, Date?]>): FactWithPending => ({
  _id: id,
  version: 1,
  pending: changes.map(([opId, key, n, last]) => ({ opId, collection: 'targets', key, inc: { n }, ...(last ? { max: { last } } : {}) })),
});

describe('pending aggregate changes', () => {
  it('merges a batch of changes per target, once, and leaves no op ids behind', async () => {
    const batch = [fact('f1', [['f1:1', 'A', 5, new Date('2025-01-01')], ['f1:2', 'B', 1]]), fact('f2', [['f2:1', 'A', -2, new Date('2025-03-01')]]), fact('f3', [['f3:1', 'A', 4, new Date('2025-02-01')]])];
    await facts.insertMany(batch);
    await settlePending(connection, 'facts', batch);
    // Redelivered: the facts as stored now have nothing pending.
    await settlePending(connection, 'facts', await facts.find({ _id: { $in: ['f1', 'f2', 'f3'] } }).toArray());
    expect(await targets.find({ _id: { $in: ['A', 'B'] } }).sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'A', n: 7, last: new Date('2025-03-01'), ops: [] },
      { _id: 'B', n: 1, ops: [] },
    ]);
    expect((await facts.find({ _id: { $in: ['f1', 'f2', 'f3'] } }).toArray()).map((f) => f.pending)).toEqual([[], [], []]);
  });

  it('applies change by change when a crash had applied part of a merged group before', async () => {
    // One change of the group reached the target before the crash (its op id is there).
    await targets.insertOne({ _id: 'C', n: 10, ops: ['g1:1'] });
    const batch = [fact('g1', [['g1:1', 'C', 10]]), fact('g2', [['g2:1', 'C', 3]])];
    await facts.insertMany(batch);
    await settlePending(connection, 'facts', batch);
    expect(await targets.findOne({ _id: 'C' })).toEqual({ _id: 'C', n: 13, ops: [] });
  });

  it('changes nothing when a crash came after the changes were applied but before the facts were cleared', async () => {
    await targets.insertOne({ _id: 'E', n: 9, ops: ['k1:1', 'k2:1'] });
    const batch = [fact('k1', [['k1:1', 'E', 4]]), fact('k2', [['k2:1', 'E', 5]])];
    await facts.insertMany(batch);
    await settlePending(connection, 'facts', batch);
    expect(await targets.findOne({ _id: 'E' })).toEqual({ _id: 'E', n: 9, ops: [] });
  });

  it('settles a single fact the same way (event by event)', async () => {
    const single = fact('h1', [['h1:1', 'D', 2]]);
    await facts.insertOne(single);
    await settlePending(connection, 'facts', [single]);
    await settlePending(connection, 'facts', [(await facts.findOne({ _id: 'h1' }))!]);
    expect(await targets.findOne({ _id: 'D' })).toEqual({ _id: 'D', n: 2, ops: [] });
  });
});
