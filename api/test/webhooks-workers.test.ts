import type { Knex } from 'knex';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';
import { emitEvent } from '../src/webhooks/outbox.js';
import { startWebhookWorker } from '../src/webhooks/worker.js';
import { freshDatabase } from './support/database.js';
import { startTestPlatform } from './support/platform.js';
import { call, cleanUp, startServer, tempDir } from './support/process.js';
import { eventually, startReceiver } from './support/webhooks.js';

// Several API processes run the webhook worker on one database: no attempt may be sent twice. On PostgreSQL
// two server processes share the database; PGlite cannot be opened by two processes, so there two workers
// run in one process on one database.

const POSTGRES = Boolean(process.env.DATABASE_URL);
const EVENTS = 200;
const ENDPOINTS = 2;
const SCHEDULE = [100, 200, 300, 400, 500, 600, 700, 800, 900];
// Long enough that a receiver in this busy process is never given up on while it answers (that would be a
// retry, not a duplicate).
const TIMEOUT_MS = 5_000;
const HOUR = 3_600_000;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await cleanUp();
});

const emitAll = (knex: Knex, agencyId: string, count: number) =>
  knex.transaction(async (tx) => {
    const ids: string[] = [];
    for (let n = 0; n < count; n++) {
      ids.push(
        await emitEvent(
          { tx, afterCommit: () => {} },
          { type: 'platform.install.created', agencyId, clientId: null, siteId: null, payload: { n } },
        ),
      );
    }
    return ids;
  });

/** Two workers on one database, and the agency token and knex the test uses on it. */
async function twoWorkers(): Promise<{
  knex: Knex;
  agencyId: string;
  createEndpoint(url: string): Promise<void>;
}> {
  const signUpBody = {
    name: 'Two workers',
    owner: { email: `${crypto.randomUUID()}@example.com`, name: 'Owner', password: 'correct horse battery' },
  };
  if (POSTGRES) {
    const database = await freshDatabase();
    closers.push(database.drop);
    const env = {
      DATA_DIR: tempDir(),
      DATABASE_URL: database.databaseUrl!,
      HOOKS_ALLOW_LOCAL: 'true',
      WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      WEBHOOK_RETRY_SCHEDULE_MS: SCHEDULE.join(','),
    };
    // One after the other: the first migrates the fresh database.
    const first = await startServer(env);
    await startServer(env);
    const db = await openDatabase({ databaseUrl: database.databaseUrl, dataDir: null });
    closers.push(db.close);
    const signUp = await call(first, 'POST', '/v1/agencies', { body: signUpBody });
    const token = signUp.body.session.token as string;
    return {
      knex: db.knex,
      agencyId: signUp.body.agency.id,
      async createEndpoint(url) {
        const created = await call(first, 'POST', '/v1/webhooks', {
          token,
          body: { url, event_types: ['platform.install.created'] },
        });
        expect(created.status, created.text).toBe(201);
      },
    };
  }
  const timing = { retrySchedule: SCHEDULE, timeoutMs: TIMEOUT_MS, pollMs: 50 };
  const platform = await startTestPlatform({ webhooks: timing });
  closers.push(platform.close);
  const second = startWebhookWorker({
    knex: platform.db.knex,
    logger: createLogger('silent'),
    allowLocal: true,
    ...timing,
  });
  closers.push(second.stop);
  const signUp = await platform.request('POST', '/v1/agencies', { body: signUpBody });
  const token = signUp.body.session.token as string;
  return {
    knex: platform.db.knex,
    agencyId: signUp.body.agency.id,
    async createEndpoint(url) {
      const created = await platform.request('POST', '/v1/webhooks', {
        token,
        body: { url, event_types: ['platform.install.created'] },
      });
      expect(created.status, created.text).toBe(201);
    },
  };
}

describe('two webhook workers on one database', () => {
  it(`deliver every event and send no attempt twice (${POSTGRES ? 'two processes, PostgreSQL' : 'one process, PGlite'})`, async () => {
    const { knex, agencyId, createEndpoint } = await twoWorkers();
    // Every answer the receiver gave, per endpoint and webhook-id, in order: one entry per attempt received.
    const answers = new Map<string, number[]>();
    const hook = await startReceiver((request) => {
      const key = `${request.path} ${request.id}`;
      const status = Math.random() < 0.25 ? 503 : 200;
      answers.set(key, [...(answers.get(key) ?? []), status]);
      return { status, delayMs: Math.floor(Math.random() * 10) };
    });
    closers.push(hook.close);
    for (let i = 0; i < ENDPOINTS; i++) await createEndpoint(`${hook.url}/${i}`);

    // All at once, in one transaction: both workers find them due together.
    const eventIds = await emitAll(knex, agencyId, EVENTS);

    const settled = async () =>
      (await knex('webhook_deliveries')
        .join('webhook_endpoints', 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id')
        .whereIn('event_id', eventIds)
        .select('webhook_endpoints.url', 'event_id', 'status', 'attempts')) as {
        url: string;
        event_id: string;
        status: string;
        attempts: number;
      }[];
    const deliveries = await eventually(
      async () => {
        const rows = await settled();
        return rows.length === EVENTS * ENDPOINTS && rows.every((row) => row.status !== 'pending') && rows;
      },
      60_000,
      'every delivery settled',
    );

    expect(deliveries.filter((d) => d.status !== 'succeeded')).toEqual([]);
    for (const delivery of deliveries) {
      const received = answers.get(`${new URL(delivery.url).pathname} ${delivery.event_id}`);
      // Each attempt the database counts reached the receiver once; nothing came after the one success.
      expect(received, delivery.url).toBeDefined();
      expect(received!.length, `${delivery.url} ${delivery.event_id}`).toBe(delivery.attempts);
      expect(received!.indexOf(200), `${delivery.url} ${delivery.event_id}`).toBe(received!.length - 1);
    }
    expect(answers.size).toBe(EVENTS * ENDPOINTS);
    expect(new Set([...answers.keys()].map((key) => key.split(' ')[1]))).toEqual(new Set(eventIds));
    // The random failures happened: retries were part of the run.
    expect(deliveries.some((d) => d.attempts > 1)).toBe(true);
  }, 120_000);

  it('send nothing a worker no longer holds once its lease ran out', async () => {
    // The platform's own worker sleeps (it looks for work once an hour); the test runs two on a clock it moves.
    const platform = await startTestPlatform({ webhooks: { pollMs: HOUR } });
    closers.push(platform.close);
    let skew = 0;
    const options = {
      knex: platform.db.knex,
      logger: createLogger('silent'),
      allowLocal: true,
      retrySchedule: SCHEDULE,
      timeoutMs: TIMEOUT_MS,
      pollMs: 50,
      now: () => new Date(Date.now() + skew),
    };
    const { agencyId, token } = await platform.signUp('Lease');
    // The first attempt is answered late, and fails; every other one succeeds at once.
    const answers = new Map<string, number[]>();
    const hook = await startReceiver((request, count) => {
      const status = count === 1 ? 503 : 200;
      answers.set(request.id, [...(answers.get(request.id) ?? []), status]);
      return { status, delayMs: count === 1 ? 500 : 0 };
    });
    closers.push(hook.close);
    const created = await platform.request('POST', '/v1/webhooks', {
      token,
      body: { url: hook.url, event_types: ['platform.install.created'] },
    });
    expect(created.status, created.text).toBe(201);
    const events = await emitAll(platform.db.knex, agencyId, 5);

    const first = startWebhookWorker(options);
    closers.push(first.stop);
    // The first worker holds all five and sends them one after another; it is still waiting for the first answer…
    await eventually(async () => hook.received.length === 1, 10_000, 'the first attempt');
    // …when the clock says every lease it holds ran out: the second worker claims the five and sends them.
    skew = HOUR;
    const second = startWebhookWorker(options);
    closers.push(second.stop);
    await eventually(
      async () =>
        (await platform.db.knex('webhook_deliveries').whereIn('event_id', events).where({ status: 'succeeded' }))
          .length === 5,
      10_000,
      'every delivery',
    );
    await first.stop(); // its first attempt recorded (or not), and the rest of its group gone through

    expect(answers.get(events[0]!)).toEqual([503, 200]);
    for (const id of events.slice(1)) expect(answers.get(id), id).toEqual([200]);
  });
});
