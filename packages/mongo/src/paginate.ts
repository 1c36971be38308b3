import { Types, type Model, type QueryFilter } from 'mongoose';
import { PlatformException } from '@crm/errors';

export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page<T> {
  items: T[];
  cursors: string[];
  hasNextPage: boolean;
  endCursor: string | null;
  totalCount: number;
}

export const MAX_PAGE_SIZE = 100;

// Opaque to clients; the prefix lets a cursor from elsewhere be told apart from ours.
const CURSOR = /^id:([0-9a-f]{24})$/;

export function encodeCursor(id: Types.ObjectId): string {
  return Buffer.from(`id:${id.toHexString()}`).toString('base64url');
}

export function decodeCursor(cursor: string): Types.ObjectId {
  const hex = CURSOR.exec(Buffer.from(cursor, 'base64url').toString('utf8'))?.[1];
  if (!hex) {
    throw new PlatformException('INVALID_INPUT', 'Invalid cursor', [{ field: 'after', message: 'Not a cursor from this list' }]);
  }
  return new Types.ObjectId(hex);
}

/**
 * Cursor (keyset) paging in `_id` order — ObjectIds grow with creation time, so pages are stable
 * while new records arrive, and the query uses the `_id` index on MongoDB and FerretDB alike.
 */
export async function paginate<T>(model: Model<T>, filter: QueryFilter<T>, { first, after }: PageArgs): Promise<Page<T>> {
  const size = first ?? 20;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new PlatformException('INVALID_INPUT', 'Invalid page size', [{ field: 'first', message: `Must be 1 to ${MAX_PAGE_SIZE}` }]);
  }
  const pageFilter = after ? { $and: [filter, { _id: { $gt: decodeCursor(after) } }] } : filter;
  const [rows, totalCount] = await Promise.all([
    model.find(pageFilter as QueryFilter<T>).sort({ _id: 1 }).limit(size + 1).exec(),
    model.countDocuments(filter).exec(),
  ]);
  const items = rows.slice(0, size) as T[];
  const cursors = items.map((item) => encodeCursor((item as { _id: Types.ObjectId })._id));
  return { items, cursors, hasNextPage: rows.length > size, endCursor: cursors.at(-1) ?? null, totalCount };
}
