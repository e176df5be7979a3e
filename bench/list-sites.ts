/**
 * `npm run bench`: how much of a bare express + pg server's throughput the full platform keeps on
 * `GET /v1/sites?limit=20` (secret-key auth, one transaction with RLS, validator, request logging).
 *
 * A third server, "framed", does what bare does plus only the database protocol the tenancy design demands
 * (transaction, credential lookup entering the tenant, query under row-level security, COMMIT), so the
 * table separates the price of that design from the price of the Node layers.
 *
 * Layout, the same for every server: each runs in a child process of its own (bench/list-sites-server.ts),
 * freshly started; autocannon runs here, in the parent. Everything is on loopback, on a fresh PostgreSQL
 * database that is dropped at the end.
 *
 * Environment (all optional):
 *   BENCH_DATABASE_URL / DATABASE_URL  the PostgreSQL server (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_WARMUP, BENCH_DURATION       seconds of warm-up and of measurement per server (default 3 and 10)
 *   BENCH_CONNECTIONS                  concurrent connections (default 10)
 *   BENCH_CPU_PROF                     a directory: the servers run with --cpu-prof and write profiles to <dir>/<kind>/
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { createScratchDatabase } from '../api/test/support/database.js';
import type { ChildMessage, ServerKind } from './list-sites-server.js';
import { exitCleanlyOnDeadlineOrSignal } from './deadline.js';
import { call } from './http.js';

const SERVER_URL =
  process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const SITES = 200;
const OTHER_AGENCY_SITES = 100;
const TARGET = 0.6;
const PATH = '/v1/sites?limit=20';
/** Everything — seeding, two runs, shutdown — must end well within this. */
const DEADLINE_MS = 100_000;

const started = Date.now();
function progress(message: string): void {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
}

/**
 * CPU time (µs) used so far by the PostgreSQL backends serving `database`, read from /proc: only when
 * PostgreSQL runs on this machine (null otherwise). Throughput on a shared machine is noisy; CPU time per
 * request is a steadier measure of the work each request costs.
 */
async function postgresCpu(databaseUrl: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [
      new URL(databaseUrl).pathname.slice(1),
    ]);
    let ticks = 0;
    for (const { pid } of rows) {
      // Fields after the command name: utime and stime are the 12th and 13th (clock ticks, 100 a second).
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    }
    return rows.length > 0 ? ticks * 10_000 : null;
  } catch {
    return null;
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Servers under test, one child process each

interface RunningServer {
  kind: ServerKind;
  url: string;
  /** The child's CPU time so far, in µs. */
  cpu(): Promise<number>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();

async function startServer(kind: ServerKind, databaseUrl: string, agencyId = ''): Promise<RunningServer> {
  const script = fileURLToPath(new URL('./list-sites-server.ts', import.meta.url));
  // process.execArgv carries tsx's loader (this file runs under tsx); the child needs it for TypeScript too.
  const execArgv = [...process.execArgv];
  if (!execArgv.some((arg) => arg.includes('tsx'))) execArgv.push('--import', 'tsx');
  // One directory per kind; Node names the files itself (one per thread: tsx's loader thread writes one too).
  if (CPU_PROF_DIR) execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(CPU_PROF_DIR, kind)}`);
  const child = fork(script, [kind, databaseUrl, agencyId], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));

  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: ChildMessage) => {
      if ('ready' in message) resolve(message.ready);
      else if ('failed' in message) reject(new Error(`${kind} server failed to start:\n${message.failed}`));
    });
    void exited.then(() => reject(new Error(`${kind} server exited before it was ready`)));
  });
  return {
    kind,
    url,
    cpu: () =>
      new Promise((resolve) => {
        const answer = (message: ChildMessage) => {
          if (!('cpu' in message)) return;
          child.off('message', answer);
          resolve(message.cpu.user + message.cpu.system);
        };
        child.on('message', answer);
        child.send('cpu');
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.send('stop');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Seeding through the HTTP API, as a customer would

async function signUp(base: string, name: string): Promise<{ agencyId: string; token: string; clientId: string }> {
  const signup = await call(base, 'POST', '/v1/agencies', null, {
    name,
    owner: { email: `${randomUUID()}@example.com`, name: `${name} owner`, password: 'correct horse battery' },
  });
  const token: string = signup.session.token;
  const client = await call(base, 'POST', '/v1/clients', token, { name: `${name} client` });
  return { agencyId: signup.agency.id, token, clientId: client.id };
}

/** Runs `task(0…count-1)` with a few requests in flight at a time. */
async function inParallel(count: number, width: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

interface Seed {
  agencyId: string;
  secretKey: string;
}

async function seed(base: string): Promise<Seed> {
  const mine = await signUp(base, 'Bench Agency');
  const other = await signUp(base, 'Other Agency');
  // Interleaved, so the other agency's rows sit between ours in id (time) order and must be filtered out.
  const plan: { who: typeof mine; name: string }[] = [];
  for (let i = 0; i < SITES; i++) {
    plan.push({ who: mine, name: `site-${i}.bench.example` });
    if (i % (SITES / OTHER_AGENCY_SITES) === 0) plan.push({ who: other, name: `site-${i}.other.example` });
  }
  await inParallel(plan.length, 4, async (i) => {
    const { who, name } = plan[i]!;
    await call(base, 'POST', '/v1/sites', who.token, { client_id: who.clientId, name });
  });
  const key = await call(base, 'POST', '/v1/keys', mine.token, {
    type: 'secret',
    name: 'bench',
    scopes: ['sites:read'],
  });
  return { agencyId: mine.agencyId, secretKey: key.secret };
}

// ---------------------------------------------------------------------------------------------------------
// Load

interface Measurement {
  kind: ServerKind;
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  /** CPU time per request, µs: the server process, and the PostgreSQL backends (null when not measurable). */
  serverCpu: number;
  postgresCpu: number | null;
}

function load(
  url: string,
  seconds: number,
  headers: Record<string, string>,
  onResponse?: () => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url, connections: CONNECTIONS, duration: seconds, headers }, (error, result) =>
      error ? reject(error) : resolve(result),
    );
    if (onResponse) instance.on('response', onResponse);
  });
}

async function bench(
  server: RunningServer,
  databaseUrl: string,
  headers: Record<string, string>,
): Promise<Measurement> {
  const url = `${server.url}${PATH}`;
  progress(`${server.kind}: warming up for ${WARMUP_S} s`);
  const warm = await load(url, WARMUP_S, headers);
  if (warm.non2xx > 0 || warm.errors > 0) {
    throw new Error(`${server.kind}: warm-up got ${warm.non2xx} non-2xx responses and ${warm.errors} errors`);
  }
  progress(`${server.kind}: measuring for ${DURATION_S} s (${CONNECTIONS} connections)`);
  let responses = 0;
  let reported = 0;
  const ticker = setInterval(() => {
    progress(`${server.kind}:   ${Math.round((responses - reported) / 2)} req/s over the last 2 s`);
    reported = responses;
  }, 2000);
  const [serverBefore, postgresBefore] = await Promise.all([server.cpu(), postgresCpu(databaseUrl)]);
  let result: autocannon.Result;
  try {
    result = await load(url, DURATION_S, headers, () => responses++);
  } finally {
    clearInterval(ticker);
  }
  const [serverAfter, postgresAfter] = await Promise.all([server.cpu(), postgresCpu(databaseUrl)]);
  const requests = result.requests.total;
  const measurement: Measurement = {
    kind: server.kind,
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: requests,
    non2xx: result.non2xx,
    errors: result.errors,
    serverCpu: (serverAfter - serverBefore) / requests,
    postgresCpu: postgresBefore !== null && postgresAfter !== null ? (postgresAfter - postgresBefore) / requests : null,
  };
  progress(`${server.kind}: ${measurement.rps.toFixed(0)} req/s, p50 ${measurement.p50} ms, p99 ${measurement.p99} ms`);
  return measurement;
}

/** Both servers must give the same page, or the comparison means nothing. */
async function firstPage(server: RunningServer, headers: Record<string, string>): Promise<string> {
  const response = await fetch(`${server.url}${PATH}`, { headers });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${server.kind}: GET ${PATH} answered ${response.status}: ${text}`);
  const page = JSON.parse(text) as { data: unknown[]; has_more: boolean; next_cursor: string | null };
  if (page.data.length !== 20 || !page.has_more || !page.next_cursor) {
    throw new Error(`${server.kind}: unexpected page: ${text.slice(0, 300)}`);
  }
  return JSON.stringify(page);
}

const times = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '');

const LABELS: Record<ServerKind, string> = {
  bare: 'bare (express + pg.Pool)',
  framed: 'framed (bare + tx, auth, RLS)',
  full: 'full stack (startPlatform)',
};

function ratioRow(label: string, a: Measurement, b: Measurement): string[] {
  return [
    label,
    `${((a.rps / b.rps) * 100).toFixed(1)} %`,
    times(a.p50, b.p50),
    times(a.p99, b.p99),
    times(a.serverCpu, b.serverCpu),
    a.postgresCpu === null || b.postgresCpu === null ? '' : times(a.postgresCpu, b.postgresCpu),
    '',
    '',
    '',
  ];
}

function printTable(bare: Measurement, framed: Measurement, full: Measurement): boolean {
  const ratio = full.rps / bare.rps;
  const rows = [
    ['', 'req/s', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'Postgres CPU µs/req', 'requests', 'non-2xx', 'errors'],
    ...[bare, framed, full].map((m) => [
      LABELS[m.kind],
      m.rps.toFixed(0),
      String(m.p50),
      String(m.p99),
      m.serverCpu.toFixed(0),
      m.postgresCpu === null ? 'n/a' : m.postgresCpu.toFixed(0),
      String(m.total),
      String(m.non2xx),
      String(m.errors),
    ]),
    ratioRow('full / bare', full, bare),
    ratioRow('framed / bare (the tenancy protocol)', framed, bare),
    ratioRow('full / framed (our Node layers)', full, framed),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  const line = (row: string[]) =>
    row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('   ');
  console.log();
  console.log(
    `GET ${PATH}, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s measured each (latency in whole ms)`,
  );
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('   '));
  for (const row of rows.slice(1)) console.log(line(row));
  const met = ratio >= TARGET;
  console.log();
  console.log(
    `Target (full stack keeps >= ${TARGET * 100} % of bare throughput): ${met ? 'MET' : 'NOT MET'} (${(ratio * 100).toFixed(1)} %)`,
  );
  return met;
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  progress(`creating a fresh database on ${new URL(SERVER_URL).host}`);
  const database = await createScratchDatabase(SERVER_URL, 'dramac_bench');
  const servers = new Set<RunningServer>();
  const stopAll = async () => {
    await Promise.all([...servers].map((server) => server.stop()));
    servers.clear();
  };
  let cleanedUp: Promise<void> | undefined;
  const cleanUp = () =>
    (cleanedUp ??= (async () => {
      await stopAll();
      for (const child of children) child.kill('SIGKILL');
      await database.drop();
      progress('servers stopped, database dropped');
    })());

  const disarm = exitCleanlyOnDeadlineOrSignal(DEADLINE_MS, cleanUp);

  try {
    progress('starting the full stack (migrations) to seed it');
    const seeder = await startServer('full', database.databaseUrl);
    servers.add(seeder);
    progress(`seeding through the API: 2 agencies, ${SITES} + ${OTHER_AGENCY_SITES} sites, a sites:read secret key`);
    const { agencyId, secretKey } = await seed(seeder.url);
    await seeder.stop();
    servers.delete(seeder);

    // Each server in a freshly started child; the bare one first, then the full stack.
    progress('starting the bare server');
    const bareServer = await startServer('bare', database.databaseUrl, agencyId);
    servers.add(bareServer);
    const barePage = await firstPage(bareServer, {});
    const bare = await bench(bareServer, database.databaseUrl, {});
    await bareServer.stop();
    servers.delete(bareServer);

    const auth = { authorization: `Bearer ${secretKey}` };
    progress('starting the framed server');
    const framedServer = await startServer('framed', database.databaseUrl);
    servers.add(framedServer);
    const framedPage = await firstPage(framedServer, auth);
    if (framedPage !== barePage)
      throw new Error(`the servers answer differently:\n bare ${barePage}\n framed ${framedPage}`);
    const framed = await bench(framedServer, database.databaseUrl, auth);
    await framedServer.stop();
    servers.delete(framedServer);

    progress('starting the full stack');
    const fullServer = await startServer('full', database.databaseUrl);
    servers.add(fullServer);
    const fullPage = await firstPage(fullServer, auth);
    if (fullPage !== barePage)
      throw new Error(`the two servers answer differently:\n bare ${barePage}\n full ${fullPage}`);
    const full = await bench(fullServer, database.databaseUrl, auth);
    await fullServer.stop();
    servers.delete(fullServer);

    printTable(bare, framed, full);
    if ([bare, framed, full].some((m) => m.non2xx + m.errors > 0)) {
      console.error('Some requests failed: the numbers above are not a valid comparison.');
      process.exitCode = 1;
    }
  } finally {
    await cleanUp();
    disarm();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
