import type { Knex } from 'knex';
import { badRequest } from './problem.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/**
 * Cursor pagination over a time-ordered (UUIDv7) id column: stable while rows are added, and each page
 * is an index range scan. The cursor is opaque to clients.
 */
export async function paginate<T>(
  query: Knex.QueryBuilder,
  /**
   * The ordering column, and the field of a row that holds it when it is not the column's own name;
   * `integer` for a sequence column instead of a UUIDv7 one.
   */
  order: string | { column: string; field: string; integer?: boolean },
  { limit = 20, cursor }: { limit?: number; cursor?: string },
  toItem: (row: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const { column, field, integer } =
    typeof order === 'string' ? { column: order, field: order, integer: false } : order;
  if (cursor !== undefined) {
    const after = Buffer.from(cursor, 'base64url').toString();
    if (!(integer ? /^\d{1,15}$/ : UUID).test(after)) {
      throw badRequest('invalid_cursor', 'The cursor is not one this API returned; start again without it.');
    }
    query.where(column, '>', after);
  }
  const rows = (await query.orderBy(column).limit(limit + 1)) as Record<string, unknown>[];
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: page.map(toItem),
    has_more: hasMore,
    next_cursor: hasMore && last ? Buffer.from(String(last[field])).toString('base64url') : null,
  };
}
