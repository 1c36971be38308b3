import type { PersonalEntity } from './contract.js';

/**
 * Keys held in memory for a while (the owner's sealing and the readers' opening both use one): by
 * entity and person, null for a shredded key. Expired entries are dropped once it holds 10,000, so it
 * keeps about `ttlMs` worth of people.
 */
export class KeyCache {
  private readonly entries = new Map<string, { key: Buffer | null; until: number }>();

  constructor(private readonly ttlMs: number) {}

  /** The subjects whose key is not held (or has expired). */
  missing(entity: PersonalEntity, subjects: Iterable<string>, now = Date.now()): string[] {
    return [...subjects].filter((subject) => (this.entries.get(`${entity}:${subject}`)?.until ?? 0) <= now);
  }

  key(entity: PersonalEntity, subject: string): Buffer | null {
    return this.entries.get(`${entity}:${subject}`)?.key ?? null;
  }

  set(entity: PersonalEntity, subject: string, key: Buffer | null, now = Date.now()): void {
    this.entries.set(`${entity}:${subject}`, { key, until: now + this.ttlMs });
    if (this.entries.size > 10_000) for (const [id, entry] of this.entries) if (entry.until <= now) this.entries.delete(id);
  }

  forget(entity: PersonalEntity, subject: string): void {
    this.entries.delete(`${entity}:${subject}`);
  }
}
