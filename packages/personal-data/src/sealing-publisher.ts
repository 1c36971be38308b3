import type { CloudEvent, EventPublisher } from '@crm/events';
import { seal } from './cipher.js';
import { entityOf, PERSONAL_FIELDS, type PersonalEntity, type SealedFields } from './contract.js';
import type { SubjectKeyStore } from './key-store.js';

export const aadOf = (entity: PersonalEntity, subject: string) => `${entity}:${subject}`;

/**
 * Seals the personal fields of the owner's events (`entities`) just before they go to Kafka. The
 * outbox keeps them in the clear inside the person's own document (same database as the record); the
 * copies are new objects, so the relay still removes exactly what it stored.
 */
export class SealingPublisher implements EventPublisher {
  /**
   * Keys used lately (a read per person per publication cost ~1 ms each on FerretDB, bench/personal-data.mjs).
   * A shred in this process drops the key at once; one shredded by another replica may still seal
   * here for up to `cacheMs`: harmless, as nothing sealed with it opens once it is gone from the store.
   */
  private readonly cache = new Map<string, { key: Buffer | null; until: number }>();

  constructor(
    private readonly inner: EventPublisher,
    private readonly keys: SubjectKeyStore,
    private readonly entities: readonly PersonalEntity[],
    private readonly cacheMs = 60_000,
  ) {
    keys.onShred((entity, subject) => this.cache.delete(`${entity}:${subject}`));
  }

  async publish(events: CloudEvent[]): Promise<void> {
    const now = Date.now();
    const missing = new Map<PersonalEntity, string[]>();
    for (const event of events) {
      const entity = this.sealable(event);
      if (entity && (this.cache.get(`${entity}:${event.subject}`)?.until ?? 0) <= now) missing.set(entity, [...(missing.get(entity) ?? []), event.subject]);
    }
    for (const [entity, ids] of missing) {
      for (const [subject, key] of await this.keys.keysFor(entity, ids, { create: true })) this.cache.set(`${entity}:${subject}`, { key, until: now + this.cacheMs });
    }
    const sealed = events.map((event) => {
      const entity = this.sealable(event);
      return entity ? sealEvent(event, entity, this.cache.get(`${entity}:${event.subject}`)?.key ?? null) : event;
    });
    if (this.cache.size > 10_000) for (const [id, entry] of this.cache) if (entry.until <= now) this.cache.delete(id);
    await this.inner.publish(sealed);
  }

  private sealable(event: CloudEvent): PersonalEntity | undefined {
    const entity = entityOf(event.type);
    const data = event.data as Record<string, unknown> | null;
    return entity && this.entities.includes(entity) && data && typeof data === 'object' && !('sealed' in data) ? entity : undefined;
  }
}

/** The event with its personal fields moved into `data.sealed` (dropped when the key is gone). */
export function sealEvent(event: CloudEvent, entity: PersonalEntity, key: Buffer | null): CloudEvent {
  const data = { ...(event.data as Record<string, unknown>) };
  const personal: Record<string, unknown> = {};
  for (const field of PERSONAL_FIELDS[entity].fields) {
    if (!(field in data)) continue;
    personal[field] = data[field];
    delete data[field];
  }
  const fields = Object.keys(personal);
  if (fields.length === 0) return event;
  const sealed: SealedFields = { fields, value: key ? seal(key, aadOf(entity, event.subject), personal) : null };
  return { ...event, data: { ...data, sealed } };
}
