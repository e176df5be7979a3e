import type { Knex } from 'knex';

/**
 * Deletes what the query selects and says how many rows went. (knex-pglite does not report a delete's
 * row count — it returns the driver's result object — so the count comes from `RETURNING`.)
 */
export async function deleteRows(query: Knex.QueryBuilder): Promise<number> {
  const rows = (await query.delete().returning('id')) as unknown[];
  return rows.length;
}
