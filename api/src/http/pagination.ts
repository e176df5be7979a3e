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
  return pageOf(rows, limit, toItem, (last) => String(last[field]));
}

/** A page of `limit + 1` rows asked for (one more tells whether more follow), with the cursor after its last. */
function pageOf<T>(
  rows: Record<string, unknown>[],
  limit: number,
  toItem: (row: Record<string, unknown>) => T,
  cursorOf: (last: Record<string, unknown>) => string,
): Page<T> {
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: page.map(toItem),
    has_more: hasMore,
    next_cursor: hasMore && last ? Buffer.from(cursorOf(last)).toString('base64url') : null,
  };
}

/**
 * Cursor pagination in another order than the id's (a date, a name), ascending or descending: the cursor
 * holds the order's column, the last row's value (as the database writes it: a timestamp keeps its
 * microseconds) and id, and the next page starts after that pair. A cursor of another order, or one whose
 * value the column cannot hold, is `400 invalid_cursor`. `column` must be non-null.
 */
export async function paginateSorted<T>(
  knex: Knex,
  query: Knex.QueryBuilder,
  sort: { column: string; descending: boolean; idColumn: string },
  { limit = 20, cursor }: { limit?: number; cursor?: string },
  toItem: (row: Record<string, unknown>) => T,
): Promise<Page<T>> {
  const direction = sort.descending ? 'desc' : 'asc';
  if (cursor !== undefined) {
    const after = decodeSortCursor(cursor, sort.column);
    query.whereRaw(`(??, ??) ${sort.descending ? '<' : '>'} (?, ?)`, [sort.column, sort.idColumn, ...after]);
  }
  query
    .select(knex.raw('??::text AS sort_key', [sort.column]))
    .orderBy([
      { column: sort.column, order: direction },
      { column: sort.idColumn, order: direction },
    ])
    .limit(limit + 1);
  let rows: Record<string, unknown>[];
  try {
    rows = (await query) as Record<string, unknown>[];
  } catch (error) {
    // The cursor's value is not one the column can hold (a number, a time): a cursor this API did not give.
    if (cursor !== undefined && VALUE_ERRORS.has((error as { code?: string }).code ?? '')) throw invalidCursor();
    throw error;
  }
  return pageOf(rows, limit, toItem, (last) => JSON.stringify([sort.column, String(last.sort_key), String(last.id)]));
}

/** invalid_text_representation, numeric_value_out_of_range, invalid_datetime_format, datetime_field_overflow. */
const VALUE_ERRORS = new Set(['22P02', '22003', '22007', '22008']);

const invalidCursor = () =>
  badRequest('invalid_cursor', 'The cursor is not one this API returned; start again without it.');

function decodeSortCursor(cursor: string, column: string): [string, string] {
  try {
    const triple: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (
      Array.isArray(triple) &&
      triple.length === 3 &&
      triple[0] === column &&
      typeof triple[1] === 'string' &&
      triple[1].length <= 400 &&
      typeof triple[2] === 'string' &&
      UUID.test(triple[2])
    ) {
      return [triple[1], triple[2]];
    }
  } catch {
    // Not JSON: the same answer as any other cursor this API did not give.
  }
  throw invalidCursor();
}
