import { Schema } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { testInfra, uniqueName } from '@crm/testing';
import { connectMongo, pingMongo, syncIndexes } from '../index.js';

const infra = await testInfra();
const connection = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('mongo_pkg') });

afterAll(async () => {
  await connection.dropDatabase();
  await connection.close();
});

describe('connectMongo (real server)', () => {
  it('answers a ping', async () => {
    expect(await pingMongo(connection)).toBe(true);
  });

  it('binds models to its own database and enforces unique indexes', async () => {
    const Thing = connection.model('Thing', new Schema({ key: { type: String, unique: true } }));
    await syncIndexes(connection);
    await Thing.create({ key: 'a' });
    await expect(Thing.create({ key: 'a' })).rejects.toMatchObject({ code: 11000 });
    expect(await Thing.countDocuments()).toBe(1);
    expect(Thing.db.name).toBe(connection.name);
  });

  it('reports a dead server as not ready instead of throwing', async () => {
    const dead = await connectMongo({ url: infra.mongoUrl, dbName: uniqueName('mongo_dead') });
    await dead.close();
    expect(await pingMongo(dead)).toBe(false);
  });
});
