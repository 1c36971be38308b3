import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@crm/testing';
import { createLogger } from '@crm/logger';
import { SupergraphFile, supergraphHash } from '../supergraph-file.js';

// Apollo's side of the hook is stood in by a function that records what it was given and throws,
// as Apollo's `update` does, for text it cannot build a schema from.
function harness(pollMs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'supergraph-file-'));
  const path = join(dir, 'supergraph.graphql');
  writeFileSync(path, 'first');
  const lines: Array<Record<string, unknown>> = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => chunk.toString().split('\n').filter(Boolean).forEach((line) => lines.push(JSON.parse(line))));
  const updates: string[] = [];
  const reloads: string[] = [];
  const file = new SupergraphFile({ path, pollMs, logger: createLogger({ service: 'gateway', destination: stream }), onReload: (outcome, served) => reloads.push(`${outcome} ${served}`) });
  const update = (sdl: string) => {
    if (sdl.startsWith('bad')) throw new Error(`cannot build a schema from "${sdl}"`);
    updates.push(sdl);
  };
  const start = () => file.hook({ update, healthCheck: async () => undefined, getDataSource: () => undefined as never });
  return { dir, path, file, lines, updates, reloads, start };
}

let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

describe('SupergraphFile', () => {
  it('serves the file read at start, then each changed content once; a rejected one is reported once and leaves the old one served', async () => {
    const h = harness(20);
    cleanup = () => rmSync(h.dir, { recursive: true, force: true });
    const { supergraphSdl, cleanup: stop } = await h.start();
    expect(supergraphSdl).toBe('first');
    expect(h.file.served).toBe(supergraphHash('first'));

    writeFileSync(h.path, 'second');
    await eventually(async () => h.updates.length === 1, 2000, 10);
    expect(h.updates).toEqual(['second']);
    expect(h.file.served).toBe(supergraphHash('second'));
    expect(h.lines.find((l) => l.msg === 'supergraph updated')).toMatchObject({ from: supergraphHash('first'), to: supergraphHash('second') });

    writeFileSync(h.path, 'bad one');
    await eventually(async () => h.reloads.length === 2, 2000, 10);
    await new Promise((r) => setTimeout(r, 200)); // ten more polls of the same bad content
    expect(h.reloads).toEqual([`applied ${supergraphHash('second')}`, `rejected ${supergraphHash('second')}`]);
    expect(h.lines.filter((l) => l.msg === 'supergraph file rejected; serving the previous supergraph')).toEqual([
      expect.objectContaining({ level: 'error', rejected: supergraphHash('bad one'), serving: supergraphHash('second') }),
    ]);
    expect(h.file.served).toBe(supergraphHash('second'));

    // The file gone for a moment (a mount being replaced) is not a new supergraph either.
    unlinkSync(h.path);
    await eventually(async () => h.lines.some((l) => l.msg === 'supergraph file unreadable; serving the previous supergraph'), 2000, 10);
    writeFileSync(h.path, 'third');
    await eventually(async () => h.updates.length === 2, 2000, 10);
    expect(h.updates).toEqual(['second', 'third']);

    await stop!();
    writeFileSync(h.path, 'after stop');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.updates).toEqual(['second', 'third']);
  });

  it('reads the file only at start when the poll interval is 0', async () => {
    const h = harness(0);
    cleanup = () => rmSync(h.dir, { recursive: true, force: true });
    await h.start();
    writeFileSync(h.path, 'second');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.updates).toEqual([]);
    expect(h.file.served).toBe(supergraphHash('first'));
  });
});
