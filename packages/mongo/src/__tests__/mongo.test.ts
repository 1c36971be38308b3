import { Schema, Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { testInfra, uniqueName } from '@crm/testing';
import { connectMongo, findByIds, moneySubdocument, paginate, pingMongo, syncIndexes, type Page } from '../index.js';

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

describe('paginate (real server)', () => {
  it('walks every record once, in creation order, with stable cursors', async () => {
    const Item = connection.model<{ n: number; kind: string }>('Item', new Schema({ n: Number, kind: String }));
    await Item.insertMany(Array.from({ length: 7 }, (_, n) => ({ n, kind: n % 2 ? 'odd' : 'even' })));
    const seen: number[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Page<{ n: number; kind: string }> = await paginate(Item, {}, { first: 3, after });
      expect(page.totalCount).toBe(7);
      seen.push(...page.items.map((item) => item.n));
      if (!page.hasNextPage) break;
      after = page.endCursor;
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const odd = await paginate(Item, { kind: 'odd' }, { first: 10 });
    expect(odd.items.map((item) => item.n)).toEqual([1, 3, 5]);
    expect(odd).toMatchObject({ hasNextPage: false, totalCount: 3 });
  });

  it('refuses bad page sizes and foreign cursors with BAD_USER_INPUT', async () => {
    const Item = connection.model<{ n: number; kind: string }>('Item');
    await expect(paginate(Item, {}, { first: 0 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'first' }] });
    await expect(paginate(Item, {}, { first: 101 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    // Twelve bytes, so it would decode to an ObjectId if cursors were bare ids.
    await expect(paginate(Item, {}, { after: Buffer.from('not-a-cursor').toString('base64url') })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'after' }] });
  });
});

describe('moneySubdocument (real server)', () => {
  it('stores integer minor units with a currency code and refuses anything else', async () => {
    const Priced = connection.model('Priced', new Schema({ price: { type: moneySubdocument(), required: true } }));
    const saved = await Priced.create({ price: { amountMinor: 129900, currency: 'CNY' } });
    expect((await Priced.findById(saved._id).lean())?.price).toEqual({ amountMinor: 129900, currency: 'CNY' });
    await expect(Priced.create({ price: { amountMinor: 12.5, currency: 'CNY' } })).rejects.toThrow(/Whole minor units/);
    await expect(Priced.create({ price: { amountMinor: 1, currency: 'yuan' } })).rejects.toThrow(/currency/);
  });
});

describe('paginate with a sort field (real server)', () => {
  it('walks by field then id in both directions, bounds the total, and refuses cursors of another order', async () => {
    const Dated = connection.model<{ n: number; at: Date; name: string }>('Dated', new Schema({ n: Number, at: Date, name: String }));
    const base = Date.UTC(2026, 0, 1);
    // Two records share each timestamp: the id breaks the tie.
    await Dated.insertMany(Array.from({ length: 6 }, (_, n) => ({ n, at: new Date(base + Math.floor(n / 2) * 1000), name: `n${5 - n}` })));
    const walk = async (sort: { field: string; direction: 1 | -1 }) => {
      const seen: number[] = [];
      let after: string | null = null;
      for (;;) {
        const page: Page<{ n: number }> = await paginate(Dated, {}, { first: 4, after }, { sort, countLimit: 3 });
        expect(page).toMatchObject({ totalCount: 3, totalCountIsExact: false });
        seen.push(...page.items.map((i) => i.n));
        if (!page.hasNextPage) return { seen, cursor: page.endCursor! };
        after = page.endCursor;
      }
    };
    expect((await walk({ field: 'at', direction: -1 })).seen).toEqual([5, 4, 3, 2, 1, 0]);
    expect((await walk({ field: 'name', direction: 1 })).seen).toEqual([5, 4, 3, 2, 1, 0]);
    const { cursor } = await walk({ field: 'at', direction: 1 });
    await expect(paginate(Dated, {}, { after: cursor }, { sort: { field: 'name', direction: 1 } })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(await paginate(Dated, {}, { first: 10 }, { countLimit: 100 })).toMatchObject({ totalCount: 6, totalCountIsExact: true });
    // Without a count the page is the same, and no total is claimed.
    const uncounted = await paginate(Dated, {}, { first: 2 }, { count: false });
    expect(uncounted).toMatchObject({ totalCount: 0, hasNextPage: true });
    expect(uncounted.items).toHaveLength(2);
  });
});

describe('findByIds (real server)', () => {
  const Item = connection.model('LookupItem', new Schema({ n: Number, label: String }));

  it('returns each existing document once, leaves missing ids out, and applies the projection', async () => {
    const items = await Item.insertMany(Array.from({ length: 30 }, (_, n) => ({ n, label: `item ${n}` })));
    const [a, b] = [items[3]!, items[17]!];
    const missing = new Types.ObjectId();
    const found = await findByIds<{ _id: Types.ObjectId; n: number; label?: string }>(Item, [a._id, String(b._id), a._id, missing], { n: 1 });
    expect(found.map((doc) => doc.n).sort((x, y) => x - y)).toEqual([3, 17]);
    expect(found.every((doc) => doc.label === undefined)).toBe(true);
    expect(await findByIds(Item, [])).toEqual([]);
    // A long list takes the single-query path with the same result.
    const many = await findByIds<{ n: number }>(Item, [...items.map((item) => item._id), missing]);
    expect(many.map((doc) => doc.n).sort((x, y) => x - y)).toEqual(items.map((item) => item.n));
  });
});

