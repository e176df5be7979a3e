import type { Knex } from 'knex';

/**
 * A `tsquery` for what a person types into a search box: every word must match a word of the record or the
 * beginning of one (`ann exa` finds Anna at example.com). Words are letters and digits only, so nothing typed
 * reaches the query syntax. Null when nothing searchable was typed.
 */
export function prefixQuery(text: string): string | null {
  const words =
    text
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu)
      ?.slice(0, 10) ?? [];
  return words.length === 0 ? null : words.map((word) => `${word}:*`).join(' & ');
}

/**
 * Narrows a query to rows whose `search` vector matches `text` (see prefixQuery). Statements are prepared
 * (api/src/db/pg-client.ts), and PostgreSQL's generic plan for one cannot tell a word every other contact has
 * from one nobody has: the transaction plans its search with the words it was given instead.
 */
export async function whereSearch(
  tx: Knex.Transaction,
  query: Knex.QueryBuilder,
  column: string,
  text: string | undefined,
): Promise<void> {
  if (text === undefined) return;
  const tsquery = prefixQuery(text);
  // Nothing searchable (only punctuation) matches nothing, rather than everything.
  if (tsquery === null) {
    query.whereRaw('false');
    return;
  }
  await tx.raw(`SET LOCAL plan_cache_mode = force_custom_plan`);
  query.whereRaw(`?? @@ to_tsquery('simple', ?)`, [column, tsquery]);
}
