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
  constructor(
    private readonly inner: EventPublisher,
    private readonly keys: SubjectKeyStore,
    private readonly entities: readonly PersonalEntity[],
  ) {}

  async publish(events: CloudEvent[]): Promise<void> {
    const subjects = new Map<PersonalEntity, string[]>();
    for (const event of events) {
      const entity = this.sealable(event);
      if (entity) subjects.set(entity, [...(subjects.get(entity) ?? []), event.subject]);
    }
    const keys = new Map<PersonalEntity, Map<string, Buffer | null>>();
    for (const [entity, ids] of subjects) keys.set(entity, await this.keys.keysFor(entity, ids, { create: true }));
    await this.inner.publish(
      events.map((event) => {
        const entity = this.sealable(event);
        return entity ? sealEvent(event, entity, keys.get(entity)!.get(event.subject) ?? null) : event;
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
