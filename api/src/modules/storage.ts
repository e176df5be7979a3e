import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { APP_ROLE } from '../db/migrations/sql.js';
import type { Schemas } from '../http/operations.js';
import type { Manifest } from './manifest.js';

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

/** Whether the collection's table exists (an index of the same name does not count). */
export async function tableExists(tx: Knex.Transaction, moduleId: string, collection: string): Promise<boolean> {
  const { rows } = (await tx.raw(`SELECT 1 FROM pg_tables WHERE schemaname = ? AND tablename = ?`, [
    schemaOf(moduleId),
    collection,
  ])) as { rows: unknown[] };
  return rows.length > 0;
}

/**
 * The per-field index behind `filter` and `sort`: a site's records ordered by the field, then by id. Named
 * by a hash of the field, so that no field name, however long, makes two indexes' names meet.
 */
function fieldIndex(schema: string, collection: string, field: string) {
  const name = `${collection}__f_${createHash('sha256').update(field).digest('hex').slice(0, 16)}`;
  return `CREATE INDEX IF NOT EXISTS ${quoted(name)} ON ${quoted(schema)}.${quoted(collection)}
     (site_id, coalesce(data -> '${field.replace(/'/g, "''")}', 'null'::jsonb), id)`;
}

/**
 * Creates what a module version's collections need — the module's schema, its tables, indexes and
 * row-level security — when the version is published, in that request's transaction: a failed publish
 * leaves nothing, and installs find everything in place. `IF NOT EXISTS` throughout: versions only add.
 * It runs as the schema owner (the role the server connects as), and returns to the application role.
 */
export async function provisionCollections(tx: Knex.Transaction, manifest: Manifest): Promise<void> {
  const collections = Object.entries(manifest.collections ?? {});
  if (collections.length === 0) return;
  const schema = schemaOf(manifest.id);
  const tenant = `agency_id = (SELECT public.app_tenant()) AND EXISTS (SELECT 1 FROM public.sites s WHERE s.id = site_id)`;
  await tx.raw(`SELECT set_config('role', 'none', true)`);
  await tx.raw(`CREATE SCHEMA IF NOT EXISTS ${quoted(schema)}`);
  await tx.raw(`GRANT USAGE ON SCHEMA ${quoted(schema)} TO ${APP_ROLE}`);
  for (const [name, definition] of collections) {
    const table = `${quoted(schema)}.${quoted(name)}`;
    if (!(await tableExists(tx, manifest.id, name))) {
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
  await tx.raw(`SELECT set_config('role', ?, true)`, [APP_ROLE]);
}

/** The text full-text search looks in: the collection's `search` fields, one after the other. */
export function searchText(definition: CollectionDefinition, data: Record<string, unknown>): string {
  return (definition.search ?? [])
    .map((field) => data[field])
    .filter((value): value is string => typeof value === 'string')
    .join('\n');
}

/** Deletes a site's records of every collection the module has had (its schema holds only those). */
export async function purgeSiteData(knex: Knex | Knex.Transaction, moduleId: string, siteId: string) {
  const { rows } = (await knex.raw(
    `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = ?`,
    [schemaOf(moduleId)],
  )) as { rows: { name: string }[] };
  for (const { name } of rows) await knex.raw(`DELETE FROM ${name} WHERE site_id = ?`, [siteId]);
}
