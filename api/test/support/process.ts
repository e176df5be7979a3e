import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** The repository root: where `npm start` runs the server from. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MAIN = path.join(REPO_ROOT, 'api/src/main.ts');

/** Variables the server reads; children get only what a test sets, never the runner's own values. */
const SERVER_VARIABLES = [
  'PORT',
  'HOST',
  'DATA_DIR',
  'DATABASE_URL',
  'REDIS_URL',
  'SMTP_URL',
  'PUBLIC_URL',
  'LOG_LEVEL',
  'SEED_DEMO',
  'INIT_CWD',
];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Settles when the process has exited. */
  exited: Promise<Exit>;
  /** The exit, or `null` while it runs. */
  exit(): Exit | null;
  /** Sends a signal and waits for the exit (fails after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

const running = new Set<ServerProcess>();
const tempDirs = new Set<string>();

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A fresh empty directory, removed by `cleanUp()`. */
export function tempDir(prefix = 'dramac-process-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Spawns `node --import tsx api/src/main.ts` from the repository root — one process, so signals reach the
 * server itself (the `tsx` binary would run it in a second process). `env` is added to a copy of this
 * process's environment without any of the server's variables; `undefined` leaves a variable unset.
 */
export async function spawnServer(
  env: Record<string, string | undefined>,
  options: { shellPrelude?: string } = {},
): Promise<ServerProcess> {
  const port = env.PORT !== undefined && /^\d+$/.test(env.PORT) ? Number(env.PORT) : await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SERVER_VARIABLES) delete childEnv[name];
  childEnv.PORT = String(port);
  childEnv.HOST = '127.0.0.1';
  childEnv.LOG_LEVEL = 'warn';
  childEnv.SEED_DEMO = 'false';
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[name];
    else childEnv[name] = value;
  }
  // A prelude runs in `sh` first, which then `exec`s node: the server keeps the shell's pid (`$$`).
  const [command, args] = options.shellPrelude
    ? ['/bin/sh', ['-c', `${options.shellPrelude}\nexec "$0" --import tsx "$1"`, process.execPath, MAIN]]
    : [process.execPath, ['--import', 'tsx', MAIN]];
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once('error', reject);
    // 'close' rather than 'exit': the output has been read to its end.
    child.once('close', (code, signal) => {
      exit = { code, signal };
      running.delete(server);
      resolve(exit);
    });
  });
  const server: ServerProcess = {
    child,
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    stdout: () => out,
    stderr: () => err,
    exited,
    exit: () => exit,
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!exit) child.kill(signal);
      return withTimeout(exited, timeoutMs, `pid ${child.pid} to exit after ${signal}`);
    },
  };
  running.add(server);
  return server;
}

/** Polls GET /readyz until it answers 200; fails when the process exits first. */
export async function waitUntilReady(server: ServerProcess, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exit = server.exit();
    if (exit) {
      throw new Error(
        `server exited (code ${exit.code}, signal ${exit.signal}) before it was ready\n` +
          `stdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`,
      );
    }
    try {
      const response = await fetch(`${server.url}/readyz`, {
        signal: AbortSignal.timeout(2_000),
      });
      if (response.status === 200) return;
      await response.body?.cancel();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `server not ready after ${timeoutMs} ms\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts a server and waits until it is ready. A port taken between picking it and binding it
 * (other suites run alongside) is retried on another port.
 */
export async function startServer(
  env: Record<string, string | undefined>,
  options: { shellPrelude?: string } = {},
): Promise<ServerProcess> {
  for (let attempt = 1; ; attempt++) {
    const server = await spawnServer(env, options);
    try {
      await waitUntilReady(server);
      return server;
    } catch (error) {
      if (attempt < 3 && server.exit() && /EADDRINUSE/.test(server.stderr())) continue;
      await server.stop('SIGKILL').catch(() => {});
      throw error;
    }
  }
}

/** Kills every server still running (SIGKILL) and removes the temporary directories. */
export async function cleanUp(): Promise<void> {
  await Promise.all([...running].map((server) => server.stop('SIGKILL', 5_000).catch(() => {})));
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

export interface JsonReply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests look into bodies of every shape
  text: string;
}

/** A JSON request to a server process. */
export async function call(
  server: ServerProcess,
  method: string,
  urlPath: string,
  options: { token?: string; body?: unknown } = {},
): Promise<JsonReply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${server.url}${urlPath}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, body, text };
}

// An agency and its clients, through the API of a server process.

const PASSWORD = 'correct horse battery';

export async function signUp(server: ServerProcess): Promise<{ email: string; token: string }> {
  const email = `${randomUUID()}@example.com`;
  const reply = await call(server, 'POST', '/v1/agencies', {
    body: { name: 'Process Agency', owner: { email, name: 'Owner', password: PASSWORD } },
  });
  expect(reply.status, reply.text).toBe(201);
  expect(reply.body.session.token).toMatch(/^ses_/);
  return { email, token: reply.body.session.token };
}

export async function signIn(server: ServerProcess, email: string): Promise<string> {
  const reply = await call(server, 'POST', '/v1/sessions', { body: { email, password: PASSWORD } });
  expect(reply.status, reply.text).toBe(201);
  return reply.body.token;
}

export async function createClient(server: ServerProcess, token: string, name: string): Promise<string> {
  const reply = await call(server, 'POST', '/v1/clients', { token, body: { name } });
  expect(reply.status, reply.text).toBe(201);
  return reply.body.id;
}

export async function clientNames(server: ServerProcess, token: string): Promise<string[]> {
  const reply = await call(server, 'GET', '/v1/clients', { token });
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data.map((client: { name: string }) => client.name);
}
