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

/** A module's row of a site: the site's agency, and a site the credential sees (client-limited ones see their client's). */
export const SITE_ROW = `agency_id = ${TENANT} AND EXISTS (SELECT 1 FROM public.sites s WHERE s.id = site_id)`;
/** A module's table's link to its site: its rows go with the site. */
export const OF_SITE = `FOREIGN KEY (agency_id, site_id) REFERENCES public.sites (agency_id, id) ON DELETE CASCADE`;

/** Row-level security on a module's tables (forced, to the site's tenant), and the application role's grants. */
export const guardSiteTables = (schema: string, tables: readonly string[]) =>
  tables.flatMap((table) => [
    `ALTER TABLE ${schema}.${table} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${schema}.${table} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant ON ${schema}.${table} USING (${SITE_ROW})`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${schema}.${table} TO ${APP_ROLE}`,
  ]);
