import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir } from '../src/db/lock.js';
import {
  call,
  cleanUp,
  clientNames,
  createClient,
  signIn,
  signUp,
  spawnServer,
  startServer,
  tempDir,
  withTimeout,
} from './support/process.js';

// The real server as `npm start` runs it, on the embedded database: its data-directory lock, its refusals
// of a bad configuration (before it touches any database) and its shutdown. None of it reads DATABASE_URL,
// so the PostgreSQL pass of CI leaves this file out.

afterEach(cleanUp);
afterAll(cleanUp);

describe('the server process on the embedded database', () => {
  it('refuses a second process on the same data directory; the first keeps serving', async () => {
    const dataDir = tempDir();
    const env = { DATA_DIR: dataDir, DATABASE_URL: undefined };
    const first = await startServer(env);
    const { token } = await signUp(first);
    await createClient(first, token, 'Before');

    const second = await spawnServer(env);
    const exit = await withTimeout(second.exited, 10_000, 'the second process to give up');
    expect(exit.code).toBe(1);
    expect(second.stderr()).toContain(dataDir);
    expect(second.stderr()).toMatch(/in use/);
    expect(second.stderr()).toContain(`pid ${first.pid}`);
    expect(second.stdout()).not.toContain('ready at');

    // The refused process left the lock, and the data, to its owner.
    expect(fs.readFileSync(path.join(dataDir, 'dramac.lock'), 'utf8')).toBe(String(first.pid));
    expect(first.exit()).toBeNull();
    const ready = await call(first, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    await createClient(first, token, 'After');
    expect(await clientNames(first, token)).toEqual(['Before', 'After']);
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('starts after a SIGKILL, taking over the stale lock, with the committed data', async () => {
    const dataDir = tempDir();
    const lockFile = path.join(dataDir, 'dramac.lock');
    const env = { DATA_DIR: dataDir, DATABASE_URL: undefined };
    const first = await startServer(env);
    const { email, token } = await signUp(first);
    await createClient(first, token, 'Committed');
    expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    // The lock of the killed process is still there…
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(String(first.pid));

    const second = await startServer(env);
    // …and now belongs to the new one.
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(String(second.pid));
    const newToken = await signIn(second, email);
    expect(await clientNames(second, newToken)).toEqual(['Committed']);
    await createClient(second, newToken, 'Committed again');
    expect(await second.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });

    // A container restarts its server with the same pid, so the stale lock can hold the new process's own
    // pid. The shell writes its pid, which the server keeps through `exec`, as that predecessor would have.
    const third = await startServer(env, { shellPrelude: 'printf %s "$$" > "$DATA_DIR/dramac.lock"' });
    expect(fs.readFileSync(lockFile, 'utf8')).toBe(String(third.pid));
    expect(await clientNames(third, await signIn(third, email))).toEqual(['Committed', 'Committed again']);
    expect(await third.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(lockFile)).toBe(false);
  }, 60_000);

  const BAD_SETTINGS = [
    ['PORT', 'abc'],
    ['DATABASE_URL', 'mysql://x'],
    ['PUBLIC_URL', 'notaurl'],
    ['LOG_LEVEL', 'loud'],
    ['OPERATOR_AGENCY_ID', 'acme'],
    ['HOOKS_ALLOW_LOCAL', 'yes'],
    ['SECRET_KEY', 'too short to encrypt with'],
    ['OUTBOX_RETENTION_DAYS', '0'],
    ['MAIL_FROM', 'one@example.com, two@example.com'],
  ] as const;

  // One process per bad setting, all at once: each spends its few seconds loading the server, not refusing.
  it(`stops start-up with exit code 1 on a bad ${BAD_SETTINGS.map(([variable]) => variable).join(', ')}`, async () => {
    await Promise.all(
      BAD_SETTINGS.map(async ([variable, value]) => {
        const dataDir = tempDir();
        const server = await spawnServer({ DATA_DIR: dataDir, DATABASE_URL: undefined, [variable]: value });
        const exit = await withTimeout(server.exited, 30_000, `the process to refuse ${variable}=${value}`);
        const stderr = server.stderr();
        expect(exit, `${variable}=${value}`).toEqual({ code: 1, signal: null });
        expect(stderr, variable).toContain('bad configuration');
        expect(stderr, variable).toContain(`${variable}:`);
        expect(stderr, variable).not.toMatch(/\n\s+at /); // a message, not a stack trace
        expect(server.stdout(), variable).not.toContain('ready at');
        // Refused before it touched anything.
        expect(fs.readdirSync(dataDir), variable).toEqual([]);
      }),
    );
  }, 60_000);

  it('stops start-up with exit code 1, and a message, when Redis cannot be reached', async () => {
    const dataDir = tempDir();
    const server = await spawnServer({
      DATA_DIR: dataDir,
      DATABASE_URL: undefined,
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    const exit = await withTimeout(server.exited, 45_000, 'the process to give up on Redis');
    expect(exit).toEqual({ code: 1, signal: null });
    expect(server.stderr()).toContain('Cannot reach Redis at REDIS_URL');
    expect(server.stderr()).not.toMatch(/\n\s+at /);
    expect(fs.readdirSync(dataDir)).toEqual([]); // refused before it touched the data
  }, 60_000);

  it('drains an in-flight request on SIGTERM, fails readiness meanwhile, then exits 0', async () => {
    const server = await startServer({ DATA_DIR: tempDir(), DATABASE_URL: undefined });
    expect(server.stdout()).toContain(`/docs`);
    expect(server.stdout()).toContain(`/openapi.json`);
    expect(server.stdout()).toContain(`/readyz`);
    const { token } = await signUp(server);

    const body = JSON.stringify({ name: 'Slow client' });
    const half = Math.floor(body.length / 2);
    // A keep-alive client, as a proxy or SDK would be: the server must still let go of the connection.
    const agent = new http.Agent({ keepAlive: true });
    const request = http.request(`${server.url}/v1/clients`, {
      agent,
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    const response = new Promise<{ status: number; connection?: string; text: string }>((resolve, reject) => {
      request.once('error', reject);
      request.once('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.once('end', () => resolve({ status: res.statusCode!, connection: res.headers.connection, text }));
        res.once('error', reject);
      });
    });
    const connected = new Promise<void>((resolve) =>
      request.once('socket', (socket) => (socket.connecting ? socket.once('connect', () => resolve()) : resolve())),
    );
    request.flushHeaders();
    request.write(body.slice(0, half));
    await connected;
    // Let the server read the headers and half the body before the signal.
    await new Promise((resolve) => setTimeout(resolve, 250));

    server.child.kill('SIGTERM');
    await withTimeout(
      (async () => {
        while (!server.stdout().includes('SIGTERM received')) await new Promise((r) => setTimeout(r, 20));
      })(),
      5_000,
      'the server to acknowledge SIGTERM',
    );
    // While draining, readiness must not pass on a new connection: 503, refused, or reset (a connection the
    // kernel queued in the instant between the log line and the listener's close).
    const readiness = await new Promise<number | string>((resolve) => {
      const probe = http.get(`${server.url}/readyz`, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      probe.setTimeout(2_000, () => probe.destroy(new Error('readiness probe timed out')));
    });
    expect([503, 'ECONNREFUSED', 'ECONNRESET']).toContain(readiness);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(server.exit()).toBeNull(); // still waiting for our request

    request.end(body.slice(half));
    const reply = await withTimeout(response, 10_000, 'the in-flight response');
    expect(reply.status, reply.text).toBe(201);
    expect(JSON.parse(reply.text)).toMatchObject({ name: 'Slow client' });
    // The kept-alive connection is closed after its response instead of holding the shutdown (or serving
    // more requests) until the keep-alive or drain timeout.
    expect(reply.connection).toBe('close');
    const startedWaiting = Date.now();
    expect(await withTimeout(server.exited, 15_000, 'the drained server to exit')).toEqual({ code: 0, signal: null });
    expect(Date.now() - startedWaiting).toBeLessThan(2_000);
    agent.destroy();
  }, 60_000);
});

describe('the data directory lock within one process', () => {
  it('refuses a directory this process already holds, and frees it on unlock', () => {
    const dataDir = tempDir();
    const unlock = lockDataDir(dataDir);
    expect(() => lockDataDir(dataDir)).toThrow(DataDirInUseError);
    expect(() => lockDataDir(dataDir)).toThrow(`pid ${process.pid}`);
    unlock();
    expect(fs.existsSync(path.join(dataDir, 'dramac.lock'))).toBe(false);
    lockDataDir(dataDir)();
  });

  it('takes over a lock whose process is gone, leaving nothing else behind', () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, 'dramac.lock'), '999999'); // no such process
    const unlock = lockDataDir(dataDir);
    expect(fs.readFileSync(path.join(dataDir, 'dramac.lock'), 'utf8')).toBe(String(process.pid));
    expect(fs.readdirSync(dataDir)).toEqual(['dramac.lock']);
    unlock();
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });
});
