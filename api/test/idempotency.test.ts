import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
let a: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await populateAgency(platform, 'Idem');
});
afterAll(() => platform?.close());

/** POST /v1/clients with an Idempotency-Key. */
const createClient = (token: string, name: string, key: string) =>
  platform.request('POST', '/v1/clients', { token, body: { name }, headers: { 'idempotency-key': key } });

const countClients = async (name: string) =>
  Number((await platform.db.knex('clients').where({ name }).count({ n: '*' }).first())?.n);

describe('Idempotency-Key', () => {
  it('replays the first response to a retry and creates once', async () => {
    const key = randomUUID();
    const name = `Retry ${key}`;
    const first = await createClient(a.token, name, key);
    const again = await createClient(a.token, name, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await countClients(name)).toBe(1);
  });

  it('refuses the same key with another body', async () => {
    const key = randomUUID();
    await createClient(a.token, 'One', key);
    const other = await createClient(a.token, 'Two', key);
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency_key_reused');
  });

  it('creates once under concurrent retries', async () => {
    const key = randomUUID();
    const name = `Concurrent ${key}`;
    const replies = await Promise.all(Array.from({ length: 8 }, () => createClient(a.token, name, key)));
    expect(replies.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    expect(await countClients(name)).toBe(1);
  });

  it('keeps keys apart per caller', async () => {
    const key = randomUUID();
    const other = await platform.signUp('Other');
    const mine = await createClient(a.token, 'Same', key);
    const theirs = await createClient(other.token, 'Same', key);
    expect(theirs.status).toBe(201);
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
  });

  it('never stores a one-time secret: a replayed key creation shows none', async () => {
    const key = randomUUID();
    const body = { type: 'secret', name: 'ci', scopes: ['sites:read'] };
    const first = await platform.request('POST', '/v1/keys', {
      token: a.token,
      body,
      headers: { 'idempotency-key': key },
    });
    const again = await platform.request('POST', '/v1/keys', {
      token: a.token,
      body,
      headers: { 'idempotency-key': key },
    });
    expect(first.body.secret).toMatch(/^sk_/);
    expect(again.body).toEqual({ ...first.body, secret: null });
    const stored = await platform.db.knex('idempotency_keys').where({ key }).first();
    expect(JSON.stringify(stored)).not.toContain(first.body.secret);
  });

  it('works for anonymous sign-ups too', async () => {
    const key = randomUUID();
    const body = { name: 'Once', owner: { email: `${key}@example.com`, name: 'O', password: 'sign up only once' } };
    const first = await platform.request('POST', '/v1/agencies', { body, headers: { 'idempotency-key': key } });
    const again = await platform.request('POST', '/v1/agencies', { body, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    expect(again.body.agency.id).toBe(first.body.agency.id);
    expect(again.body.session.token).toBeNull();
    const sessions = await platform.request('POST', '/v1/sessions', {
      body: { email: body.owner.email, password: body.owner.password },
    });
    expect(sessions.body.agency_id).toBe(first.body.agency.id);
  });
});
