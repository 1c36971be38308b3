import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';
import type { Logger } from '@crm/logger';

const DUPLICATE_KEY = 11000;

/**
 * "Exactly one of all replicas does X" for scheduled work: a claim is an insert with the key as `_id`
 * into `scheduler_claims`. An insert of an existing `_id` fails on MongoDB and on FerretDB alike (the
 * primary key is the one thing FerretDB v1 enforces atomically across connections; its updates are
 * not, see @crm/mongo), so exactly one caller gets `true` per key, across processes and restarts.
 * A claim whose holder died before finishing (older than `staleMs`) is taken over once.
 */
export class OnceClaims {
  readonly instanceId = randomUUID();

  constructor(
    private readonly connection: Connection,
    private readonly staleMs = 120_000,
  ) {}

  private get claims() {
    return this.connection.collection<{ _id: string; claimedBy: string; claimedAt: Date }>('scheduler_claims');
  }

  async claim(key: string, now = new Date()): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        await this.claims.insertOne({ _id: key, claimedBy: this.instanceId, claimedAt: now });
        return true;
      } catch (error) {
        if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
      }
      const held = await this.claims.findOne({ _id: key });
      if (!held || now.getTime() - held.claimedAt.getTime() < this.staleMs) return false;
      // Stale: remove exactly that claim, then compete for the key again with an insert.
      await this.claims.deleteOne({ _id: key, claimedBy: held.claimedBy, claimedAt: held.claimedAt });
    }
    return false;
  }

  /** Gives a claim back after the work failed, so a later run retries it. */
  async release(key: string): Promise<void> {
    await this.claims.deleteOne({ _id: key, claimedBy: this.instanceId });
  }
}

export interface ScheduledJob {
  name: string;
  /** Does what is due at `now`; returns how many records it changed. */
  run(now: Date): Promise<number>;
}

/**
 * Runs the sales service's periodic jobs (contract expiry and renewal reminders, quote expiry) every
 * `intervalMs` in every replica; the jobs themselves make sure each change happens once (claims and
 * conditional updates). `intervalMs` 0 disables the timer (`tick` can still be called).
 */
export class SalesScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly jobs: ScheduledJob[],
    private readonly options: { intervalMs: number; logger: Logger },
  ) {}

  start(): void {
    if (this.options.intervalMs <= 0 || this.timer || this.stopped) return;
    const loop = () => {
      this.running = this.tick().finally(() => {
        if (!this.stopped) {
          this.timer = setTimeout(loop, this.options.intervalMs);
          this.timer.unref();
        }
      });
    };
    this.timer = setTimeout(loop, 0);
    this.timer.unref();
  }

  /** One pass over every job; a failing job is logged and the others still run. */
  async tick(now = new Date()): Promise<Record<string, number>> {
    const done: Record<string, number> = {};
    for (const job of this.jobs) {
      if (this.stopped) break;
      try {
        done[job.name] = await job.run(now);
        if (done[job.name]) this.options.logger.info({ job: job.name, changed: done[job.name] }, 'scheduled job ran');
      } catch (error) {
        this.options.logger.warn({ err: error, job: job.name }, 'scheduled job failed; next tick retries');
      }
    }
    return done;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
