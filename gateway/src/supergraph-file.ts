import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SupergraphSdlHook } from '@apollo/gateway';
import type { Logger } from '@crm/logger';

/** sha256 of a supergraph's text, hex: the id Apollo's gateway gives a composition too. */
export function supergraphHash(sdl: string): string {
  return createHash('sha256').update(sdl).digest('hex');
}

export interface SupergraphFileOptions {
  path: string;
  /** How often the file is read again; 0: only at start. */
  pollMs: number;
  logger: Logger;
  /** Each attempt to serve a changed file, with the hash of the supergraph served afterwards. */
  onReload?: (outcome: 'applied' | 'rejected', served: string) => void;
}

/**
 * The gateway's supergraph from a file that may change while it runs: Apollo's `supergraphSdl` hook.
 * The file is polled by content hash rather than watched: a Kubernetes ConfigMap volume changes by
 * swapping a symlink, which fs.watch misses or reports on the wrong path. A changed file goes to
 * Apollo's `update`, which builds the new schema and query planner before switching (requests in
 * flight finish on the old ones) and throws, changing nothing, when the text is not a valid supergraph.
 *
 * No subgraph health check before the switch: the subgraph URLs come from the environment, not from the
 * file, so a new supergraph never sends the gateway to new hosts, and Apollo's check query carries no
 * user token, which our subgraphs refuse. Subgraphs roll out before the supergraph that needs them
 * (`pnpm schema:check` keeps each step compatible); the gateway's /readyz reports their health.
 */
export class SupergraphFile {
  private servedHash = '';
  private rejectedHash: string | undefined;
  private unreadable = false;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(private readonly options: SupergraphFileOptions) {}

  /** The hash of the supergraph being served ('' before the gateway loaded one). */
  get served(): string {
    return this.servedHash;
  }

  readonly hook: SupergraphSdlHook = async ({ update }) => {
    const supergraphSdl = await readFile(this.options.path, 'utf8');
    this.servedHash = supergraphHash(supergraphSdl);
    this.options.logger.info({ path: this.options.path, hash: this.servedHash, pollMs: this.options.pollMs }, 'supergraph loaded');
    if (this.options.pollMs > 0) {
      this.timer = setInterval(() => {
        this.polling ??= this.poll(update).finally(() => {
          this.polling = undefined;
        });
      }, this.options.pollMs);
      this.timer.unref();
    }
    return { supergraphSdl, cleanup: () => this.stop() };
  };

  /** Stops polling (Apollo calls it when the gateway stops). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  private async poll(update: (sdl: string) => void): Promise<void> {
    const { path, logger, onReload } = this.options;
    let sdl: string;
    try {
      sdl = await readFile(path, 'utf8');
    } catch (error) {
      if (!this.unreadable) logger.warn({ err: error, path, serving: this.servedHash }, 'supergraph file unreadable; serving the previous supergraph');
      this.unreadable = true;
      return;
    }
    this.unreadable = false;
    // The poller may have been stopped while the file was read; Apollo refuses updates once stopping.
    if (!this.timer) return;
    const hash = supergraphHash(sdl);
    if (hash === this.servedHash) {
      this.rejectedHash = undefined;
      return;
    }
    // A rejected file is reported once, not at every poll, until its content changes again.
    if (hash === this.rejectedHash) return;
    try {
      update(sdl);
    } catch (error) {
      this.rejectedHash = hash;
      logger.error({ err: error, path, rejected: hash, serving: this.servedHash }, 'supergraph file rejected; serving the previous supergraph');
      onReload?.('rejected', this.servedHash);
      return;
    }
    logger.info({ path, from: this.servedHash, to: hash }, 'supergraph updated');
    this.servedHash = hash;
    this.rejectedHash = undefined;
    onReload?.('applied', hash);
  }
}
