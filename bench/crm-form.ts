/**
 * `npm run bench:crm-form`: contact-form submissions per second — `POST /v1/crm/form-submissions` with the
 * publishable key and an allowed Origin, as `<dm-contact-form>` sends it — through HTTP on the real platform,
 * against baselines measured in the same run on the same platform:
 *
 *  - the baseline: `GET /v1/public/site` (the same key and origin checks, one read-only transaction with one
 *    small query): what any public request costs; and `GET /v1/public/site-config`, what the loader asks;
 *  - honeypot submissions: the whole submission path (rate limits, the key checked twice, validation against
 *    the install's settings) up to the spam check, and nothing written;
 *  - new contacts: each submission a new email address (contact, address, submission, two timeline lines,
 *    two outbox events);
 *  - known contacts: addresses of contacts that exist (submission, timeline line, one event; no contact write).
 *
 * Each is measured sequentially (BENCH_REQUESTS after BENCH_WARMUP, one kept-alive connection: p50/p99 and
 * req/s) and under load (autocannon, BENCH_CONNECTIONS connections for BENCH_DURATION s: req/s), and shown
 * as a ratio to the baseline's rate. The rate limits stay on (their cost is part of a submission) with
 * allowances no run reaches. A benchmark, not a test: only failures (a non-2xx answer, a crash) exit non-zero.
 *
 * Environment (all optional):
 *   BENCH_DB                           postgres (default), pglite (embedded, in memory) or both
 *   BENCH_DATABASE_URL / DATABASE_URL  the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_REQUESTS                     sequential requests measured per kind (default 300)
 *   BENCH_WARMUP                       sequential requests before measuring (default 30)
 *   BENCH_CONNECTIONS, BENCH_DURATION  autocannon's connections and seconds (default 4 and 5; 0 s skips it)
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { appointOperator } from '../api/src/platform/operator.js';
import type { Platform } from '../api/src/server.js';
import { crmModule } from '../api/test/support/crm.js';
import {
  envNumber,
  progress,
  runBench,
  sequential as timedSequence,
  signUp,
  startBenchPlatform,
  stats as percentiles,
  table,
  type Backend,
} from './harness.js';
import { call } from './http.js';

const REQUESTS = envNumber('BENCH_REQUESTS', 300, 10);
const WARMUP = envNumber('BENCH_WARMUP', 30);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 4, 1);
const DURATION_S = envNumber('BENCH_DURATION', 5);
/** Everything — start-up, seeding, every run on every database, shutdown — must end well within this. */
const DEADLINE_MS = 300_000;
const ORIGIN = 'https://bench.example';
/** Allowances no run reaches: the counters still count. */
const UNREACHED = { points: 1e9, duration: 600 };

// ---------------------------------------------------------------------------------------------------------
// Set-up through the HTTP API

/** The operator publishes the CRM; an agency installs it on a site with a full form. */
async function setUp(platform: Platform, base: string): Promise<{ publishableKey: string }> {
  const operator = await signUp(base, 'Operator');
  await appointOperator(platform.db.knex, operator.agencyId);
  await call(base, 'POST', '/v1/modules', operator.token, await crmModule());
  const { token } = await signUp(base, 'Bench Agency');
  const client = await call(base, 'POST', '/v1/clients', token, { name: 'Bench client' });
  const site = await call(base, 'POST', '/v1/sites', token, { client_id: client.id, name: 'bench.example' });
  await call(base, 'POST', `/v1/sites/${site.id}/origins`, token, { origin: ORIGIN });
  const key = await call(base, 'POST', '/v1/keys', token, { type: 'publishable', name: 'web', site_id: site.id });
  await call(base, 'POST', `/v1/sites/${site.id}/installs`, token, {
    module_id: 'crm',
    settings: {
      'dm-contact-form': {
        fields: [
          { name: 'first_name', required: true },
          { name: 'last_name' },
          { name: 'email', required: true },
          { name: 'phone' },
          { name: 'company' },
          { name: 'message', required: true },
        ],
        consent: { enabled: true, text: 'I agree that Bench Ltd stores my details to answer me.' },
        tags: ['website'],
      },
    },
  });
  return { publishableKey: key.secret };
}

let sequence = 0;
/** A person's submission; `email` says who (a new address each time by default). */
function submission(extra: { email?: string; honeypot?: string } = {}): string {
  const n = ++sequence;
  return JSON.stringify({
    fields: {
      email: extra.email ?? `visitor-${n}-${randomUUID().slice(0, 8)}@example.com`,
      first_name: 'Visitor',
      last_name: `Number ${n}`,
      phone: '+49 30 1234567',
      company: 'Example GmbH',
      message: 'Hello, I would like an offer for a new website with a shop. Please call me back this week.',
    },
    consent: true,
    locale: 'en',
    page_url: `${ORIGIN}/contact?utm_source=newsletter`,
    referrer: 'https://www.search.example/',
    utm: { source: 'newsletter', medium: 'email', campaign: 'bench' },
    honeypot: extra.honeypot ?? '',
    elapsed_ms: 8000,
  });
}

// ---------------------------------------------------------------------------------------------------------
// Measurement

interface Stats {
  p50: number;
  p99: number;
  rps: number;
}

interface Kind {
  label: string;
  method: 'GET' | 'POST';
  path: string;
  expect: number;
  body?: () => string;
}

const request = (base: string, key: string, kind: Kind) => ({
  url: new URL(`${base}${kind.path}?key=${encodeURIComponent(key)}`),
  method: kind.method,
  headers: { origin: ORIGIN, ...(kind.body ? { 'content-type': 'application/json' } : {}) },
});

async function sequential(base: string, key: string, kind: Kind, count: number): Promise<Stats> {
  const begin = performance.now();
  const run = await timedSequence(count, () => ({ ...request(base, key, kind), body: kind.body?.() }), kind.expect);
  const { p50, p99 } = percentiles(run.ms);
  return { p50, p99, rps: count / ((performance.now() - begin) / 1000) };
}

function load(base: string, key: string, kind: Kind): Promise<autocannon.Result> {
  const url = `${base}${kind.path}?key=${encodeURIComponent(key)}`;
  const headers: Record<string, string> = { origin: ORIGIN };
  if (kind.body) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        method: kind.method,
        connections: CONNECTIONS,
        duration: DURATION_S,
        headers,
        ...(kind.body ? { requests: [{ setupRequest: (request) => ({ ...request, body: kind.body!() }) }] } : {}),
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

interface Row {
  label: string;
  sequential: Stats;
  cannon: autocannon.Result | null;
}

async function runOn(backend: Backend, cleanUps: (() => Promise<void>)[]): Promise<Rows> {
  const { platform, base } = await startBenchPlatform(backend, cleanUps, {
    rateLimits: { formSubmissions: UNREACHED, formSubmissionsPerSite: UNREACHED },
  });

  progress(`${backend}: setting up through the API: the CRM published, installed with a full form`);
  const { publishableKey } = await setUp(platform, base);
  const known = Array.from({ length: 50 }, (_, index) => `known-${index}@example.com`);
  const kinds: Kind[] = [
    { label: 'baseline: GET /v1/public/site', method: 'GET', path: '/v1/public/site', expect: 200 },
    { label: 'GET /v1/public/site-config', method: 'GET', path: '/v1/public/site-config', expect: 200 },
    {
      label: 'honeypot submission (dropped)',
      method: 'POST',
      path: '/v1/crm/form-submissions',
      expect: 202,
      body: () => submission({ honeypot: 'https://spam.example' }),
    },
    {
      label: 'submission, new contact',
      method: 'POST',
      path: '/v1/crm/form-submissions',
      expect: 202,
      body: () => submission(),
    },
    {
      label: 'submission, known contact',
      method: 'POST',
      path: '/v1/crm/form-submissions',
      expect: 202,
      body: () => submission({ email: known[sequence % known.length] }),
    },
  ];
  // The known contacts exist before they are measured.
  const [, , , newContact] = kinds;
  await timedSequence(
    known.length,
    (index) => ({ ...request(base, publishableKey, newContact!), body: submission({ email: known[index] }) }),
    202,
  );

  const rows: Row[] = [];
  for (const kind of kinds) {
    progress(`${backend}: ${kind.label}: ${WARMUP} warm-up + ${REQUESTS} sequential`);
    await sequential(base, publishableKey, kind, WARMUP);
    const measured = await sequential(base, publishableKey, kind, REQUESTS);
    let cannon: autocannon.Result | null = null;
    if (DURATION_S > 0) {
      progress(`${backend}: ${kind.label}: autocannon, ${CONNECTIONS} connections for ${DURATION_S} s`);
      cannon = await load(base, publishableKey, kind);
    }
    rows.push({ label: kind.label, sequential: measured, cannon });
  }
  const contacts = await platform.db.knex('mod_crm.contacts').count({ n: '*' });
  const submissions = await platform.db.knex('mod_crm.form_submissions').count({ n: '*' });
  progress(`${backend}: stored ${contacts[0]!.n} contacts and ${submissions[0]!.n} submissions`);
  return { backend, rows };
}

interface Rows {
  backend: Backend;
  rows: Row[];
}

function print({ backend, rows }: Rows): void {
  const [baseline] = rows;
  const ratio = (value: number, of: number) => (of > 0 ? `${(value / of).toFixed(2)}×` : '');
  console.log();
  console.log(
    `${backend}: contact-form submissions (6 fields, consent, page, referrer, UTM) vs the site configuration, ` +
      `sequential (${REQUESTS} after ${WARMUP}) and under load (${CONNECTIONS} connections, ${DURATION_S} s)`,
  );
  const header = ['', 'seq p50 ms', 'seq p99 ms', 'seq req/s', '× baseline', 'load req/s', '× baseline', 'failed'];
  table([
    header,
    ...rows.map((row) => {
      const cannon = row.cannon;
      const loadRps = cannon?.requests.average ?? 0;
      return [
        row.label,
        row.sequential.p50.toFixed(2),
        row.sequential.p99.toFixed(2),
        row.sequential.rps.toFixed(0),
        ratio(row.sequential.rps, baseline!.sequential.rps),
        cannon ? loadRps.toFixed(0) : '',
        cannon ? ratio(loadRps, baseline!.cannon!.requests.average) : '',
        cannon ? String(cannon.non2xx + cannon.errors) : '',
      ];
    }),
  ]);
}

await runBench({
  deadlineMs: DEADLINE_MS,
  run: runOn,
  print,
  valid: ({ rows }) => rows.every((row) => !row.cannon || row.cannon.non2xx + row.cannon.errors === 0),
});
