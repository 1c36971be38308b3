/**
 * Runs writes to one document one at a time inside this process.
 *
 * FerretDB v1 applies `update` and `findAndModify` as read, change in Go, write back the whole
 * document, with no isolation between concurrent commands. Measured here with two connections: of
 * 300 concurrent `$inc` only 197 survived, and a version-checked update (`{ _id, version }`) let both
 * racers win. MongoDB makes each single-document update atomic, so on MongoDB this changes nothing;
 * on FerretDB it makes one process correct (one replica, as in development and the tests).
 */
export class PerKeySerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.runAll([key], work);
  }

  /**
   * Runs `work` once every write queued on any of `keys` has ended, and holds all of them until it
   * ends (one bulk command over many documents, e.g. the outbox relay's removal of published events).
   */
  runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(keys)];
    const previous = Promise.all(unique.map((key) => (this.tails.get(key) ?? Promise.resolve()).catch(() => undefined)));
    const next = previous.then(work);
    for (const key of unique) this.tails.set(key, next);
    void next
      .finally(() => {
        for (const key of unique) if (this.tails.get(key) === next) this.tails.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  /** Keys with writes queued or under way (for tests and diagnostics). */
  get size(): number {
    return this.tails.size;
  }
}
