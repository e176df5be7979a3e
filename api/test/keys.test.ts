import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
let a: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await populateAgency(platform, 'Keys');
});
afterAll(() => platform?.close());

async function secretKey(scopes: string[], token = a.token) {
  const reply = await platform.request('POST', '/v1/keys', { token, body: { type: 'secret', name: 'test', scopes } });
  expect(reply.status, reply.text).toBe(201);
  return reply.body as { id: string; secret: string; prefix: string };
}

describe('keys', () => {
  it('shows a secret key once and stores only its hash', async () => {
    const key = await secretKey(['clients:read']);
    expect(key.secret).toMatch(/^sk_[\w-]{43}$/);
    expect(key.secret.startsWith(key.prefix)).toBe(true);

    const read = await platform.request('GET', `/v1/keys/${key.id}`, { token: a.token });
    expect(read.body.secret).toBeUndefined();
    expect(read.text).not.toContain(key.secret);

    const row = await platform.db.knex('api_keys').where({ id: key.id }).first();
    expect(JSON.stringify(row)).not.toContain(key.secret.slice(3));
    expect(Buffer.from(row.hash).equals(createHash('sha256').update(key.secret).digest())).toBe(true);
  });

  it('lets a key do what its scopes say and nothing more', async () => {
    const key = await secretKey(['clients:read']);
    expect((await platform.request('GET', '/v1/clients', { token: key.secret })).status).toBe(200);
    const write = await platform.request('POST', '/v1/clients', { token: key.secret, body: { name: 'x' } });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ code: 'insufficient_scope' });
    expect(write.body.detail).toContain('clients:write');
    expect((await platform.request('GET', '/v1/sites', { token: key.secret })).status).toBe(403);
  });

  it('never grants more than its creator holds', async () => {
    const limited = await secretKey(['keys:write', 'clients:read']);
    const escalate = await platform.request('POST', '/v1/keys', {
      token: limited.secret,
      body: { type: 'secret', name: 'more', scopes: ['clients:read', 'agency:delete'] },
    });
    expect(escalate.status).toBe(403);
    expect(escalate.body.code).toBe('scope_not_grantable');
    // Nor by rotating a stronger key to obtain its replacement.
    const strong = await secretKey(['agency:delete']);
    const rotate = await platform.request('POST', `/v1/keys/${strong.id}/rotate`, { token: limited.secret, body: {} });
    expect(rotate.status).toBe(403);
  });

  it('stops a revoked key at once and keeps it listed', async () => {
    const key = await secretKey(['clients:read']);
    expect((await platform.request('DELETE', `/v1/keys/${key.id}`, { token: a.token })).status).toBe(204);
    const refused = await platform.request('GET', '/v1/clients', { token: key.secret });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer');
    const listed = await platform.request('GET', '/v1/keys?type=secret&limit=100', { token: a.token });
    expect(listed.status, listed.text).toBe(200);
    const entry = listed.body.data.find((k: { id: string }) => k.id === key.id);
    expect(entry.revoked_at).not.toBeNull();
  });

  it('rotates with an overlap during which both keys work', async () => {
    const old = await secretKey(['clients:read']);
    const rotated = await platform.request('POST', `/v1/keys/${old.id}/rotate`, {
      token: a.token,
      body: { overlap_seconds: 3600 },
    });
    expect(rotated.status).toBe(201);
    expect(rotated.body.secret).toMatch(/^sk_/);
    expect(rotated.body.scopes).toEqual(['clients:read']);
    expect((await platform.request('GET', '/v1/clients', { token: rotated.body.secret })).status).toBe(200);
    expect((await platform.request('GET', '/v1/clients', { token: old.secret })).status).toBe(200);
    const read = await platform.request('GET', `/v1/keys/${old.id}`, { token: a.token });
    expect(read.status, read.text).toBe(200);
    const expiresAt = new Date(read.body.expires_at);
    expect(Math.abs(expiresAt.getTime() - Date.now() - 3600_000)).toBeLessThan(60_000);
  });

  it('rotates without overlap: the old key stops at once', async () => {
    const old = await secretKey(['clients:read']);
    const rotated = await platform.request('POST', `/v1/keys/${old.id}/rotate`, {
      token: a.token,
      body: { overlap_seconds: 0 },
    });
    expect((await platform.request('GET', '/v1/clients', { token: old.secret })).status).toBe(401);
    expect((await platform.request('GET', '/v1/clients', { token: rotated.body.secret })).status).toBe(200);
  });

  it('keeps publishable keys to the public endpoints and secret keys out of URLs', async () => {
    const asBearer = await platform.request('GET', '/v1/clients', {
      headers: { authorization: `Bearer ${a.publishableKey}` },
    });
    expect(asBearer.status).toBe(401);
    const secretInUrl = await platform.request('GET', `/v1/public/site?key=${a.secretKey}`, {
      headers: { origin: a.origin },
    });
    expect(secretInUrl.status).toBe(401);
    const secretOnPublic = await platform.request('GET', '/v1/public/site', { token: a.secretKey });
    expect(secretOnPublic.status).toBe(403);
    expect(secretOnPublic.body.code).toBe('credential_not_accepted');
  });

  it('checks the fields that depend on the key type', async () => {
    const cases = [
      [{ type: 'publishable', name: 'p' }, '/body/site_id'],
      [{ type: 'publishable', name: 'p', site_id: a.siteId, scopes: ['clients:read'] }, '/body/scopes'],
      [{ type: 'secret', name: 's' }, '/body/scopes'],
      [{ type: 'secret', name: 's', scopes: ['clients:read'], site_id: a.siteId }, '/body/site_id'],
    ] as const;
    for (const [body, path] of cases) {
      const reply = await platform.request('POST', '/v1/keys', { token: a.token, body });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.errors[0].path).toBe(path);
    }
  });

  it('keeps a key limited to one client to client scopes', async () => {
    const reply = await platform.request('POST', '/v1/keys', {
      token: a.token,
      body: { type: 'secret', name: 'client', client_id: a.clientId, scopes: ['sites:read', 'agency:delete'] },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0]).toMatchObject({ path: '/body/scopes' });
    expect(reply.body.detail).toContain('agency:delete');
  });

  it('refuses to rotate an expired key', async () => {
    const old = await secretKey(['clients:read']);
    await platform.request('POST', `/v1/keys/${old.id}/rotate`, { token: a.token, body: { overlap_seconds: 0 } });
    const again = await platform.request('POST', `/v1/keys/${old.id}/rotate`, { token: a.token, body: {} });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('key_expired');
  });
});
