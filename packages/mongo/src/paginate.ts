import { Types, type Model, type QueryFilter } from 'mongoose';
import { PlatformException } from '@crm/errors';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

/** Keyset order: one field (never null in stored documents) with `_id` as the tie-breaker. */
export interface PageSort {
  field: string;
  direction: 1 | -1;
}

export interface PageOptions {
  sort?: PageSort;
  /** Count at most this many matches: totals stay cheap on large sets. */
  countLimit?: number;
  /** Skip counting (the client did not ask for a total): one query instead of two. */
  count?: boolean;
}

export interface Page<T> {
  items: T[];
  cursors: string[];
  hasNextPage: boolean;
  endCursor: string | null;
  /** Exact when `totalCountIsExact`; otherwise a lower bound (`countLimit`). */
  totalCount: number;
  totalCountIsExact: boolean;
}

export const MAX_PAGE_SIZE = 100;
const ID_SORT: PageSort = { field: '_id', direction: 1 };
const CURSOR_PREFIX = 'k1:';

type CursorValue = string | number | null;

function invalidCursor(): Error {
  return new PlatformException('INVALID_INPUT', 'Invalid cursor', [{ field: 'after', message: 'Not a cursor from this list and order' }]);
}

function readField(doc: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], doc);
}

function serialise(value: unknown): CursorValue {
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Types.ObjectId) return value.toHexString();
  if (typeof value === 'string' || typeof value === 'number') return value;
  return null;
}

export function encodeCursor(sort: PageSort, doc: { _id: Types.ObjectId }): string {
  const payload = [sort.field, serialise(readField(doc, sort.field)), doc._id.toHexString()];
  return Buffer.from(CURSOR_PREFIX + JSON.stringify(payload)).toString('base64url');
}

/** Decodes a cursor of this sort; anything else (another order, another list's cursor, garbage) is BAD_USER_INPUT. */
export function decodeCursor(cursor: string, sort: PageSort, dateField: boolean): { value: unknown; id: Types.ObjectId } {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(CURSOR_PREFIX)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(CURSOR_PREFIX.length));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || parsed[0] !== sort.field || typeof parsed[2] !== 'string' || !/^[0-9a-f]{24}$/.test(parsed[2])) {
    throw invalidCursor();
  }
  const id = new Types.ObjectId(parsed[2]);
  let value: unknown = parsed[1];
  if (sort.field === '_id') value = id;
  else if (dateField) {
    value = new Date(String(parsed[1]));
    if (Number.isNaN((value as Date).getTime())) throw invalidCursor();
  }
  return { value, id };
}

/**
 * Keyset paging: stable while records arrive (no skip/offset), one index range per page on MongoDB.
 * FerretDB v1 evaluates the same filter without pushing it down; the results are identical.
 */
export async function paginate<T>(model: Model<T>, filter: QueryFilter<T>, { first, after }: PageArgs, options: PageOptions = {}): Promise<Page<T>> {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new PlatformException('INVALID_INPUT', 'Invalid page size', [{ field: 'first', message: `Must be 1 to ${MAX_PAGE_SIZE}` }]);
  }
  const sort = options.sort ?? ID_SORT;
  const dateField = model.schema.path(sort.field)?.instance === 'Date';
  let pageFilter: Record<string, unknown> = filter as Record<string, unknown>;
  if (after) {
    const { value, id } = decodeCursor(after, sort, dateField);
    const op = sort.direction === 1 ? '$gt' : '$lt';
    const keyset =
      sort.field === '_id' ? { _id: { [op]: id } } : { $or: [{ [sort.field]: { [op]: value } }, { [sort.field]: value, _id: { [op]: id } }] };
    pageFilter = { $and: [filter, keyset] };
  }
  const order = sort.field === '_id' ? { _id: sort.direction } : { [sort.field]: sort.direction, _id: sort.direction };
  const countLimit = options.countLimit;
  const counting = options.count !== false;
  const [rows, counted] = await Promise.all([
    model
      .find(pageFilter as QueryFilter<T>)
      .sort(order)
      .limit(size + 1)
      .lean<T[]>()
      .exec(),
    counting ? model.countDocuments(filter, countLimit ? { limit: countLimit + 1 } : {}).exec() : Promise.resolve(0),
  ]);
  const items = rows.slice(0, size);
  const cursors = items.map((item) => encodeCursor(sort, item as { _id: Types.ObjectId }));
  const exact = !countLimit || counted <= countLimit;
  return {
    items,
    cursors,
    hasNextPage: rows.length > size,
    endCursor: cursors.at(-1) ?? null,
    totalCount: exact ? counted : countLimit,
    totalCountIsExact: exact,
  };
}
