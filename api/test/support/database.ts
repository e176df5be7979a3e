import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Where a test suite keeps its data: a fresh database of its own on the PostgreSQL server named by
 * DATABASE_URL (CI sets it), or else an in-memory embedded database.
 */
export async function freshDatabase(): Promise<{ databaseUrl: string | null; drop(): Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return { databaseUrl: null, drop: async () => {} };
  const name = `dramac_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    databaseUrl: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
