import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { PLATFORM_ORIGIN, startTestPlatform, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
let a: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await populateAgency(platform, 'Cors');
});
afterAll(() => platform?.close());

const preflight = (path: string, origin: string) =>
  platform.request('OPTIONS', path, {
    headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'content-type' },
  });

describe('CORS per site', () => {
  it("answers a preflight from the site's allowed origin", async () => {
    const reply = await preflight(`/v1/public/site?key=${a.publishableKey}`, a.origin);
    expect(reply.status).toBe(204);
    expect(reply.headers.get('access-control-allow-origin')).toBe(a.origin);
    expect(reply.headers.get('access-control-allow-methods')).toBe('GET');
    expect(reply.headers.get('vary')).toContain('Origin');
  });

  it('refuses preflights from other origins, without a key, and for private endpoints', async () => {
    for (const [path, origin] of [
      [`/v1/public/site?key=${a.publishableKey}`, 'https://elsewhere.example'],
      ['/v1/public/site', a.origin],
      [`/v1/clients?key=${a.publishableKey}`, a.origin],
      ['/v1/public/site?key=pk_unknown', a.origin],
    ] as const) {
      const reply = await preflight(path, origin);
      expect(reply.status, `${path} from ${origin}`).toBe(403);
      expect(reply.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('refuses the request itself from another origin, or from no browser at all', async () => {
    const allowed = await platform.request('GET', `/v1/public/site?key=${a.publishableKey}`, {
      headers: { origin: a.origin },
    });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(a.origin);
    for (const headers of [{ origin: 'https://elsewhere.example' }, {}] as Record<string, string>[]) {
      const refused = await platform.request('GET', `/v1/public/site?key=${a.publishableKey}`, { headers });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('origin_not_allowed');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('stops answering an origin once it is removed', async () => {
    const added = await platform.request('POST', `/v1/sites/${a.siteId}/origins`, {
      token: a.token,
      body: { origin: 'https://temporary.example' },
    });
    expect((await preflight(`/v1/public/site?key=${a.publishableKey}`, 'https://temporary.example')).status).toBe(204);
    await platform.request('DELETE', `/v1/sites/${a.siteId}/origins/${added.body.id}`, { token: a.token });
    expect((await preflight(`/v1/public/site?key=${a.publishableKey}`, 'https://temporary.example')).status).toBe(403);
  });

  it("takes sessions and secret keys from servers and the platform's own pages only", async () => {
    const foreign = await platform.request('GET', '/v1/clients', { token: a.token, headers: { origin: a.origin } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('origin_not_allowed');
    const own = await platform.request('GET', '/v1/clients', { token: a.token, headers: { origin: PLATFORM_ORIGIN } });
    expect(own.status).toBe(200);
    expect((await platform.request('GET', '/v1/clients', { token: a.token })).status).toBe(200);
  });

  it("treats a same-origin browser request (no Origin header) as coming from the platform's own origin", async () => {
    const path = `/v1/public/site?key=${a.publishableKey}`;
    const sameOrigin = { 'sec-fetch-site': 'same-origin' };
    expect((await platform.request('GET', path, { headers: sameOrigin })).status).toBe(403);
    const added = await platform.request('POST', `/v1/sites/${a.siteId}/origins`, {
      token: a.token,
      body: { origin: PLATFORM_ORIGIN },
    });
    expect((await platform.request('GET', path, { headers: sameOrigin })).status).toBe(200);
    expect((await platform.request('GET', path, { headers: { 'sec-fetch-site': 'cross-site' } })).status).toBe(403);
    await platform.request('DELETE', `/v1/sites/${a.siteId}/origins/${added.body.id}`, { token: a.token });
  });

  it('lets an allowed page read the problem its public call got', async () => {
    const reply = await platform.request('GET', `/v1/public/site?key=${a.publishableKey}&unexpected=1`, {
      headers: { origin: a.origin },
    });
    expect(reply.status).toBe(400);
    expect(reply.headers.get('access-control-allow-origin')).toBe(a.origin);
    expect(reply.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
    const foreign = await platform.request('GET', `/v1/public/site?key=${a.publishableKey}&unexpected=1`, {
      headers: { origin: 'https://elsewhere.example' },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('treats an opaque (null) origin as a foreign page', async () => {
    const reply = await platform.request('GET', '/v1/clients', { token: a.token, headers: { origin: 'null' } });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('origin_not_allowed');
  });
});
