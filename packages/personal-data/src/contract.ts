/**
 * Which fields of which events are personal data, sealed with the person's own key before they reach
 * Kafka (the contract between the owning service and every consumer). The entity is the event type's
 * stem (`customer.updated` → `customer`) and the key is the event's subject (the aggregate id).
 * `erased` is what a consumer sees in place of a field once the key is gone.
 */
export const PERSONAL_FIELDS = {
  customer: {
    owner: 'customers',
    fields: ['name', 'organization', 'gender', 'birthday', 'country', 'province', 'city'],
    erased: { name: 'Erased customer' },
  },
  lead: {
    owner: 'sales',
    fields: ['name', 'company', 'contact', 'notes'],
    erased: { name: '[erased]' },
  },
} as const satisfies Record<string, { owner: string; fields: readonly string[]; erased: Record<string, unknown> }>;

export type PersonalEntity = keyof typeof PERSONAL_FIELDS;

export function entityOf(eventType: string): PersonalEntity | undefined {
  const stem = eventType.slice(0, eventType.indexOf('.'));
  return Object.hasOwn(PERSONAL_FIELDS, stem) ? (stem as PersonalEntity) : undefined;
}

/** Where an event keeps its sealed fields: `data.sealed`. */
export interface SealedFields {
  /** The fields inside (so a consumer can fill in `erased` values when the key is gone). */
  fields: string[];
  /** `pd1.<iv>.<ciphertext+tag>`; null when the key was already shredded at publication. */
  value: string | null;
}
