import type { Knex } from 'knex';
import { APP_ROLE } from '../db/migrations/sql.js';
import type { Schemas } from '../http/operations.js';
import { Problem } from '../http/problem.js';
import type { StoredFile } from './registry.js';

type Manifest = Schemas['ModuleManifest'];
export type CollectionDefinition = Schemas['ModuleCollection'];

/**
 * Where a module's data lives: a Postgres schema of its own, `mod_` + its id with `.` → `__` and
 * `-` → `_`. Ids have neither `_` nor `--`, so the mapping is one-to-one and two modules never share a
 * schema; collection names are table names inside it. See docs/decisions/0006-module-system.md.
 */
export function schemaOf(moduleId: string): string {
  return `mod_${moduleId.replace(/\./g, '__').replace(/-/g, '_')}`;
}

/** A collection's table, for knex: `tx(table(…))`. */
export function collectionTable(moduleId: string, collection: string): string {
  return `${schemaOf(moduleId)}.${collection}`;
}

const quoted = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** The per-field index behind `filter` and `sort`: a site's records ordered by the field, then by id. */
const fieldIndex = (schema: string, collection: string, field: string) =>
  `CREATE INDEX IF NOT EXISTS ${quoted(`${collection}__${field}`)} ON ${quoted(schema)}.${quoted(collection)}
     (site_id, coalesce(data -> '${field.replace(/'/g, "''")}', 'null'::jsonb), id)`;

/**
 * Creates what a module version needs in the database — its schema; its collections' tables, indexes and
 * row-level security; a first-party module's migrations — inside the request's transaction, so a failed
 * install or upgrade leaves no trace. Collections are `IF NOT EXISTS`: versions only add. This runs as the
 * schema owner (the role the server connects as); the transaction returns to the application role after.
 */
export async function provisionModule(tx: Knex.Transaction, version: { manifest: Manifest; files: StoredFile[] }) {
  const { manifest } = version;
  const collections = Object.entries(manifest.collections ?? {});
  if (collections.length === 0 && !manifest.database?.migrations?.length) return;
  const schema = schemaOf(manifest.id);
  const tenant = `agency_id = (SELECT public.app_tenant()) AND EXISTS (SELECT 1 FROM public.sites s WHERE s.id = site_id)`;
  await tx.raw(`SELECT set_config('role', 'none', true)`);
  // Two installs of a new module at once would race to create the same tables.
  await tx.raw(`SELECT pg_advisory_xact_lock(hashtext(?))`, [schema]);
  await tx.raw(`CREATE SCHEMA IF NOT EXISTS ${quoted(schema)}`);
  await tx.raw(`GRANT USAGE ON SCHEMA ${quoted(schema)} TO ${APP_ROLE}`);
  for (const [name, definition] of collections) {
    const table = `${quoted(schema)}.${quoted(name)}`;
    const exists = await tx.raw(`SELECT to_regclass(?) AS oid`, [`${schema}.${name}`]);
    if (!(exists as { rows: { oid: string | null }[] }).rows[0]?.oid) {
      for (const statement of [
        `CREATE TABLE ${table} (
           id uuid PRIMARY KEY,
           agency_id uuid NOT NULL,
           site_id uuid NOT NULL,
           data jsonb NOT NULL,
           search tsvector,
           created_at timestamptz NOT NULL DEFAULT now(),
           updated_at timestamptz NOT NULL DEFAULT now(),
           FOREIGN KEY (agency_id, site_id) REFERENCES public.sites (agency_id, id) ON DELETE CASCADE)`,
        `CREATE INDEX ${quoted(`${name}__site`)} ON ${table} (site_id, id)`,
        `CREATE INDEX ${quoted(`${name}__data`)} ON ${table} USING gin (data jsonb_path_ops)`,
        `CREATE INDEX ${quoted(`${name}__search`)} ON ${table} USING gin (search)`,
        `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
        `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
        `CREATE POLICY tenant ON ${table} USING (${tenant})`,
        `GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${APP_ROLE}`,
      ]) {
        await tx.raw(statement);
      }
    }
    for (const field of definition.indexes ?? []) await tx.raw(fieldIndex(schema, name, field));
  }
  await runMigrations(tx, schema, version);
  await tx.raw(`SELECT set_config('role', ?, true)`, [APP_ROLE]);
}

/**
 * Runs the migrations a first-party version lists that have not run yet, in order, each once per module,
 * with the module's schema first on the search path. A failing one fails the request, and so undoes all.
 */
async function runMigrations(
  tx: Knex.Transaction,
  schema: string,
  { manifest, files }: { manifest: Manifest; files: StoredFile[] },
) {
  const migrations = manifest.database?.migrations ?? [];
  if (migrations.length === 0) return;
  const { applied } = (await tx('modules').where({ id: manifest.id }).first({ applied: 'applied_migrations' })) as {
    applied: string[];
  };
  const { rows } = (await tx.raw(`SELECT current_setting('search_path') AS path`)) as { rows: { path: string }[] };
  await tx.raw(`SELECT set_config('search_path', ?, true)`, [`${quoted(schema)}, public`]);
  for (const [index, name] of migrations.entries()) {
    if (applied.includes(name)) continue;
    const file = files.find((candidate) => candidate.path === name)!;
    const { content } = await tx('bundle_files').where({ sha256: file.sha256 }).first('content');
    try {
      await tx.raw(Buffer.from(content as Uint8Array).toString('utf8'));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Problem(
        422,
        'migration_failed',
        'Unprocessable',
        `${manifest.id}@${manifest.version}: ${name} failed: ${reason}. Nothing was changed.`,
        [{ path: `/database/migrations/${index}`, message: reason }],
      );
    }
    applied.push(name);
  }
  await tx.raw(`SELECT set_config('search_path', ?, true)`, [rows[0]!.path]);
  await tx('modules').where({ id: manifest.id }).update({ applied_migrations: applied });
}

/** The text full-text search looks in: the collection's `search` fields, one after the other. */
export function searchText(definition: CollectionDefinition, data: Record<string, unknown>): string {
  return (definition.search ?? [])
    .map((field) => data[field])
    .filter((value): value is string => typeof value === 'string')
    .join('\n');
}

/** Deletes a site's records of every collection the module has had; the tables stay for other sites. */
export async function purgeSiteData(knex: Knex | Knex.Transaction, moduleId: string, siteId: string) {
  const { rows } = (await knex.raw(
    `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = ?`,
    [schemaOf(moduleId)],
  )) as { rows: { name: string }[] };
  for (const { name } of rows) await knex.raw(`DELETE FROM ${name} WHERE site_id = ?`, [siteId]);
}
