import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, rollbackAll, type Database } from '../src/db/database.js';
import { migrationSource } from '../src/db/migrations/index.js';
import { freshDatabase } from './support/database.js';

let db: Database;
let drop: () => Promise<void>;

beforeAll(async () => {
  const fresh = await freshDatabase();
  drop = fresh.drop;
  db = await openDatabase({ databaseUrl: fresh.databaseUrl, dataDir: null });
});
afterAll(async () => {
  await db?.close();
  await drop?.();
});

const tables = async () =>
  (await db.knex.raw(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'knex\\_%'`))
    .rows.length as number;

describe('migrations', () => {
  it('apply in order, roll all the way back, and apply again', async () => {
    const all = await migrationSource.getMigrations([]);
    expect(await migrateToLatest(db.knex)).toEqual(all);
    expect(await tables()).toBeGreaterThan(0);
    expect(await migrateToLatest(db.knex)).toEqual([]);

    await rollbackAll(db.knex);
    expect(await tables()).toBe(0);
    const { rows } = await db.knex.raw(`SELECT count(*)::int AS n FROM pg_proc WHERE proname LIKE 'dramac\\_%'`);
    expect(rows[0].n).toBe(0);

    expect(await migrateToLatest(db.knex)).toEqual(all);
  });

  it('roll the module system back with the module schemas it made, leaving the platform as it was', async () => {
    await db.knex.raw('CREATE SCHEMA mod_acme__faq');
    await db.knex.raw('CREATE TABLE mod_acme__faq.questions (id uuid PRIMARY KEY)');
    // Newest first, down to the webhooks' tables (they refer to agencies), then the module system.
    const all = await migrationSource.getMigrations([]);
    const latest = async () =>
      ((await db.knex.migrate.list({ migrationSource }))[0] as { name: string }[]).at(-1)?.name;
    const rollBackTo = async (name: string) => {
      while ((await latest()) !== name) {
        if (!(await latest())) throw new Error(`${name} was never reached`);
        await db.knex.migrate.down({ migrationSource });
      }
    };
    await rollBackTo('0007_outbox_retention');
    // The outbox's retention indexes.
    await db.knex.migrate.down({ migrationSource });
    const indexes = await db.knex.raw(`SELECT indexname FROM pg_indexes WHERE indexname = 'outbox_created'`);
    expect(indexes.rows).toEqual([]);
    await rollBackTo('0005_module_roles');
    // Custom roles.
    await db.knex.migrate.down({ migrationSource });
    const roleTables = await db.knex.raw(`SELECT tablename FROM pg_tables WHERE tablename LIKE '%client\\_roles'`);
    expect(roleTables.rows).toEqual([]);
    const constraint = await db.knex.raw(`SELECT 1 FROM pg_constraint WHERE conname = 'users_client_member'`);
    expect(constraint.rows).toEqual([]);
    await rollBackTo('0003_webhooks');
    await db.knex.migrate.down({ migrationSource });
    const webhookTables = await db.knex.raw(
      `SELECT tablename FROM pg_tables WHERE tablename LIKE 'webhook%' OR tablename = 'outbox'`,
    );
    expect(webhookTables.rows).toEqual([]);
    await db.knex.migrate.down({ migrationSource });
    const schemas = await db.knex.raw(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mod\\_%'`);
    expect(schemas.rows).toEqual([]);
    const columns = await db.knex.raw(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'agencies'`,
    );
    expect(columns.rows.map((row: { column_name: string }) => row.column_name)).not.toContain('operator');
    // The credential lookup is the first migration's again (no `operator` column in its result).
    const lookup = await db.knex.raw(
      `SELECT pg_get_function_result('dramac_authenticate(bytea)'::regprocedure) AS result`,
    );
    expect(lookup.rows[0].result).not.toContain('operator');
    expect(await migrateToLatest(db.knex)).toEqual(all.slice(1));
  });
});
