import type { Model } from 'mongoose';

/** Above this many ids one `$in` query is cheaper than a lookup each, even on FerretDB. */
const MAX_POINT_LOOKUPS = 20;

/**
 * The documents with these ids (missing ones left out, each id once), as lean objects.
 * A short list is read with one `{_id: id}` lookup per id, in parallel: FerretDB v1 pushes down only
 * `_id` equality and answers `{_id: {$in: ids}}` by scanning the whole collection (placing an order
 * read every stock level that way, and got slower with each reservation stored); MongoDB serves
 * both from the `_id` index.
 */
export async function findByIds<T>(model: Model<any>, ids: readonly unknown[], projection?: Record<string, 0 | 1>, options: FindByIdsOptions = {}): Promise<T[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const unique = [...new Map(ids.map((id) => [String(id), id])).values()];
  if (unique.length === 0) return [];
  if (unique.length > MAX_POINT_LOOKUPS && !options.pointLookups) return model.find({ _id: { $in: unique } }, projection).lean<T[]>().exec();
  const found: unknown[] = [];
  // At most this many at once: more concurrent requests than FerretDB's PostgreSQL pool holds can wedge it.
  for (let i = 0; i < unique.length; i += MAX_POINT_LOOKUPS) {
    found.push(...(await Promise.all(unique.slice(i, i + MAX_POINT_LOOKUPS).map((id) => model.findById(id, projection).lean<T>().exec()))));
  }
  return found.filter((doc) => doc !== null) as T[];
}

export interface FindByIdsOptions {
  /**
   * Always one lookup per id (20 at a time), however many: for big collections, where a `$in` scan on
   * FerretDB costs far more than many point lookups (read models, processed events).
   */
  pointLookups?: boolean;
}
