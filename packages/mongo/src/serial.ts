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
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.tails.set(key, next);
    void next
      .finally(() => {
        if (this.tails.get(key) === next) this.tails.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  /** Keys with writes queued or under way (for tests and diagnostics). */
  get size(): number {
    return this.tails.size;
  }
}
