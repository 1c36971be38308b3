/** MongoDB's (and FerretDB's) error code for a write that collides with a unique index or `_id`. */
export const DUPLICATE_KEY = 11000;

/** Whether a write failed because the key exists: the "someone got there first" of insert claims. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}
