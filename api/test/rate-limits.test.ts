import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

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
