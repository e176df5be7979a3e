/**
 * `npm run bench:booking`: `GET /v1/booking/availability` for one service given by 3 staff members, over 60
 * days at a 15-minute interval, with 2,000 bookings already held — through HTTP on the real platform, and the
 * same work taken apart in-process so the table shows where a request's time goes.
 *
 * Set-up, through the API as a customer would: the operator publishes the booking module, an agency installs
 * it on a site, creates 3 staff members (Mon–Sat 08:00–20:00; two in Europe/Berlin, one in America/New_York)
 * and one service (30 min, every 15 min, buffers 5/5, a 90-day booking window). The bookings are inserted
 * straight into mod_booking.slots/bookings as the schema owner (the API would take minutes): each is a slot the
 * availability computation itself offers, and the exclusion constraint checks that no two holds of a person
 * overlap. The visitor asks from New York for the 60 days from tomorrow.
 *
 * Measured, per database:
 *  1. HTTP, sequential: BENCH_REQUESTS requests one after another (after a warm-up) with the publishable key
 *     and an allowed Origin, as the widget asks: p50/p90/p99/max, and req/s.
 *  2. HTTP under load: autocannon with BENCH_CONNECTIONS connections for BENCH_DURATION seconds.
 *  3. The baseline, in-process on the same database, BENCH_REQUESTS times each: (a) the queries alone —
 *     loadSchedules + loadHolds in a transaction that entered the tenant, as the handler runs them; (b) slot
 *     computation alone — localDays + freeSlots + shaping the answer (availabilityBody) on the loaded data,
 *     pure CPU; (c) JSON.stringify of that answer. Each is shown as a share of the sequential HTTP p50; what
 *     is left is the HTTP layers, auth, validation and the transaction's other statements.
 * Target: sequential p99 under 50 ms on PostgreSQL. A benchmark, not a test: a miss prints NOT MET, only
 * failures (non-200 answers, crashes) exit non-zero.
 *
 * The client runs in this same process as the server (requests one at a time, so they do not contend; under
 * autocannon they share the CPU). Everything is on loopback; a scratch PostgreSQL database is dropped at the end.
 *
 * Environment (all optional):
 *   BENCH_DB                           postgres (default), pglite (embedded, in memory) or both
 *   BENCH_DATABASE_URL / DATABASE_URL  the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_REQUESTS                     sequential requests measured, and repetitions of each piece (default 300)
 *   BENCH_WARMUP                       sequential requests before measuring (default 30)
 *   BENCH_CONNECTIONS, BENCH_DURATION  autocannon's connections and seconds (default 4 and 8; 0 s skips it)
 *   BENCH_BOOKINGS                     bookings held in the 60 days (default 2000)
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import { enterTenant } from '../api/src/db/tenant.js';
import {
  availabilityBody,
  holdMargin,
  loadHolds,
  loadSchedules,
  rulesOf,
  type ServiceRow,
} from '../api/src/modules/booking/availability.js';
import { freeSlots, localDays } from '../api/src/modules/booking/time.js';
import { appointOperator } from '../api/src/platform/operator.js';
import type { Platform } from '../api/src/server.js';
import { bookingModule } from '../api/test/support/booking.js';
import {
  envNumber,
  ms,
  progress,
  runBench,
  sequential as timedSequence,
  signUp,
  startBenchPlatform,
  stats,
  table,
  type Backend,
  type Stats,
} from './harness.js';
import { call } from './http.js';

const REQUESTS = envNumber('BENCH_REQUESTS', 300, 10);
const WARMUP = envNumber('BENCH_WARMUP', 30);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS', 4, 1);
const DURATION_S = envNumber('BENCH_DURATION', 8);
const BOOKINGS = envNumber('BENCH_BOOKINGS', 2000);
const DAYS = 60;
const VISITOR_ZONE = 'America/New_York';
const TARGET_P99_MS = 50;
/** Everything — start-up, seeding, every run on every database, shutdown — must end well within this. */
const DEADLINE_MS = 240_000;
const ORIGIN = 'https://bench.example';
const MINUTE = 60_000;

// ---------------------------------------------------------------------------------------------------------
// Set-up through the HTTP API

const MON_TO_SAT = Object.fromEntries(
  ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'].map((day) => [
    day,
    [{ start: '08:00', end: '20:00' }],
  ]),
);
const STAFF = [
  { name: 'Anna (Berlin)', time_zone: 'Europe/Berlin', weekly_hours: MON_TO_SAT },
  { name: 'Ben (Berlin)', time_zone: 'Europe/Berlin', weekly_hours: MON_TO_SAT },
  { name: 'Cleo (New York)', time_zone: 'America/New_York', weekly_hours: MON_TO_SAT },
];

interface Seed {
  agencyId: string;
  siteId: string;
  serviceId: string;
  publishableKey: string;
}

async function setUp(platform: Platform, base: string): Promise<Seed> {
  const operator = await signUp(base, 'Operator');
  await appointOperator(platform.db.knex, operator.agencyId);
  await call(base, 'POST', '/v1/modules', operator.token, await bookingModule());

  const { agencyId, token } = await signUp(base, 'Bench Agency');
  const client = await call(base, 'POST', '/v1/clients', token, { name: 'Bench client' });
  const site = await call(base, 'POST', '/v1/sites', token, { client_id: client.id, name: 'bench.example' });
  await call(base, 'POST', `/v1/sites/${site.id}/origins`, token, { origin: ORIGIN });
  const key = await call(base, 'POST', '/v1/keys', token, { type: 'publishable', name: 'web', site_id: site.id });
  await call(base, 'POST', `/v1/sites/${site.id}/installs`, token, { module_id: 'booking' });
  const booking = `/v1/sites/${site.id}/booking`;
  const staffIds: string[] = [];
  for (const person of STAFF) staffIds.push((await call(base, 'POST', `${booking}/staff`, token, person)).id);
  const service = await call(base, 'POST', `${booking}/services`, token, {
    name: 'Consultation',
    duration_minutes: 30,
    slot_interval_minutes: 15,
    buffer_before_minutes: 5,
    buffer_after_minutes: 5,
    booking_window_days: 90,
    staff_ids: staffIds,
  });
  return { agencyId, siteId: site.id, serviceId: service.id, publishableKey: key.secret };
}

/** A small deterministic generator (mulberry32), so every run holds the same slots. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Holds `count` bookings in [from, to): for each staff member, the slots availability offers on an empty
 * calendar, packed as tightly as the buffers allow (one every 45 min), then a random `count` of all of them.
 */
async function seedBookings(knex: Knex, seed: Seed, from: number, to: number, count: number): Promise<number> {
  const service = (await knex('mod_booking.services').where({ id: seed.serviceId }).first()) as ServiceRow;
  const rules = rulesOf(service);
  const staff = await knex.transaction((tx) => loadSchedules(tx, service.id, undefined, from, to));
  const candidates: { staffId: string; start: number }[] = [];
  for (const person of staff) {
    let blockedUntil = -Infinity;
    for (const slot of freeSlots({ rules, staff: [person], holds: new Map(), from, to, now: from })) {
      if (slot.start - rules.bufferBeforeMinutes * MINUTE < blockedUntil) continue;
      candidates.push({ staffId: person.id, start: slot.start });
      blockedUntil = slot.end + rules.bufferAfterMinutes * MINUTE;
    }
  }
  if (candidates.length < count) throw new Error(`only ${candidates.length} bookings fit in ${DAYS} days`);
  const next = random(2000);
  for (let i = candidates.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
  }
  const chosen = candidates.slice(0, count);
  const slots = chosen.map(({ staffId, start }) => ({
    id: randomUUID(),
    agency_id: seed.agencyId,
    site_id: seed.siteId,
    staff_id: staffId,
    service_id: service.id,
    starts_at: new Date(start),
    blocked: knex.raw('tstzrange(?::timestamptz, ?::timestamptz)', [
      new Date(start - rules.bufferBeforeMinutes * MINUTE).toISOString(),
      new Date(start + (rules.durationMinutes + rules.bufferAfterMinutes) * MINUTE).toISOString(),
    ]),
    capacity: 1,
    seats_taken: 1,
  }));
  const bookings = chosen.map(({ staffId, start }, index) => ({
    id: randomUUID(),
    agency_id: seed.agencyId,
    site_id: seed.siteId,
    service_id: service.id,
    staff_id: staffId,
    slot_id: slots[index]!.id,
    starts_at: new Date(start),
    ends_at: new Date(start + rules.durationMinutes * MINUTE),
    time_zone: VISITOR_ZONE,
    name: `Visitor ${index + 1}`,
    email: `visitor-${index + 1}@example.com`,
  }));
  await knex.transaction(async (tx) => {
    for (let i = 0; i < count; i += 250) {
      await tx('mod_booking.slots').insert(slots.slice(i, i + 250));
      await tx('mod_booking.bookings').insert(bookings.slice(i, i + 250));
    }
  });
  // PostgreSQL plans with fresh statistics, as it would on a database that grew to this size.
  await knex.raw('ANALYZE mod_booking.slots');
  await knex.raw('ANALYZE mod_booking.bookings');
  return candidates.length;
}

// ---------------------------------------------------------------------------------------------------------
// Measurement

interface AvailabilityBody {
  days: { date: string; slots: { start: string; staff_ids: string[] }[] }[];
}

async function sequential(url: URL, count: number): Promise<{ ms: number[]; bytes: number; body: AvailabilityBody }> {
  const run = await timedSequence(count, () => ({ url, headers: { origin: ORIGIN } }));
  return { ms: run.ms, bytes: run.last.bytes, body: JSON.parse(run.last.body.toString()) as AvailabilityBody };
}

function load(url: URL): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: url.toString(), connections: CONNECTIONS, duration: DURATION_S, headers: { origin: ORIGIN } },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

interface Pieces {
  /** loadSchedules + loadHolds, inside the transaction. */
  queries: number[];
  /** The whole transaction: BEGIN, entering the tenant, the queries, COMMIT. */
  transaction: number[];
  /** localDays + freeSlots + availabilityBody. */
  compute: number[];
  serialize: number[];
  holds: number;
  slots: number;
}

/** The handler's work taken apart, each piece timed alone `count` times on the same database. */
async function pieces(knex: Knex, seed: Seed, first: string, last: string, count: number): Promise<Pieces> {
  const service = (await knex('mod_booking.services').where({ id: seed.serviceId }).first()) as ServiceRow;
  const rules = rulesOf(service);
  const result: Pieces = { queries: [], transaction: [], compute: [], serialize: [], holds: 0, slots: 0 };
  const days = localDays(first, last, VISITOR_ZONE);
  const from = days[0]!.start;
  const to = days.at(-1)!.end;
  const margin = holdMargin(service);
  let loaded: { staff: Awaited<ReturnType<typeof loadSchedules>>; holds: Awaited<ReturnType<typeof loadHolds>> };
  for (let i = 0; i < count; i++) {
    const begin = performance.now();
    let queried = 0;
    loaded = await knex.transaction(async (tx) => {
      await enterTenant(tx, { agencyId: seed.agencyId, clientId: null });
      const t0 = performance.now();
      const staff = await loadSchedules(tx, service.id, undefined, from, to);
      const holds = await loadHolds(
        tx,
        staff.map((person) => person.id),
        from - margin,
        to + margin,
      );
      queried = performance.now() - t0;
      return { staff, holds };
    });
    result.transaction.push(performance.now() - begin);
    result.queries.push(queried);
  }
  result.holds = [...loaded!.holds.values()].reduce((sum, list) => sum + list.length, 0);
  for (let i = 0; i < count; i++) {
    const begin = performance.now();
    const localDaysOfVisitor = localDays(first, last, VISITOR_ZONE);
    const slots = freeSlots({ rules, ...loaded!, from, to, now: Date.now() });
    const body = availabilityBody(service.id, VISITOR_ZONE, localDaysOfVisitor, slots);
    result.compute.push(performance.now() - begin);
    const t0 = performance.now();
    JSON.stringify(body);
    result.serialize.push(performance.now() - t0);
    result.slots = slots.length;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------

interface Report {
  backend: Backend;
  http: Stats;
  rps: number;
  bytes: number;
  slots: number;
  offered: { before: number; after: number };
  candidates: number;
  cannon: autocannon.Result | null;
  pieces: Pieces;
}

async function runOn(backend: Backend, cleanUps: (() => Promise<void>)[]): Promise<Report> {
  const { platform, base } = await startBenchPlatform(backend, cleanUps);

  progress(`${backend}: setting up through the API: the booking module, 3 staff members, one service`);
  const seed = await setUp(platform, base);
  const tomorrow = DateTime.now().setZone(VISITOR_ZONE).plus({ days: 1 }).startOf('day');
  const first = tomorrow.toISODate()!;
  const last = tomorrow.plus({ days: DAYS - 1 }).toISODate()!;
  const url = new URL(`${base}/v1/booking/availability`);
  url.search = new URLSearchParams({
    service_id: seed.serviceId,
    from: first,
    to: last,
    time_zone: VISITOR_ZONE,
    key: seed.publishableKey,
  }).toString();
  const offered = (body: AvailabilityBody) =>
    body.days.reduce((sum, day) => sum + day.slots.reduce((n, slot) => n + slot.staff_ids.length, 0), 0);
  const empty = await sequential(url, 1);

  const days = localDays(first, last, VISITOR_ZONE);
  progress(`${backend}: holding ${BOOKINGS} bookings between ${first} and ${last} (${VISITOR_ZONE})`);
  const candidates = await seedBookings(platform.db.knex, seed, days[0]!.start, days.at(-1)!.end, BOOKINGS);

  progress(`${backend}: warming up (${WARMUP} requests)`);
  await sequential(url, WARMUP);
  progress(`${backend}: ${REQUESTS} sequential requests`);
  const begin = performance.now();
  const run = await sequential(url, REQUESTS);
  const seconds = (performance.now() - begin) / 1000;
  const http = stats(run.ms);
  progress(`${backend}:   p50 ${http.p50.toFixed(1)} ms, p99 ${http.p99.toFixed(1)} ms, ${run.bytes} bytes a response`);

  let cannon: autocannon.Result | null = null;
  if (DURATION_S > 0) {
    progress(`${backend}: autocannon, ${CONNECTIONS} connections for ${DURATION_S} s`);
    cannon = await load(url);
    progress(
      `${backend}:   ${cannon.requests.average} req/s, p50 ${cannon.latency.p50} ms, p99 ${cannon.latency.p99} ms`,
    );
  }

  progress(`${backend}: the pieces in-process, ${REQUESTS} times each`);
  const parts = await pieces(platform.db.knex, seed, first, last, REQUESTS);

  return {
    backend,
    http,
    rps: REQUESTS / seconds,
    bytes: run.bytes,
    slots: run.body.days.reduce((sum, day) => sum + day.slots.length, 0),
    offered: { before: offered(empty.body), after: offered(run.body) },
    candidates,
    cannon,
    pieces: parts,
  };
}

function print(report: Report): void {
  const { http, pieces: parts } = report;
  const queries = stats(parts.queries);
  const transaction = stats(parts.transaction);
  const compute = stats(parts.compute);
  const serialize = stats(parts.serialize);
  const share = (value: number) => `${((value / http.p50) * 100).toFixed(0)} %`;
  const rest = http.p50 - queries.p50 - compute.p50;
  console.log();
  console.log(
    `${report.backend}: GET /v1/booking/availability, ${DAYS} days in ${VISITOR_ZONE}, 3 staff, 15-min interval, ` +
      `${BOOKINGS} bookings held (of ${report.candidates} that fit); ${report.slots} slot times in the answer ` +
      `(${report.offered.after} staff-slots offered, ${report.offered.before} on an empty calendar), ` +
      `${(report.bytes / 1024).toFixed(0)} KB`,
  );
  const row = (label: string, s: Stats, extra: string[]) => [
    label,
    ms(s.p50),
    ms(s.p90),
    ms(s.p99),
    ms(s.max),
    ...extra,
  ];
  const rows = [
    ['', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'req/s', 'share of HTTP p50'],
    row(`HTTP, sequential (${REQUESTS} after ${WARMUP})`, http, [report.rps.toFixed(0), '100 %']),
  ];
  if (report.cannon) {
    const { latency, requests, non2xx, errors } = report.cannon;
    rows.push([
      `HTTP, autocannon ${CONNECTIONS} conn. ${DURATION_S} s${non2xx + errors > 0 ? ` (${non2xx + errors} failed)` : ''}`,
      String(latency.p50),
      String(latency.p90),
      String(latency.p99),
      String(latency.max),
      requests.average.toFixed(0),
      '',
    ]);
  }
  rows.push(
    row('(a) queries: loadSchedules + loadHolds', queries, ['', share(queries.p50)]),
    row('    the whole transaction around them', transaction, ['', share(transaction.p50)]),
    row('(b) computation: localDays + freeSlots + shaping', compute, ['', share(compute.p50)]),
    row('(c) JSON.stringify of the answer (within rest)', serialize, ['', share(serialize.p50)]),
    ['rest: HTTP, auth, validation, tx, JSON (p50 − a − b)', ms(rest), '', '', '', '', share(rest)],
  );
  table(rows);
  console.log(`(holds loaded: ${parts.holds}; autocannon latencies are whole ms)`);
  const met = http.p99 < TARGET_P99_MS;
  console.log(
    `${report.backend}: target p99 < ${TARGET_P99_MS} ms (sequential, through HTTP): ${met ? 'MET' : 'NOT MET'} ` +
      `(p99 ${ms(http.p99)} ms; the database is ${share(queries.p50)} of p50, slot computation ${share(compute.p50)})`,
  );
}

await runBench({
  deadlineMs: DEADLINE_MS,
  run: runOn,
  print,
  valid: (report) => !report.cannon || report.cannon.non2xx + report.cannon.errors === 0,
});
