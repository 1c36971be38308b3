import { createLogger } from '@crm/logger';
import { describe, expect, it } from 'vitest';
import { OutboxRelay } from '../outbox.js';

/** A relay whose polls are counted (and find `found` documents), without a database. */
class CountingRelay extends OutboxRelay {
  polls: number[] = [];
  found = 0;
  private readonly born = Date.now();
  override async drain(): Promise<number> {
    this.polls.push(Date.now() - this.born);
    return this.found;
  }
}

const logger = createLogger({ service: 'events-test', level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('outbox poller interval', () => {
  it('doubles the wait while polls find nothing, and polls at the base interval while they do', async () => {
    const idle = new CountingRelay({ publisher: { publish: async () => undefined }, logger, pollIntervalMs: 40, maxPollIntervalMs: 320 });
    idle.start();
    await sleep(1000);
    await idle.stop({ flush: false });
    // 0, 40, 120, 280, 600 (then every 320 ms): about 5 polls, where a fixed 40 ms gives about 25.
    expect(idle.polls.length).toBeGreaterThanOrEqual(4);
    expect(idle.polls.length).toBeLessThanOrEqual(7);

    const busy = new CountingRelay({ publisher: { publish: async () => undefined }, logger, pollIntervalMs: 40, maxPollIntervalMs: 320 });
    busy.found = 1;
    busy.start();
    await sleep(1000);
    await busy.stop({ flush: false });
    expect(busy.polls.length).toBeGreaterThanOrEqual(12);
  });

  it('polls again soon after a publication fails', async () => {
    const relay = new CountingRelay({ publisher: { publish: async () => Promise.reject(new Error('broker down')) }, logger, pollIntervalMs: 40, maxPollIntervalMs: 60_000 });
    relay.start();
    await sleep(700);
    const before = relay.polls.length;
    // Backed off by now (next poll many seconds away); a failed notify brings it back.
    const model = { collection: { collectionName: 'things', findOne: async () => ({ pendingEvents: [{ id: 'e1' }] }) } };
    relay.notify(model as never, 'x');
    await sleep(200);
    await relay.stop({ flush: false });
    expect(relay.polls.length).toBeGreaterThan(before);
  });
});
