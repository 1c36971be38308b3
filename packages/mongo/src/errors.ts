/** MongoDB's (and FerretDB's) error code for a write that collides with a unique index or `_id`. */
export const DUPLICATE_KEY = 11000;

/** Whether a write failed because the key exists: the "someone got there first" of insert claims. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

/**
 * The indexes of a bulk write's failed operations when every failure is a duplicate key (the rest of an
 * unordered bulk write went through), or null when the error is anything else.
 */
export function duplicateKeyIndexes(error: unknown): number[] | null {
  const raw = typeof error === 'object' && error !== null ? (error as { writeErrors?: unknown }).writeErrors : undefined;
  const list = (Array.isArray(raw) ? raw : raw ? [raw] : []) as Array<{ index?: number; code?: unknown }>;
  if (!list.length || !list.every(isDuplicateKey)) return null;
  return list.map((e) => e.index ?? -1);
}
