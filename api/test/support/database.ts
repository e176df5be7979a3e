import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrateToLatest, openDatabase } from '../../src/db/database.js';

async function onServer(serverUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new, empty database on the PostgreSQL server at `serverUrl`, named `<prefix>_<random>`. */
export async function createScratchDatabase(
  serverUrl: string,
  prefix: string,
): Promise<{ databaseUrl: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    drop: () => onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/**
 * Where a test suite keeps its data: a fresh database of its own on the PostgreSQL server named by
 * DATABASE_URL (CI sets it), or else an in-memory embedded database.
 */
export async function freshDatabase(): Promise<{ databaseUrl: string | null; drop(): Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return { databaseUrl: null, drop: async () => {} };
  return createScratchDatabase(serverUrl, 'dramac_test');
}

const migrationsDir = fileURLToPath(new URL('../../src/db/migrations/', import.meta.url));

/**
 * An embedded database with every migration applied, as a PGlite archive: each test platform starts from a
 * copy instead of running initdb and the migrations again (seconds each, on two cores, for every suite). It
 * is kept in the system's temporary directory under a hash of the migrations, so the test files (each in a
 * process of its own) share it, and a changed migration builds a new one. The node project's global set-up
 * builds it before the suites start.
 */
export async function migratedEmbeddedDatabase(): Promise<Blob> {
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(migrationsDir).sort())
    hash.update(file).update(fs.readFileSync(path.join(migrationsDir, file)));
  const archive = path.join(os.tmpdir(), `dramac-test-database-${hash.digest('hex').slice(0, 16)}.tar`);
  if (!fs.existsSync(archive)) {
    const db = await openDatabase({ databaseUrl: null, dataDir: null });
    try {
      await migrateToLatest(db.knex);
      const dump = Buffer.from(await (await db.dump!()).arrayBuffer());
      // Written aside, then renamed: a suite building it at the same time never reads half an archive.
      const partial = `${archive}.${process.pid}`;
      fs.writeFileSync(partial, dump);
      fs.renameSync(partial, archive);
    } finally {
      await db.close();
    }
  }
  return new Blob([fs.readFileSync(archive)]);
}
