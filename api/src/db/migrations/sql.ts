import type { Knex } from 'knex';

/** The database role every request runs as (see docs/decisions/0002-tenancy-with-row-level-security.md). */
export const APP_ROLE = 'dramac_app';

/** Runs statements one by one: PGlite's driver takes a single statement per query. */
export async function runAll(knex: Knex, statements: string[]): Promise<void> {
  for (const statement of statements) await knex.raw(statement);
}

// The tenant in policies is read through scalar subqueries: evaluated once per statement (an InitPlan)
// instead of once per row, and usable as an index condition — a tenant's list is an index scan, not a
// sequential scan that calls current_setting() for every row of every tenant.
export const TENANT = '(SELECT app_tenant())';
export const CLIENT = '(SELECT app_client())';

/** Rows of the tenant, narrowed to one client when the credential is limited to one. */
export const inTenant = (clientColumn = 'client_id') =>
  `agency_id = ${TENANT} AND (${CLIENT} IS NULL OR ${clientColumn} = ${CLIENT})`;
