/**
 * One server under test, run as a child process of bench/list-sites.ts (forked with an IPC channel):
 *
 *   list-sites-server.ts full <databaseUrl>   the whole platform, as in production (startPlatform)
 *   list-sites-server.ts bare <databaseUrl>   express 5 + pg.Pool running the same query, nothing else
 *
 * Both answer `GET /v1/sites?limit=20`. The child reports `{ ready: url }` once it listens, answers `'cpu'`
 * with its CPU usage, and shuts down (servers closed, pools destroyed) and exits when the parent sends
 * `'stop'` or goes away.
 */
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { pino } from 'pino';
import { loadConfig } from '../api/src/config.js';
import { startPlatform } from '../api/src/server.js';

export type ServerKind = 'full' | 'bare' | 'framed';

const LOOPBACK = '127.0.0.1';

export type ChildMessage = { ready: string } | { failed: string } | { cpu: NodeJS.CpuUsage };

/** The platform as production runs it: no response validation, request logs at `info` (to /dev/null). */
async function startFull(databaseUrl: string): Promise<{ url: string; stop(): Promise<void> }> {
  // As createLogger (api/src/logger.ts) makes it, to /dev/null. No `redact`: production has none (the request
  // serializers keep headers out of the logs), and it would bill the full stack for work production skips.
  const logger = pino({ level: 'info' }, pino.destination('/dev/null'));
  const config = loadConfig({
    PORT: '0',
    HOST: LOOPBACK,
    PUBLIC_URL: `http://${LOOPBACK}`,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
  });
  const platform = await startPlatform(config, { logger, validateResponses: false });
  const port = new URL(platform.url).port;
  return { url: `http://${LOOPBACK}:${port}`, stop: () => platform.stop() };
}

/** A page as the platform shapes it (`limit + 1` rows were asked for, to tell whether more follow). */
function pageOf(rows: { id: string }[], limit: number) {
  const hasMore = rows.length > limit;
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, has_more: hasMore, next_cursor: hasMore && last ? Buffer.from(last.id).toString('base64url') : null };
}

/** Listens on loopback; `stop` closes the server, then the pool. */
async function serve(app: express.Express, pool: pg.Pool): Promise<{ url: string; stop(): Promise<void> }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(0, LOOPBACK, (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${LOOPBACK}:${port}`,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pool.end();
    },
  };
}

/** The least a server can do for the same answer: one pooled query, serialized as the platform does. */
async function startBare(databaseUrl: string, agencyId: string): Promise<{ url: string; stop(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const app = express();
  app.disable('x-powered-by');
  app.get('/v1/sites', async (req, res) => {
    const limit = Number(req.query.limit ?? 20);
    const { rows } = await pool.query(
      'SELECT id, client_id, name, created_at, updated_at FROM sites WHERE agency_id = $1 ORDER BY id LIMIT $2',
      [agencyId, limit + 1],
    );
    res.json(pageOf(rows, limit));
  });
  return serve(app, pool);
}

/**
 * The bare server plus only what the platform's database protocol demands for the same answer: a
 * transaction, the credential lookup that enters the tenant (row-level security), the query, COMMIT — four
 * statements on one pooled connection, with no framework. What separates it from bare is the price of the
 * tenancy design; what separates the full stack from it is the price of our Node layers.
 */
async function startFramed(databaseUrl: string): Promise<{ url: string; stop(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const app = express();
  app.disable('x-powered-by');
  app.get('/v1/sites', async (req, res) => {
    const limit = Number(req.query.limit ?? 20);
    const token = (req.get('authorization') ?? '').replace(/^Bearer /, '');
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const auth = await client.query(
        `SELECT set_config('role', 'dramac_app', true), set_config('app.tenant_id', a.agency_id::text, true),
                set_config('app.client_id', coalesce(a.client_id::text, ''), true)
           FROM dramac_authenticate($1) a`,
        [createHash('sha256').update(token).digest()],
      );
      if (auth.rows.length === 0) {
        await client.query('ROLLBACK');
        res.status(401).end();
        return;
      }
      const { rows } = await client.query(
        'SELECT id, client_id, name, created_at, updated_at FROM sites ORDER BY id LIMIT $1',
        [limit + 1],
      );
      await client.query('COMMIT');
      res.json(pageOf(rows, limit));
    } finally {
      client.release();
    }
  });
  return serve(app, pool);
}

async function main(): Promise<void> {
  const [kind, databaseUrl, agencyId] = process.argv.slice(2) as [ServerKind, string, string | undefined];
  if (!process.send) throw new Error('list-sites-server.ts is started by bench/list-sites.ts');
  const server =
    kind === 'full'
      ? await startFull(databaseUrl)
      : kind === 'framed'
        ? await startFramed(databaseUrl)
        : await startBare(databaseUrl, agencyId ?? '');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= server
      .stop()
      .catch((error: unknown) => console.error(`[${kind}] stop failed:`, error))
      // Leave through a normal exit so that --cpu-prof, when on, writes its profile.
      .finally(() => process.exit(0));
    return stopping;
  };
  process.on('message', (message) => {
    if (message === 'stop') void stop();
    // CPU time used so far, so the parent can work out the server's CPU time per request.
    if (message === 'cpu') process.send!({ cpu: process.cpuUsage() } satisfies ChildMessage);
  });
  process.on('disconnect', () => void stop());
  process.send({ ready: server.url } satisfies ChildMessage);
}

main().catch((error: unknown) => {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  if (process.send) process.send({ failed: text } satisfies ChildMessage, () => process.exit(1));
  else {
    console.error(text);
    process.exit(1);
  }
});
