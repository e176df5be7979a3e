import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
let token: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  ({ token } = await platform.signUp('Acme Agency'));
});
afterAll(() => platform?.close());

describe('clients and sites', () => {
  it('creates, reads, updates, lists and deletes through the typed SDK', async () => {
    const api = platform.client(token);
    const created = await api.POST('/v1/clients', { body: { name: 'Bakery' } });
    expect(created.response.status).toBe(201);
    const clientId = created.data!.id;

    const site = await api.POST('/v1/sites', { body: { client_id: clientId, name: 'bakery.example' } });
    expect(site.response.status).toBe(201);
    expect(site.data).toMatchObject({ client_id: clientId, name: 'bakery.example' });

    const renamed = await api.PATCH('/v1/sites/{siteId}', {
      params: { path: { siteId: site.data!.id } },
      body: { name: 'www.bakery.example' },
    });
    expect(renamed.data?.name).toBe('www.bakery.example');

    const listed = await api.GET('/v1/sites', { params: { query: { client_id: clientId } } });
    expect(listed.data?.data.map((s) => s.id)).toEqual([site.data!.id]);

    const removed = await api.DELETE('/v1/clients/{clientId}', { params: { path: { clientId } } });
    expect(removed.response.status).toBe(204);
    const gone = await api.GET('/v1/sites/{siteId}', { params: { path: { siteId: site.data!.id } } });
    expect(gone.response.status).toBe(404);
    expect(gone.error).toMatchObject({ code: 'not_found', status: 404 });
  });

  it('pages through a list with cursors, in creation order, without gaps or repeats', async () => {
    const api = platform.client(token);
    const names = Array.from({ length: 7 }, (_, i) => `Client ${i}`);
    for (const name of names) await api.POST('/v1/clients', { body: { name } });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await api.GET('/v1/clients', { params: { query: { limit: 3, cursor } } });
      expect(page.data!.data.length).toBeLessThanOrEqual(3);
      seen.push(...page.data!.data.map((c) => c.name));
      cursor = page.data!.next_cursor ?? undefined;
      expect(page.data!.has_more).toBe(cursor !== undefined);
    } while (cursor);
    expect(seen).toEqual(names);
  });

  it('refuses a cursor it did not issue', async () => {
    const reply = await platform.request('GET', '/v1/clients?cursor=bm90LWEtY3Vyc29y', { token });
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('invalid_cursor');
  });

  it('normalises allowed origins and refuses paths, plain http and duplicates', async () => {
    const api = platform.client(token);
    const client = await api.POST('/v1/clients', { body: { name: 'Origins' } });
    const site = await api.POST('/v1/sites', { body: { client_id: client.data!.id, name: 'o.example' } });
    const path = { siteId: site.data!.id };
    const added = await api.POST('/v1/sites/{siteId}/origins', {
      params: { path },
      body: { origin: 'HTTPS://Shop.Example.com:443' },
    });
    expect(added.data?.origin).toBe('https://shop.example.com');
    for (const origin of ['https://shop.example.com/path', 'http://shop.example.com', 'not a url']) {
      const refused = await api.POST('/v1/sites/{siteId}/origins', { params: { path }, body: { origin } });
      expect(refused.response.status, origin).toBe(400);
      expect(refused.error?.errors?.[0]?.path).toBe('/body/origin');
    }
    const again = await api.POST('/v1/sites/{siteId}/origins', {
      params: { path },
      body: { origin: 'https://shop.example.com' },
    });
    expect(again.response.status).toBe(409);
    expect(
      (await api.POST('/v1/sites/{siteId}/origins', { params: { path }, body: { origin: 'http://localhost:5173' } }))
        .response.status,
    ).toBe(201);
  });
});
