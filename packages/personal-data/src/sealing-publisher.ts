import type { CloudEvent, EventPublisher } from '@crm/events';
import { seal } from './cipher.js';
import { entityOf, PERSONAL_FIELDS, type PersonalEntity, type SealedFields } from './contract.js';
import { KeyCache } from './key-cache.js';
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
  private readonly cache: KeyCache;

  constructor(
    private readonly inner: EventPublisher,
    private readonly keys: SubjectKeyStore,
    private readonly entities: readonly PersonalEntity[],
    cacheMs = 60_000,
  ) {
    this.cache = new KeyCache(cacheMs);
    keys.onShred((entity, subject) => this.cache.forget(entity, subject));
  }

  async publish(events: CloudEvent[]): Promise<void> {
    const subjects = new Map<PersonalEntity, Set<string>>();
    for (const event of events) {
      const entity = this.sealable(event);
      if (entity) subjects.set(entity, (subjects.get(entity) ?? new Set()).add(event.subject));
    }
    for (const [entity, ids] of subjects) {
      const missing = this.cache.missing(entity, ids);
      if (missing.length) for (const [subject, key] of await this.keys.keysFor(entity, missing, { create: true })) this.cache.set(entity, subject, key);
    }
    await this.inner.publish(
      events.map((event) => {
        const entity = this.sealable(event);
        return entity ? sealEvent(event, entity, this.cache.key(entity, event.subject)) : event;
      }),
    );
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
