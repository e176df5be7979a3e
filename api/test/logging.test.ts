import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

const lines: string[] = [];
let platform: TestPlatform;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  platform = await startTestPlatform({ logger: pino({ level: 'info' }, sink) });
});
afterAll(() => platform?.close());

describe('request logs', () => {
  it('write one JSON line per request, with its id, and no credentials', async () => {
    const owner = await platform.signUp('Logs');
    const secret = 'sk_thisMustNeverBeLogged0123456789abcdefghijk';
    await platform.request('GET', `/v1/public/site?key=${secret}`, { headers: { 'x-request-id': 'log-test-1' } });
    await platform.request('GET', `/v1/public/site?%6Bey=${secret}`, { headers: { 'x-request-id': 'log-test-3' } });
    await platform.request('GET', `/v1/clients?token=${secret}`, { headers: { 'x-request-id': 'log-test-4' } });
    await platform.request('GET', '/v1/clients', { token: owner.token, headers: { 'x-request-id': 'log-test-2' } });
    const logged = lines.join('\n');
    expect(logged).not.toContain(secret);
    expect(logged).not.toContain(owner.token);
    const entries = lines.map((line) => JSON.parse(line));
    const first = entries.find((entry) => entry.req?.id === 'log-test-1');
    expect(first).toMatchObject({ msg: 'request completed', res: { statusCode: 401 } });
    expect(first.req.url).toBe('/v1/public/site?key=[redacted]');
    expect(entries.find((entry) => entry.req?.id === 'log-test-2')?.res.statusCode).toBe(200);
  });
});
