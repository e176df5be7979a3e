import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRateLimits } from '../src/http/rate-limits.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { freePort } from './support/process.js';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(() => platform?.close());

const signIn = (email: string, password: string) =>
  platform.request('POST', '/v1/sessions', { body: { email, password } });

describe('rate limits', () => {
  it('stop password guessing for an email after 10 wrong passwords, and no other email', async () => {
    const victim = await platform.signUp('Guessed');
    for (let i = 0; i < 10; i++) expect((await signIn(victim.email, `wrong guess ${i}`)).status).toBe(401);
    const refused = await signIn(victim.email, victim.password);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);

    const other = await platform.signUp('Unrelated');
    expect((await signIn(other.email, other.password)).status).toBe(201);
  });

  it('forgive earlier wrong passwords once the right one is given', async () => {
    const person = await platform.signUp('Forgetful');
    for (let i = 0; i < 9; i++) await signIn(person.email, `almost ${i}`);
    expect((await signIn(person.email, person.password)).status).toBe(201);
    for (let i = 0; i < 9; i++) expect((await signIn(person.email, `again ${i}`)).status).toBe(401);
  });

  it('report the shared counters’ store in readiness when Redis is configured', async () => {
    const ready = await platform.request('GET', '/readyz');
    expect(ready.status).toBe(200);
    if (process.env.REDIS_URL) expect(ready.body.checks.redis).toBe('ok');
    else expect(ready.body.checks).toEqual({ database: 'ok' });
  });
});

describe('rate limits when Redis fails', () => {
  it('keep counting in memory, and readiness says so, while Redis is down', async () => {
    const port = await freePort();
    const redis = spawn('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ]);
    try {
      await waitFor(async () => (await tryPing(port)) === 'PONG');
      const limits = await createRateLimits(`redis://127.0.0.1:${port}`, `dramac-test-${randomUUID()}`);
      try {
        await limits.consume('signUp', 'address-1');
        expect(await limits.health()).toBe('ok');
        redis.kill('SIGKILL');
        await once(redis, 'exit');
        expect(await limits.health()).toBe('error');
        // Twenty sign-ups an hour per address, counted in memory now: the 21st is refused.
        for (let i = 0; i < 20; i++) await limits.consume('signUp', 'address-2');
        await expect(limits.consume('signUp', 'address-2')).rejects.toMatchObject({
          status: 429,
          code: 'rate_limited',
        });
        await limits.check('signInFailures', 'someone');
      } finally {
        await limits.close();
      }
    } finally {
      redis.kill('SIGKILL');
    }
  });
});

async function tryPing(port: number): Promise<string | null> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.ping();
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for redis-server to start');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
