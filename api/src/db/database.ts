import knexFactory, { type Knex } from 'knex';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import ClientPgLite from 'knex-pglite';
import pg from 'pg';
import { lockDataDir } from './lock.js';
import { PipelinedPgClient } from './pg-client.js';
import { APP_ROLE } from './migrations/sql.js';
import { StartupError } from './startup-error.js';
import { migrationSource } from './migrations/index.js';

// Postgres `bigint` counts come back as strings by default; ours fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface Database {
  knex: Knex;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
  /** PGlite only: the whole database as a data-directory archive, for `loadDataDir`. */
  dump?(): Promise<Blob>;
}

export interface DatabaseOptions {
  /** A PostgreSQL URL; without it the embedded PGlite database is used. */
  databaseUrl: string | null;
  /** PGlite's directory; `null` keeps the embedded database in memory (tests). */
  dataDir: string | null;
  /**
   * An in-memory database starts as a copy of this archive (`dump`) instead of an empty one: tests start each
   * platform from one migrated database, skipping the seconds initdb and the migrations take.
   */
  loadDataDir?: Blob;
}

// With PGlite's single connection, a query outside the request's transaction waits for that
// transaction forever; fail fast so such a bug shows up in tests instead of hanging.
const ACQUIRE_TIMEOUT_MS = 5_000;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const knex = knexFactory({
      client: PipelinedPgClient as unknown as typeof Knex.Client,
      // No JIT: requests are short, and compiling a query whose cost the planner overrates (a search under
      // row-level security) took ~500 ms on this machine, far longer than running it.
      connection: { connectionString: options.databaseUrl, options: '-c jit=off' },
      pool: { min: 0, max: 10 },
      acquireConnectionTimeout: ACQUIRE_TIMEOUT_MS,
    });
    return { knex, kind: 'postgres', close: () => knex.destroy() };
  }
  const unlock = options.dataDir ? lockDataDir(options.dataDir) : () => {};
  try {
    const pglite = new PGlite({
      dataDir: options.dataDir ?? undefined,
      loadDataDir: options.dataDir ? undefined : options.loadDataDir,
      extensions: { btree_gist },
    });
    // Starting the WASM engine takes seconds on a busy machine: not something the pool's acquire timeout
    // (meant for a connection held by a forgotten transaction) should cut short.
    await pglite.waitReady;
    const knex = knexFactory({
      client: ClientPgLite as unknown as typeof Knex.Client,
      // btree_gist: the booking module's exclusion constraint compares staff ids inside a GiST index.
      // (A function: knex copies a plain connection object, and the copy would lose the instance.)
      connection: (() => ({ pglite })) as never,
      acquireConnectionTimeout: ACQUIRE_TIMEOUT_MS,
    });
    return {
      knex,
      kind: 'pglite',
      dump: () => pglite.dumpDataDir('none'),
      async close() {
        await knex.destroy();
        unlock();
      },
    };
  } catch (error) {
    unlock();
    throw error;
  }
}

export async function migrateToLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

export async function rollbackAll(knex: Knex): Promise<void> {
  await knex.migrate.rollback({ migrationSource }, true);
}

interface RoleFacts {
  name: string;
  bypasses: boolean;
  member: boolean | null;
}

async function roleFacts(knex: Knex): Promise<RoleFacts> {
  const { rows } = (await knex.raw(
    `SELECT current_user AS name, rolsuper OR rolbypassrls AS bypasses,
            CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ?) THEN pg_has_role(current_user, ?, 'MEMBER') END AS member
       FROM pg_roles WHERE rolname = current_user`,
    [APP_ROLE, APP_ROLE],
  )) as { rows: RoleFacts[] };
  return rows[0] ?? { name: '(unknown)', bypasses: false, member: null };
}

/**
 * Checked before migrating: the role the server connects as must bypass row-level security, as the owner
 * of the functions that look credentials up before a tenant is known (docs/decisions/0002).
 */
export async function assertMayOwnSchema(knex: Knex): Promise<void> {
  const role = await roleFacts(knex);
  if (!role.bypasses) {
    throw new StartupError(
      `The database role ${role.name} has neither SUPERUSER nor BYPASSRLS. Connect (DATABASE_URL) as the ` +
        `schema's owner with BYPASSRLS: sign-in looks credentials up across tenants through functions it owns.`,
    );
  }
}

/** Checked after migrating (which creates the role): every request runs as the application role. */
export async function assertCanBecomeAppRole(knex: Knex): Promise<void> {
  const role = await roleFacts(knex);
  if (role.member !== true) {
    throw new StartupError(
      `The database role ${role.name} cannot become ${APP_ROLE}: GRANT ${APP_ROLE} TO ${role.name}.`,
    );
  }
}
