/**
 * `npm run bench:crm-search`: searching a site's CRM of 100,000 contacts through HTTP
 * (`GET /v1/sites/{siteId}/crm/contacts?q=…`), as the contacts screen's search box asks while someone types.
 *
 * Set-up through the API (the operator publishes the CRM, an agency installs it on a site); the contacts are
 * inserted straight into mod_crm as the schema owner (the API would take many minutes), with names, addresses
 * at a few dozen domains, phone numbers and tags drawn deterministically from small lists, so that common
 * names match thousands of contacts and rare ones a handful. The search vectors come from the table's trigger,
 * as for contacts made through the API.
 *
 * Measured, per database: BENCH_REQUESTS sequential searches (after a warm-up) cycling through the queries
 * below — a first letter, prefixes, whole names, name + surname prefix, an address, a domain, digits of a
 * phone number, a tag filter with a search, and a word nobody has — each query's p50/p99 and all together;
 * and the baseline, in the same run: the first page of the list without a search. Target: p99 of all searches
 * under 50 ms on PostgreSQL. A benchmark, not a test: a miss prints NOT MET; only failures exit non-zero.
 *
 * Environment (all optional): BENCH_DB (postgres, pglite or both), BENCH_DATABASE_URL / DATABASE_URL,
 * BENCH_REQUESTS (default 400), BENCH_WARMUP (default 40), BENCH_CONTACTS (default 100000).
 */
import type { Knex } from 'knex';
import { appointOperator } from '../api/src/platform/operator.js';
import { crmModule } from '../api/test/support/crm.js';
import {
  envNumber,
  ms,
  progress,
  runBench,
  sequential,
  signUp,
  startBenchPlatform,
  stats,
  table,
  type Backend,
  type Stats,
} from './harness.js';
import { call } from './http.js';

const REQUESTS = envNumber('BENCH_REQUESTS', 400, 10);
const WARMUP = envNumber('BENCH_WARMUP', 40);
const CONTACTS = envNumber('BENCH_CONTACTS', 100_000, 1000);
const TARGET_P99_MS = 50;
const DEADLINE_MS = 300_000;
const BATCH = 10_000;

const FIRST_NAMES = ['Maria', 'Anna', 'Jan', 'Lukas', 'Sofia', 'Noah', 'Emma', 'Paul', 'Mia', 'Leon', 'Lea', 'Finn'];
const RARE_FIRST_NAMES = ['Xaver', 'Quirin', 'Zelda', 'Ottilie'];
const LAST_NAMES = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz'];
const DOMAINS = Array.from({ length: 40 }, (_, i) => `company${i + 1}.example`);

/** What is typed, by what it stands for. Each runs REQUESTS / QUERIES.length times. */
const QUERIES: [string, Record<string, string>][] = [
  ['one letter', { q: 'm' }],
  ['prefix of a common name', { q: 'mar' }],
  ['a common first name', { q: 'maria' }],
  ['name and surname prefix', { q: 'maria wag' }],
  ['a rare first name', { q: 'ottilie' }],
  ['an address', { q: 'emma.wagner42@company3.example' }],
  ['a domain', { q: 'company17' }],
  ['digits of a phone', { q: '493010042' }],
  ['a tag and a name', { q: 'jan', tag: 'vip' }],
  ['a word nobody has', { q: 'zzyzx' }],
];

interface Seed {
  siteId: string;
  token: string;
}

async function setUp(platformKnex: Knex, base: string): Promise<Seed & { agencyId: string }> {
  const operator = await signUp(base, 'Operator');
  await appointOperator(platformKnex, operator.agencyId);
  await call(base, 'POST', '/v1/modules', operator.token, await crmModule());
  const { agencyId, token } = await signUp(base, 'Bench Agency');
  const client = await call(base, 'POST', '/v1/clients', token, { name: 'Bench client' });
  const site = await call(base, 'POST', '/v1/sites', token, { client_id: client.id, name: 'bench.example' });
  await call(base, 'POST', `/v1/sites/${site.id}/installs`, token, { module_id: 'crm' });
  return { agencyId, siteId: site.id, token };
}

/** CONTACTS contacts in batches, each with one address (and its row in contact_emails), newest last. */
async function seedContacts(knex: Knex, agencyId: string, siteId: string): Promise<void> {
  const firsts = [...FIRST_NAMES, ...RARE_FIRST_NAMES];
  for (let from = 1; from <= CONTACTS; from += BATCH) {
    const to = Math.min(CONTACTS, from + BATCH - 1);
    // A rare first name every 997th contact; the rest spread over the common ones.
    await knex.raw(
      `INSERT INTO mod_crm.contacts
         (id, agency_id, site_id, first_name, last_name, emails, phones, tags, lifecycle_stage, source, created_at, updated_at)
       SELECT gen_random_uuid(), ?, ?, f.name, l.name,
              ARRAY[lower(f.name) || '.' || lower(l.name) || i || '@' || (?::text[])[1 + i % ?]],
              ARRAY['+49 30 ' || (1000000 + i)],
              CASE WHEN i % 10 = 0 THEN ARRAY['vip'] ELSE '{}'::text[] END,
              (ARRAY['lead', 'customer', 'subscriber'])[1 + i % 3], 'import',
              now() - make_interval(secs => ? - i), now() - make_interval(secs => ? - i)
         FROM generate_series(?::int, ?::int) AS i,
              LATERAL (SELECT (?::text[])[CASE WHEN i % 997 = 0 THEN ? + 1 + i % ? ELSE 1 + (i * 7) % ? END] AS name) f,
              LATERAL (SELECT (?::text[])[1 + (i * 13) % ?] AS name) l`,
      [
        agencyId,
        siteId,
        DOMAINS,
        DOMAINS.length,
        CONTACTS,
        CONTACTS,
        from,
        to,
        firsts,
        FIRST_NAMES.length,
        RARE_FIRST_NAMES.length,
        FIRST_NAMES.length,
        LAST_NAMES,
        LAST_NAMES.length,
      ],
    );
    progress(`  ${to} contacts`);
  }
  await knex.raw(
    `INSERT INTO mod_crm.contact_emails (agency_id, site_id, contact_id, email)
     SELECT agency_id, site_id, id, emails[1] FROM mod_crm.contacts WHERE site_id = ?`,
    [siteId],
  );
  // PostgreSQL plans with fresh statistics, as it would on a database that grew to this size.
  await knex.raw('ANALYZE mod_crm.contacts');
  await knex.raw('ANALYZE mod_crm.contact_emails');
}

interface Report {
  backend: Backend;
  baseline: Stats;
  all: Stats;
  rps: number;
  byQuery: { label: string; stats: Stats; matches: string }[];
}

async function runOn(backend: Backend, cleanUps: (() => Promise<void>)[]): Promise<Report> {
  const { platform, base } = await startBenchPlatform(backend, cleanUps);
  progress(`${backend}: setting up through the API: the CRM on a site`);
  const seed = await setUp(platform.db.knex, base);
  progress(`${backend}: inserting ${CONTACTS} contacts`);
  await seedContacts(platform.db.knex, seed.agencyId, seed.siteId);

  const headers = { authorization: `Bearer ${seed.token}` };
  const urlOf = (query: Record<string, string>) => {
    const url = new URL(`${base}/v1/sites/${seed.siteId}/crm/contacts`);
    url.search = new URLSearchParams({ limit: '20', ...query }).toString();
    return url;
  };
  const urls = QUERIES.map(([, query]) => urlOf(query));
  progress(`${backend}: warming up (${WARMUP} searches)`);
  await sequential(WARMUP, (i) => ({ url: urls[i % urls.length]!, headers }));

  progress(`${backend}: baseline, the first page without a search (${REQUESTS} requests)`);
  const baseline = await sequential(REQUESTS, () => ({ url: urlOf({}), headers }));
  progress(`${backend}: ${REQUESTS} searches, cycling through ${QUERIES.length} queries`);
  const begin = performance.now();
  const run = await sequential(REQUESTS, (i) => ({ url: urls[i % urls.length]!, headers }));
  const seconds = (performance.now() - begin) / 1000;
  const byQuery = [];
  for (const [index, [label]] of QUERIES.entries()) {
    const times = run.ms.filter((_, i) => i % QUERIES.length === index);
    const answer = await call(base, 'GET', `${urls[index]!.pathname}${urls[index]!.search}`, seed.token);
    byQuery.push({
      label: `${label} (${JSON.stringify(QUERIES[index]![1])})`,
      stats: stats(times),
      matches: answer.has_more ? '20+' : String(answer.data.length),
    });
  }
  const all = stats(run.ms);
  progress(`${backend}:   p50 ${all.p50.toFixed(1)} ms, p99 ${all.p99.toFixed(1)} ms`);
  return { backend, baseline: stats(baseline.ms), all, rps: REQUESTS / seconds, byQuery };
}

function print(report: Report): void {
  const { baseline, all } = report;
  console.log();
  console.log(`${report.backend}: GET /v1/sites/{siteId}/crm/contacts?q=…&limit=20 over ${CONTACTS} contacts`);
  const ratio = (s: Stats) => `${(s.p50 / baseline.p50).toFixed(2)}×`;
  const row = (label: string, s: Stats, extra: string[]) => [label, ms(s.p50), ms(s.p99), ms(s.max), ...extra];
  table([
    ['', 'p50 ms', 'p99 ms', 'max ms', 'first page', 'p50 vs baseline'],
    row('baseline: the first page, no search', baseline, ['', '1.00×']),
    row(`all searches (${REQUESTS}, ${report.rps.toFixed(0)} req/s)`, all, ['', ratio(all)]),
    ...report.byQuery.map((query) => row(`  ${query.label}`, query.stats, [query.matches, ratio(query.stats)])),
  ]);
  const met = all.p99 < TARGET_P99_MS;
  console.log(
    `${report.backend}: target p99 < ${TARGET_P99_MS} ms (sequential, through HTTP): ${met ? 'MET' : 'NOT MET'} ` +
      `(p99 ${ms(all.p99)} ms; p50 ${ratio(all)} the baseline's)`,
  );
}

await runBench({ deadlineMs: DEADLINE_MS, run: runOn, print });
