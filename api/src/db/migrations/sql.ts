import type { Knex } from 'knex';

/** The database role every request runs as (see docs/decisions/0002-tenancy-with-row-level-security.md). */
export const APP_ROLE = 'dramac_app';

/** Runs statements one by one: PGlite's driver takes a single statement per query. */
export async function runAll(knex: Knex, statements: string[]): Promise<void> {
  for (const statement of statements) await knex.raw(statement);
}
