/**
 * What every HTTP bench shares: which databases to run on (BENCH_DB), a platform started on a scratch
 * database, timed sequential requests, percentiles, a plain table, and a run that never hangs nor leaves a
 * server or database behind.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { loadConfig } from '../api/src/config.js';
import { startPlatform, type Platform } from '../api/src/server.js';
import { createScratchDatabase } from '../api/test/support/database.js';
import { exitCleanlyOnDeadlineOrSignal } from './deadline.js';
import { call } from './http.js';

export type Backend = 'postgres' | 'pglite';

const SERVER_URL =
  process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const LOOPBACK = '127.0.0.1';

/** BENCH_DB: postgres (default), pglite (embedded, in memory) or both. */
export function benchBackends(): Backend[] {
  const backends = (
    process.env.BENCH_DB === 'both' ? ['postgres', 'pglite'] : [process.env.BENCH_DB || 'postgres']
  ) as Backend[];
  for (const backend of backends) {
    if (backend !== 'postgres' && backend !== 'pglite')
      throw new Error(`BENCH_DB: postgres, pglite or both, not ${backend}`);
  }
  return backends;
}

/** A positive integer from the environment, or the default. */
export function envNumber(name: string, fallback: number, minimum = 0): number {
  return Math.max(minimum, Number(process.env[name] ?? fallback));
}

const started = Date.now();
export function progress(message: string): void {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
}

/**
 * The platform on `backend` (a fresh PostgreSQL database, or PGlite in memory), as production runs it:
 * request logs at `info` (to /dev/null), no response validation. Its clean-ups are pushed onto `cleanUps`.
 */
export async function startBenchPlatform(
  backend: Backend,
  cleanUps: (() => Promise<void>)[],
  options: Pick<Parameters<typeof startPlatform>[1], 'rateLimits'> = {},
): Promise<{ platform: Platform; base: string }> {
  let databaseUrl: string | undefined;
  if (backend === 'postgres') {
    progress(`postgres: creating a fresh database on ${new URL(SERVER_URL).host}`);
    const database = await createScratchDatabase(SERVER_URL, 'dramac_bench');
    databaseUrl = database.databaseUrl;
    cleanUps.push(() => database.drop());
  }
  progress(`${backend}: starting the platform (migrations)`);
  const config = loadConfig({
    PORT: '0',
    HOST: LOOPBACK,
    PUBLIC_URL: `http://${LOOPBACK}`,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'info',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const logger = pino({ level: 'info' }, pino.destination('/dev/null'));
  const start = () => startPlatform(config, { logger, validateResponses: false, inMemory: true, ...options });
  // PGlite's first start compiles its WebAssembly: on a busy machine that can outlast the 5 s connection timeout.
  const platform = await start().catch((error: unknown) => {
    if (backend !== 'pglite') throw error;
    progress(`pglite: start-up timed out (${String(error).slice(0, 80)}); once more`);
    return start();
  });
  cleanUps.push(() => platform.stop());
  return { platform, base: `http://${LOOPBACK}:${new URL(platform.url).port}` };
}

/** Signs an agency up through the API: its id and its owner's session token. */
export async function signUp(base: string, name: string): Promise<{ agencyId: string; token: string }> {
  const signup = await call(base, 'POST', '/v1/agencies', null, {
    name,
    owner: { email: `${randomUUID()}@example.com`, name: `${name} owner`, password: 'correct horse battery' },
  });
  return { agencyId: signup.agency.id, token: signup.session.token };
}

export interface Stats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: sorted.at(-1)!,
    mean: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
  };
}

export const ms = (value: number) => value.toFixed(2);

export function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  const line = (row: string[]) =>
    row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('   ');
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('   '));
  for (const row of rows.slice(1)) console.log(line(row));
}

export interface Timed {
  status: number;
  bytes: number;
  /** Time to the last byte. */
  ms: number;
  body: Buffer;
}

/** One request on a kept-alive connection, timed to its last byte. */
export function timedRequest(
  agent: Agent,
  url: URL,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const begin = performance.now();
    const req = httpRequest(url, { agent, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, bytes: body.length, ms: performance.now() - begin, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * `count` requests one after another on one kept-alive connection, each made by `next(i)`; fails on an
 * answer other than `expected`. Their times, and the last answer.
 */
export async function sequential(
  count: number,
  next: (index: number) => { url: URL; method?: string; headers?: Record<string, string>; body?: string },
  expected = 200,
): Promise<{ ms: number[]; last: Timed }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  let last: Timed | undefined;
  try {
    for (let i = 0; i < count; i++) {
      const { url, ...options } = next(i);
      last = await timedRequest(agent, url, options);
      if (last.status !== expected)
        throw new Error(`${options.method ?? 'GET'} ${url.pathname}: ${last.status} ${last.body}`);
      times.push(last.ms);
    }
  } finally {
    agent.destroy();
  }
  return { ms: times, last: last! };
}

/**
 * Runs `run` on each backend in turn and prints its report, cleaning up each backend before the next (in
 * reverse: the platform stops before its database is dropped), on failure, on Ctrl-C and past `deadlineMs`;
 * ends with the machine's load, which shows in every number.
 */
export async function runBench<R>(options: {
  deadlineMs: number;
  run: (backend: Backend, cleanUps: (() => Promise<void>)[]) => Promise<R>;
  print: (report: R) => void;
  /** Whether the reports are valid numbers; a false one sets a failing exit code. */
  valid?: (report: R) => boolean;
}): Promise<void> {
  const cleanUps: (() => Promise<void>)[] = [];
  let cleanedUp: Promise<void> | undefined;
  const cleanUp = () =>
    (cleanedUp ??= (async () => {
      for (const step of cleanUps.splice(0).reverse()) {
        await step().catch((error: unknown) => console.error('clean-up failed:', error));
      }
      progress('platform stopped, database dropped');
    })());
  const disarm = exitCleanlyOnDeadlineOrSignal(options.deadlineMs, cleanUp);
  try {
    for (const backend of benchBackends()) {
      const steps: (() => Promise<void>)[] = [];
      cleanUps.push(async () => {
        for (const step of steps.splice(0).reverse()) await step();
      });
      const report = await options.run(backend, steps);
      for (const step of steps.splice(0).reverse()) await step();
      options.print(report);
      if (options.valid && !options.valid(report)) {
        console.error(`${backend}: some requests failed: those numbers are not valid.`);
        process.exitCode = 1;
      }
    }
    console.log(
      `\nload average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' / ')} (1 / 5 / 15 min) on ${cpus().length} CPUs at the end of the run`,
    );
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  } finally {
    await cleanUp();
    disarm();
  }
}
