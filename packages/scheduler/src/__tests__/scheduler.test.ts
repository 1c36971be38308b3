import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@crm/logger';
import { connectMongo } from '@crm/mongo';
import { testInfra, uniqueName } from '@crm/testing';
import { OnceClaims, Scheduler } from '../index.js';

const infra = await testInfra();
const dbName = uniqueName('scheduler');
// Two connections stand for two replicas of a service.
const [first, second] = await Promise.all([connectMongo({ url: infra.mongoUrl, dbName }), connectMongo({ url: infra.mongoUrl, dbName })]);

afterAll(async () => {
  await first.dropDatabase();
  await Promise.all([first.close(), second.close()]);
});

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ service: 'scheduler-test', level: 'info', destination }), lines };
}

describe('OnceClaims (real Mongo)', () => {
  it('gives a key to exactly one of many racing callers on two connections', async () => {
    const a = new OnceClaims(first);
    const b = new OnceClaims(second);
    const key = uniqueName('race');
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).claim(key)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await first.collection('scheduler_claims').findOne({ _id: key as never });
    expect([a.instanceId, b.instanceId]).toContain(stored?.claimedBy);
  });

  it('keeps the claim across restarts: a new instance on a new connection does not get it', async () => {
    const key = uniqueName('restart');
    expect(await new OnceClaims(first).claim(key)).toBe(true);
    const restarted = await connectMongo({ url: infra.mongoUrl, dbName });
    try {
      expect(await new OnceClaims(restarted).claim(key)).toBe(false);
    } finally {
      await restarted.close();
    }
  });

  it('release gives the key back for a retry; only the holder can release', async () => {
    const holder = new OnceClaims(first);
    const other = new OnceClaims(second);
    const key = uniqueName('release');
    expect(await holder.claim(key)).toBe(true);
    await other.release(key);
    expect(await other.claim(key)).toBe(false);
    await holder.release(key);
    expect(await other.claim(key)).toBe(true);
  });

  it('a stale claim (holder died) is taken over by exactly one caller', async () => {
    const key = uniqueName('stale');
    const t0 = new Date('2026-01-01T00:00:00Z');
    expect(await new OnceClaims(first, { staleMs: 1000 }).claim(key, t0)).toBe(true);
    const fresh = new Date(t0.getTime() + 999);
    expect(await new OnceClaims(second, { staleMs: 1000 }).claim(key, fresh)).toBe(false);
    const late = new Date(t0.getTime() + 1001);
    const takers = Array.from({ length: 8 }, (_, i) => new OnceClaims(i % 2 ? first : second, { staleMs: 1000 }));
    const results = await Promise.all(takers.map((t) => t.claim(key, late)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await second.collection('scheduler_claims').findOne({ _id: key as never });
    expect(stored?.claimedAt).toEqual(late);
    expect(stored?.claimedBy).toBe(takers[results.indexOf(true)]!.instanceId);
    // The new holder's claim is fresh: nobody takes it at the same instant.
    expect(await Promise.all(takers.map((t) => t.claim(key, late)))).toEqual(takers.map(() => false));
  });

  it('stale takeovers stay single under repeated races', async () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const late = new Date(t0.getTime() + 5000);
    for (let round = 0; round < 5; round += 1) {
      const key = uniqueName('stale_round');
      expect(await new OnceClaims(first, { staleMs: 1000 }).claim(key, t0)).toBe(true);
      const takers = Array.from({ length: 6 }, (_, i) => new OnceClaims(i % 2 ? first : second, { staleMs: 1000 }));
      const results = await Promise.all(takers.map((t) => t.claim(key, late)));
      expect(results.filter(Boolean)).toHaveLength(1);
    }
  });

  it('a completed claim is never taken over, however old', async () => {
    const key = uniqueName('done');
    const t0 = new Date('2026-01-01T00:00:00Z');
    const holder = new OnceClaims(first, { staleMs: 1000 });
    expect(await holder.claim(key, t0)).toBe(true);
    await new OnceClaims(second).complete(key); // not the holder: no effect
    expect(await new OnceClaims(second, { staleMs: 1000 }).claim(key, new Date(t0.getTime() + 5000))).toBe(true); // still stale-able
    const next = new OnceClaims(second, { staleMs: 1000 });
    const key2 = uniqueName('done');
    expect(await next.claim(key2, t0)).toBe(true);
    await next.complete(key2, t0);
    expect(await new OnceClaims(first, { staleMs: 1000 }).claim(key2, new Date(t0.getTime() + 86_400_000))).toBe(false);
  });

  it('can keep its claims in another collection', async () => {
    const key = uniqueName('own');
    const claims = new OnceClaims(first, { collection: 'other_claims' });
    expect(await claims.claim(key)).toBe(true);
    expect(await first.collection('other_claims').countDocuments({ _id: key as never })).toBe(1);
    expect(await new OnceClaims(first).claim(key)).toBe(true); // default collection: a different key space
  });
});

describe('Scheduler', () => {
  it('tick runs every job with the same instant; a failing job is logged and the others still run', async () => {
    const { logger, lines } = capturedLogger();
    const seen: Date[] = [];
    const scheduler = new Scheduler(
      [
        { name: 'one', run: async (now) => (seen.push(now), 2) },
        { name: 'broken', run: async () => { throw new Error('database away'); } },
        { name: 'two', run: async (now) => (seen.push(now), 0) },
      ],
      { intervalMs: 0, logger },
    );
    const now = new Date('2026-11-23T01:00:00Z');
    expect(await scheduler.tick(now)).toEqual({ one: 2, two: 0 });
    expect(seen).toEqual([now, now]);
    expect(lines.find((l) => l.job === 'broken')).toMatchObject({ level: 'warn', msg: 'scheduled job failed; next tick retries' });
    expect(lines.find((l) => l.job === 'one')).toMatchObject({ level: 'info', changed: 2 });
    expect(lines.some((l) => l.job === 'two')).toBe(false); // nothing changed, nothing logged
  });

  it('start runs a pass at once, then every interval without overlapping; stop waits for the pass under way', async () => {
    const { logger } = capturedLogger();
    let active = 0;
    let maxActive = 0;
    let passes = 0;
    const scheduler = new Scheduler(
      [
        {
          name: 'slow',
          run: async () => {
            active += 1;
            maxActive = Math.max(maxActive, active);
            await new Promise((resolve) => setTimeout(resolve, 30));
            active -= 1;
            passes += 1;
            return 0;
          },
        },
      ],
      { intervalMs: 10, logger },
    );
    const startedAt = Date.now();
    scheduler.start();
    scheduler.start(); // a second start does not add a second loop
    while (passes < 1) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(Date.now() - startedAt).toBeLessThan(1000); // first pass right away, not after an interval
    while (passes < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    await scheduler.stop();
    expect(active).toBe(0); // stop waited for the pass under way
    expect(maxActive).toBe(1);
    const after = passes;
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(passes).toBe(after);
    scheduler.start(); // a stopped scheduler stays stopped
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(passes).toBe(after);
  });

  it('an interval of 0 leaves the timer off', async () => {
    const { logger } = capturedLogger();
    let passes = 0;
    const scheduler = new Scheduler([{ name: 'never', run: async () => (passes += 1) }], { intervalMs: 0, logger });
    scheduler.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(passes).toBe(0);
    await scheduler.stop();
  });
});
