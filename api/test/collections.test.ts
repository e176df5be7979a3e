import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenAPIV3_1 } from 'openapi-types';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { asVisitor, faqModule, published, variant } from './support/modules.js';
import { startTestPlatform, type Reply, type TestPlatform } from './support/platform.js';

/**
 * The APIs a module's declarative collections get: site A's records must be invisible to site B through
 * every generated endpoint — walked from the module's own generated OpenAPI document, so an endpoint added
 * to the generator is covered without editing this test.
 */
let platform: TestPlatform;
let agency: PopulatedAgency;
let other: PopulatedAgency;
/** Site B: another client's site of the same agency, with its own origin and publishable key. */
const siteB = { id: '', origin: 'https://b.example', publishableKey: '', clientKey: '' };
let document: OpenAPIV3_1.Document;
const aRecords: string[] = [];

const request = (method: string, path: string, options: { token?: string; body?: unknown } = {}) =>
  platform.request(method, path, options);

async function created(path: string, body: unknown, token = agency.token) {
  const reply = await request('POST', path, { token, body });
  if (reply.status !== 201) throw new Error(`POST ${path}: ${reply.status} ${reply.text}`);
  return reply.body;
}

beforeAll(async () => {
  platform = await startTestPlatform();
  agency = await populateAgency(platform, 'Acme');
  other = await populateAgency(platform, 'Other');
  const { v1, v2 } = await faqModule();
  await published(platform, agency.token, v1);
  await published(platform, agency.token, v2);

  const clientB = await created('/v1/clients', { name: 'Client B' });
  siteB.id = (await created('/v1/sites', { client_id: clientB.id, name: 'b.example' })).id;
  await created(`/v1/sites/${siteB.id}/origins`, { origin: siteB.origin });
  siteB.publishableKey = (await created('/v1/keys', { type: 'publishable', name: 'b', site_id: siteB.id })).secret;
  siteB.clientKey = (
    await created('/v1/keys', {
      type: 'secret',
      name: 'client B',
      client_id: clientB.id,
      scopes: ['collections:read', 'collections:write'],
    })
  ).secret;
  for (const site of [agency.siteId, siteB.id]) await created(`/v1/sites/${site}/installs`, { module_id: 'acme.faq' });
  await created(`/v1/sites/${other.siteId}/installs`, { module_id: 'acme.faq' }, other.token);

  for (const [question, category] of [
    ['A: opening hours?', 'general'],
    ['A: parking?', 'travel'],
  ]) {
    const record = await created(`/v1/m/acme.faq/questions?site_id=${agency.siteId}`, {
      question,
      answer: 'Site A only.',
      category,
    });
    aRecords.push(record.id);
  }
  const vote = await created(`/v1/m/acme.faq/feedback?site_id=${agency.siteId}`, {
    question_id: aRecords[0],
    helpful: true,
  });
  aRecords.push(vote.id);
  await created(`/v1/m/acme.faq/questions?site_id=${siteB.id}`, { question: 'B: returns?', answer: 'Site B.' });

  const reply = await request('GET', '/v1/m/acme.faq/openapi.json');
  expect(reply.status).toBe(200);
  document = reply.body;
});
afterAll(() => platform?.close());

/** The generated operations, with the collection and method they act on. */
function generatedOperations() {
  const found: { method: string; path: string; operation: OpenAPIV3_1.OperationObject }[] = [];
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of ['get', 'post', 'patch', 'put', 'delete'] as const) {
      const operation = item?.[method];
      if (operation) found.push({ method, path, operation });
    }
  }
  return found;
}

/** Who stands for site B: its visitors, a key of its client, and the other agency naming site A. */
type Call = (method: string, path: string, body: unknown, byId: boolean) => Promise<Reply>;
const viewers: Record<string, Call> = {
  'site B’s publishable key': (method, path, body) =>
    asVisitor(platform, { publishableKey: siteB.publishableKey, origin: siteB.origin }, method, path, body),
  'a secret key of site B’s client': (method, path, body, byId) =>
    request(method, byId ? path : withSite(path, siteB.id), { token: siteB.clientKey, body }),
  'another agency, naming site A': (method, path, body, byId) =>
    request(method, byId ? path : withSite(path, agency.siteId), { token: other.token, body }),
};

/** Lists and creates say which site they work on; operations on one record find it by its id. */
const withSite = (path: string, siteId: string) => `${path}${path.includes('?') ? '&' : '?'}site_id=${siteId}`;

const bodyFor = (path: string, method: string) =>
  method === 'get' || method === 'delete'
    ? undefined
    : path.includes('/feedback')
      ? { question_id: '00000000-0000-4000-8000-000000000000', helpful: false }
      : method === 'patch'
        ? { answer: 'Overwritten from B.' }
        : { question: 'From B', answer: 'B wrote this.' };

async function siteARecords(): Promise<Reply[]> {
  return Promise.all(
    ['questions', 'feedback'].map((collection) =>
      request('GET', `/v1/m/acme.faq/${collection}?site_id=${agency.siteId}`, { token: agency.token }),
    ),
  );
}

describe('site A’s records, seen from site B', () => {
  let before: unknown[];
  beforeAll(async () => {
    before = (await siteARecords()).map((reply) => reply.body);
    expect((before[0] as { data: unknown[] }).data).toHaveLength(2);
  });

  it('the generated document has the endpoints this test walks', () => {
    const walked = generatedOperations().map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(walked).toEqual(
      expect.arrayContaining([
        'GET /v1/m/acme.faq/questions',
        'POST /v1/m/acme.faq/questions',
        'GET /v1/m/acme.faq/questions/{itemId}',
        'PATCH /v1/m/acme.faq/questions/{itemId}',
        'DELETE /v1/m/acme.faq/questions/{itemId}',
        'POST /v1/m/acme.faq/feedback',
      ]),
    );
  });

  for (const [viewer, call] of Object.entries(viewers)) {
    it(`${viewer}: every generated endpoint hides them`, async () => {
      for (const { method, path } of generatedOperations()) {
        const targets = path.includes('{itemId}') ? aRecords.map((id) => path.replace('{itemId}', id)) : [path];
        for (const target of targets) {
          for (const query of path.includes('{itemId}') || method !== 'get'
            ? ['']
            : ['', '?q=A', '?filter[category]=travel', '?sort=-created_at']) {
            const byId = path.includes('{itemId}');
            const reply = await call(method.toUpperCase(), `${target}${query}`, bodyFor(path, method), byId);
            const label = `${method.toUpperCase()} ${target}${query} → ${reply.status} ${reply.text.slice(0, 200)}`;
            expect(reply.status, label).toBeLessThan(500);
            for (const id of aRecords) expect(reply.text, label).not.toContain(id);
            expect(reply.text, label).not.toContain('Site A only.');
            // Refused (a publishable key where only secret keys go answers 400: `key` is no parameter there),
            // or not found.
            if (byId) expect([400, 403, 404], label).toContain(reply.status);
          }
        }
      }
    });
  }

  it('while site B sees its own', async () => {
    const page = await viewers['site B’s publishable key']!('GET', '/v1/m/acme.faq/questions', undefined, false);
    expect(page.body.data.map((item: { question: string }) => item.question)).toContain('B: returns?');
  });

  it('left every one of site A’s records as it was', async () => {
    expect((await siteARecords()).map((reply) => reply.body)).toEqual(before);
  });
});

describe('the generated API', () => {
  it('serves each module’s document, and lists it in the API reference', async () => {
    expect(document.info.title).toBe('Acme FAQ API');
    expect(document.info.version).toBe('2.0.0');
    const pinned = await request('GET', '/v1/m/acme.faq/openapi.json?version=1.0.0');
    expect(pinned.body.info.version).toBe('1.0.0');
    expect(Object.keys(pinned.body.paths)).not.toContain('/v1/m/acme.faq/feedback');
    const unknown = await request('GET', '/v1/m/acme.nothing/openapi.json');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    const init = await request('GET', '/docs/init.js');
    expect(init.text).toContain('"url":"/openapi.json"');
    expect(init.text).toContain('"url":"/v1/m/acme.faq/openapi.json"');
  });

  it('filters, sorts, searches and pages through a site’s records', async () => {
    const site = agency.siteId;
    for (let position = 0; position < 5; position += 1) {
      await created(`/v1/m/acme.faq/questions?site_id=${site}`, {
        question: `Paged question ${position}`,
        answer: position % 2 ? 'odd' : 'even',
        position,
        category: 'paging',
      });
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `site_id=${site}&filter[category]=paging&sort=-position&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page: Reply = await request('GET', `/v1/m/acme.faq/questions?${query}`, { token: agency.token });
      expect(page.status, page.text).toBe(200);
      seen.push(...page.body.data.map((item: { position: number }) => item.position));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([4, 3, 2, 1, 0]);

    const search = await request('GET', `/v1/m/acme.faq/questions?site_id=${site}&q=odd`, { token: agency.token });
    expect(search.body.data.map((item: { position: number }) => item.position).sort()).toEqual([1, 3]);
    const typed = await request('GET', `/v1/m/acme.faq/questions?site_id=${site}&filter[position]=3`, {
      token: agency.token,
    });
    expect(typed.body.data).toHaveLength(1);
    const wrongType = await request('GET', `/v1/m/acme.faq/questions?site_id=${site}&filter[position]=three`, {
      token: agency.token,
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors[0].path).toBe('/query/filter[position]');
    const notIndexed = await request('GET', `/v1/m/acme.faq/questions?site_id=${site}&sort=answer`, {
      token: agency.token,
    });
    expect(notIndexed.status).toBe(400);
  });

  it('shows visitors only the records and fields the module makes public', async () => {
    const hidden = await created(`/v1/m/acme.faq/questions?site_id=${agency.siteId}`, {
      question: 'Draft: unpublished',
      answer: 'Not yet.',
      published: false,
    });
    const page = await asVisitor(platform, agency, 'GET', '/v1/m/acme.faq/questions?limit=100');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain(hidden.id);
    expect(page.body.data.every((item: object) => !('published' in item))).toBe(true);
    const direct = await asVisitor(platform, agency, 'GET', `/v1/m/acme.faq/questions/${hidden.id}`);
    expect(direct.status).toBe(404);
    // Visitors may filter and sort only on public fields.
    const probe = await asVisitor(platform, agency, 'GET', '/v1/m/acme.faq/questions?filter[published]=false');
    expect(probe.status).toBe(400);
  });

  it('lets visitors search only when every searched field is public to them', async () => {
    const { v1 } = await faqModule();
    const secretive = variant(v1, (m) => {
      m.id = 'acme.secretive';
      m.elements![0]!.tag = 'acme-secretive';
      m.events = {};
      m.collections!.questions!.public!.read = ['question'];
    });
    await published(platform, agency.token, secretive);
    await created(`/v1/sites/${agency.siteId}/installs`, { module_id: 'acme.secretive' });
    await created(`/v1/m/acme.secretive/questions?site_id=${agency.siteId}`, { question: 'Q', answer: 'hunter2' });
    const probe = await asVisitor(platform, agency, 'GET', '/v1/m/acme.secretive/questions?q=hunter2');
    expect(probe.status).toBe(403);
    expect(probe.body.code).toBe('not_public');
    const staff = await request('GET', `/v1/m/acme.secretive/questions?site_id=${agency.siteId}&q=hunter2`, {
      token: agency.token,
    });
    expect(staff.body.data).toHaveLength(1);
  });

  it('refuses bodies nested too deeply, and cursors it did not issue, with a 400', async () => {
    // Written out as text: deep enough to exhaust any recursive walk (and JSON.stringify itself).
    const deep = `${'['.repeat(20_000)}"bottom"${']'.repeat(20_000)}`;
    const nested = await platform.request('POST', `/v1/m/acme.faq/questions?site_id=${agency.siteId}`, {
      token: agency.token,
      raw: `{"question":"q","answer":"a","extra":${deep}}`,
      headers: { 'content-type': 'application/json' },
    });
    expect(nested.status).toBe(400);
    expect(nested.body.code).toBe('validation_failed');
    const id = '01234567-89ab-4def-8123-456789abcdef';
    for (const cursor of [['1', id], ['2024-02-30 00:00:00+00', id], ['2024-01-01 00:00:00+00', 'x'], 'garbage']) {
      const encoded = Buffer.from(JSON.stringify(cursor)).toString('base64url');
      const reply = await request(
        'GET',
        `/v1/m/acme.faq/questions?site_id=${agency.siteId}&sort=created_at&cursor=${encoded}`,
        { token: agency.token },
      );
      expect(reply.status, JSON.stringify(cursor)).toBe(400);
      expect(reply.body.code).toBe('invalid_cursor');
    }
  });

  it('pages through records sorted by creation time without repeating or skipping one', async () => {
    const site = agency.siteId;
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `site_id=${site}&sort=-created_at&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page: Reply = await request('GET', `/v1/m/acme.faq/questions?${query}`, { token: agency.token });
      all.push(...page.body.data.map((item: { id: string }) => item.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    const everything = await request('GET', `/v1/m/acme.faq/questions?site_id=${site}&limit=100`, {
      token: agency.token,
    });
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual(everything.body.data.map((item: { id: string }) => item.id).sort());
  });

  it('updates with a merge patch validated as a whole, and deletes', async () => {
    const record = await created(`/v1/m/acme.faq/questions?site_id=${agency.siteId}`, {
      question: 'To change',
      answer: 'Before',
      position: 7,
    });
    const path = `/v1/m/acme.faq/questions/${record.id}`;
    const patched = await request('PATCH', path, { token: agency.token, body: { answer: 'After', position: null } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ question: 'To change', answer: 'After', position: 0 });
    const invalid = await request('PATCH', path, { token: agency.token, body: { answer: null } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors).toContainEqual(expect.objectContaining({ path: '/body/answer' }));
    const reserved = await request('PATCH', path, { token: agency.token, body: { id: 'mine' } });
    expect(reserved.status).toBe(422);
    expect((await request('DELETE', path, { token: agency.token })).status).toBe(204);
    expect((await request('GET', path, { token: agency.token })).status).toBe(404);
  });
});
