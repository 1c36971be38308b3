import { randomUUID } from 'node:crypto';
import type { Connection } from 'mongoose';

const DUPLICATE_KEY = 11000;

export interface OnceClaimsOptions {
  /** A claim older than this whose holder never finished is taken over once (default 120 s). */
  staleMs?: number;
  /** Collection of the claims (default `scheduler_claims`). */
  collection?: string;
}

/**
 * "Exactly one of all replicas does X" for scheduled work: a claim is an insert with the key as `_id`
 * into `scheduler_claims`. An insert of an existing `_id` fails on MongoDB and on FerretDB alike (the
 * primary key is the one thing FerretDB v1 enforces atomically across connections; its updates are
 * not, see @crm/mongo), so exactly one caller gets `true` per key, across processes and restarts.
 * A claim whose holder died before finishing (older than `staleMs`, not completed) is taken over once;
 * a caller that finished its work marks the claim `complete` (then it is never taken over: the record
 * that the work was done), one that failed releases it so a later run retries.
 */
export class OnceClaims {
  readonly instanceId = randomUUID();
  private readonly staleMs: number;
  private readonly collectionName: string;

  constructor(
    private readonly connection: Connection,
    options: OnceClaimsOptions | number = {},
  ) {
    const resolved = typeof options === 'number' ? { staleMs: options } : options;
    this.staleMs = resolved.staleMs ?? 120_000;
    this.collectionName = resolved.collection ?? 'scheduler_claims';
  }

  private get claims() {
    return this.connection.collection<{ _id: string; claimedBy: string; claimedAt: Date; completedAt?: Date }>(this.collectionName);
  }

  /** `true` for exactly one caller per key (until it releases the claim or the claim goes stale). */
  async claim(key: string, now = new Date()): Promise<boolean> {
    if (await this.insert(key, now)) return true;
    const held = await this.claims.findOne({ _id: key });
    // Gone in between (released, or being taken over): compete for it with one more insert.
    if (!held) return this.insert(key, now);
    if (held.completedAt || now.getTime() - held.claimedAt.getTime() < this.staleMs) return false;
    // Stale. A conditional delete is not enough on FerretDB v1 (it finds, then deletes by _id: a racer
    // that read the same stale claim could delete the new holder's claim), so the takeover of this
    // generation of the claim is itself an insert-claim; only its winner replaces the stale claim.
    const takeover = `${key}#takeover:${held.claimedBy}:${held.claimedAt.getTime()}`;
    if (!(await this.insert(takeover, now))) return false;
    await this.claims.deleteOne({ _id: key, claimedBy: held.claimedBy, claimedAt: held.claimedAt });
    return this.insert(key, now);
  }

  /** Inserts the claim document; false when the key exists. */
  private async insert(key: string, now: Date): Promise<boolean> {
    try {
      await this.claims.insertOne({ _id: key, claimedBy: this.instanceId, claimedAt: now });
      return true;
    } catch (error) {
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
      return false;
    }
  }

  /**
   * Marks the work of a claim done: the claim is then never taken over as stale. Only the holder's
   * claim changes (one writer per claim document, so no lost update on FerretDB).
   */
  async complete(key: string, now = new Date()): Promise<void> {
    await this.claims.updateOne({ _id: key, claimedBy: this.instanceId }, { $set: { completedAt: now } });
  }

  /** Gives a claim back after the work failed, so a later run retries it. */
  async release(key: string): Promise<void> {
    await this.claims.deleteOne({ _id: key, claimedBy: this.instanceId });
  }
}
