import { describe, expect, it } from 'vitest';
import { PerKeySerializer } from '../serial.js';

/** Timed work that logs its start and end, to read the order of runs from. */
function stepLog() {
  const log: string[] = [];
  const step = (name: string, ms: number) => () =>
    new Promise<string>((resolve) => {
      log.push(`start ${name}`);
      setTimeout(() => {
        log.push(`end ${name}`);
        resolve(name);
      }, ms);
    });
  return { log, step };
}

describe('PerKeySerializer', () => {
  it('runs work of one key one at a time, in call order, and keys independently', async () => {
    const serial = new PerKeySerializer();
    const { log, step } = stepLog();
    const results = await Promise.all([serial.run('a', step('a1', 30)), serial.run('a', step('a2', 1)), serial.run('b', step('b1', 5))]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'));
    expect(serial.size).toBe(0);
  });

  it('goes on after a failure, which reaches only its own caller', async () => {
    const serial = new PerKeySerializer();
    const failed = serial.run('k', async () => Promise.reject(new Error('boom')));
    const next = serial.run('k', async () => 'ok');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ok');
  });

  it('runAll waits for every key it names, holds them all until it ends, and leaves other keys alone', async () => {
    const serial = new PerKeySerializer();
    const { log, step } = stepLog();
    const results = await Promise.all([
      serial.run('a', step('a1', 30)),
      serial.run('b', step('b1', 10)),
      serial.runAll(['a', 'b', 'a'], step('bulk', 20)),
      serial.run('b', step('b2', 1)),
      serial.run('c', step('c1', 1)),
    ]);
    expect(results).toEqual(['a1', 'b1', 'bulk', 'b2', 'c1']);
    expect(log.indexOf('start bulk')).toBeGreaterThan(log.indexOf('end a1'));
    expect(log.indexOf('start bulk')).toBeGreaterThan(log.indexOf('end b1'));
    expect(log.indexOf('start b2')).toBeGreaterThan(log.indexOf('end bulk'));
    expect(log.indexOf('end c1')).toBeLessThan(log.indexOf('end a1'));
    expect(serial.size).toBe(0);
  });
});
