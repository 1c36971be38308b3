import type { Logger } from '@crm/logger';

export interface ScheduledJob {
  name: string;
  /** Does what is due at `now`; returns how many records it changed. */
  run(now: Date): Promise<number>;
}

export interface SchedulerOptions {
  /** Pause between the end of one pass and the start of the next; 0 disables the timer (`tick` still works). */
  intervalMs: number;
  logger: Logger;
}

/**
 * Runs a service's periodic jobs every `intervalMs` in every replica; the jobs themselves make sure
 * each change happens once (claims with {@link OnceClaims} and conditional updates). The first pass
 * runs right after `start`, so work that fell due while no replica ran (a restart) is done at once.
 * Passes never overlap within a process; a failing job is logged and the next pass retries it.
 */
export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly jobs: ScheduledJob[],
    private readonly options: SchedulerOptions,
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

  /** Stops the timer and waits for the pass under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}
