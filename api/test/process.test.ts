import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freshDatabase } from './support/database.js';
import { call, cleanUp, clientNames, createClient, signIn, signUp, startServer, tempDir } from './support/process.js';

// The real server as `npm start` runs it, on the database of the pass (embedded, or PostgreSQL through
// DATABASE_URL). What only the embedded database does, or what happens before any database is reached, is in
// embedded-process.test.ts.

const POSTGRES = Boolean(process.env.DATABASE_URL);

afterEach(cleanUp);
afterAll(cleanUp);

describe('the server process', () => {
  it(`keeps its data across a SIGTERM restart (${POSTGRES ? 'PostgreSQL via DATABASE_URL' : 'embedded PGlite'})`, async () => {
    const database = await freshDatabase();
    try {
      const dataDir = tempDir();
      const env = { DATA_DIR: dataDir, DATABASE_URL: database.databaseUrl ?? undefined };
      expect(Boolean(database.databaseUrl)).toBe(POSTGRES);

      const first = await startServer(env);
      expect(first.stdout()).toContain(
        POSTGRES ? 'starting on PostgreSQL (DATABASE_URL)' : `starting on embedded PGlite in ${dataDir}`,
      );
      const { email, token } = await signUp(first);
      const clientId = await createClient(first, token, 'Survivor');
      expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      expect(first.stdout()).toContain('SIGTERM received');
      // A clean stop releases the embedded lock; PostgreSQL mode never touches the data directory.
      expect(fs.existsSync(path.join(dataDir, 'dramac.lock'))).toBe(false);
      if (POSTGRES) expect(fs.readdirSync(dataDir)).toEqual([]);

      const second = await startServer(env);
      const newToken = await signIn(second, email);
      expect(newToken).not.toBe(token);
      const listed = await call(second, 'GET', '/v1/clients', { token: newToken });
      expect(listed.status).toBe(200);
      expect(listed.body.data).toEqual([expect.objectContaining({ id: clientId, name: 'Survivor' })]);
      // The old session was stored too, so it still works.
      expect(await clientNames(second, token)).toEqual(['Survivor']);
      expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await cleanUp();
      await database.drop();
    }
  }, 60_000);
});
