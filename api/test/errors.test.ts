import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { pinoHttp } from 'pino-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../src/http/errors.js';

/** The error handler behind a real express app, fed the errors the layers beneath it raise. */
const raised: Record<string, () => Error> = {
  '/timeout': () => Object.assign(new Error('Knex: Timeout acquiring a connection.'), { name: 'KnexTimeoutError' }),
  '/rls': () =>
    Object.assign(new Error('new row violates row-level security policy for table "clients"'), { code: '42501' }),
  '/grant': () => Object.assign(new Error('permission denied for table users'), { code: '42501' }),
  '/bug': () => new TypeError("Cannot read properties of undefined (reading 'id')"),
};

let url: string;
let close: () => void;

beforeAll(async () => {
  const app = express();
  app.use(pinoHttp({ logger: pino({ level: 'silent' }) }));
  for (const [path, make] of Object.entries(raised)) {
    app.get(path, () => {
      throw make();
    });
  }
  app.use(errorHandler);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => server.close();
});
afterAll(() => close?.());

async function get(path: string) {
  const response = await fetch(url + path);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe('the error handler', () => {
  it('answers a pool timeout with 503 and Retry-After', async () => {
    const reply = await get('/timeout');
    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('1');
    expect(JSON.parse(reply.text).code).toBe('database_busy');
  });

  it('answers a row-level security refusal as not found, but a missing grant as our bug', async () => {
    expect((await get('/rls')).status).toBe(404);
    expect((await get('/grant')).status).toBe(500);
  });

  it('never shows a stack trace or an internal message', async () => {
    const reply = await get('/bug');
    expect(reply.status).toBe(500);
    expect(reply.headers.get('content-type')).toContain('application/problem+json');
    expect(reply.text).not.toContain('Cannot read properties');
    expect(reply.text).not.toMatch(/\s+at\s/);
  });
});
