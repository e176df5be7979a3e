import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeExpiredInstalls } from '../src/modules/purge.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { asVisitor, faqModule, publish, published, variant } from './support/modules.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

/**
 * The example third-party module's whole life on a site: publish → install → site configuration →
 * upgrade → roll back → uninstall → reinstall → purge, with its records checked at every step.
 */
let platform: TestPlatform;
let vendor: PopulatedAgency;
let token: string;
let installs: string;
let questions: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  vendor = await populateAgency(platform, 'Acme');
  token = vendor.token;
  installs = `/v1/sites/${vendor.siteId}/installs`;
  questions = `/v1/m/acme.faq/questions?site_id=${vendor.siteId}`;
});
afterAll(() => platform?.close());

const sorted = (items: { question: string }[]) => items.map((item) => item.question).sort();

describe('the example module, from publishing to purge', () => {
  let v1Bundle: { url: string; integrity: string };

  it('publishes version 1.0.0, with its bundle stored by content hash', async () => {
    const { v1 } = await faqModule();
    const version = await published(platform, token, v1);
    expect(version.module_id).toBe('acme.faq');
    expect(version.version).toBe('1.0.0');
    const bundle = Buffer.from(v1.files['acme-faq.js']!, 'base64');
    const sha256 = createHash('sha256').update(bundle).digest('hex');
    expect(version.files).toEqual([
      {
        path: 'acme-faq.js',
        url: `http://dramac.localhost/v1/bundles/${sha256}.js`,
        integrity: `sha384-${createHash('sha384').update(bundle).digest('base64')}`,
        size: bundle.length,
      },
    ]);
    v1Bundle = version.files[0];

    const served = await platform.request('GET', `/v1/bundles/${sha256}.js`, {
      headers: { origin: 'https://any.example' },
    });
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(served.headers.get('access-control-allow-origin')).toBe('*');
    expect(served.text).toBe(bundle.toString());
    const again = await platform.request('GET', `/v1/bundles/${sha256}.js`, {
      headers: { 'if-none-match': served.headers.get('etag')! },
    });
    expect(again.status).toBe(304);

    const catalog = await platform.request('GET', '/v1/modules?type=widget', { token });
    expect(catalog.body.data).toContainEqual(
      expect.objectContaining({ id: 'acme.faq', latest_version: '1.0.0', first_party: false }),
    );
  });

  it('refuses to publish the same version twice: versions are immutable', async () => {
    const { v1 } = await faqModule();
    const reply = await publish(
      platform,
      token,
      variant(v1, (m) => (m.description = 'changed')),
    );
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('version_exists');
    const version = await platform.request('GET', '/v1/modules/acme.faq/versions/1.0.0', { token });
    expect(version.body.manifest.description).toBe(v1.manifest.description);
  });

  it('installs it with settings validated and defaults filled in', async () => {
    const refused = await platform.request('POST', installs, {
      token,
      body: { module_id: 'acme.faq', settings: { 'acme-faq': { max_items: 1000 } } },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('invalid_settings');
    expect(refused.body.errors).toContainEqual(expect.objectContaining({ path: '/body/settings/acme-faq/max_items' }));

    const reply = await platform.request('POST', installs, {
      token,
      body: { module_id: 'acme.faq', settings: { 'acme-faq': { title: 'Questions', max_items: 5 } } },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({
      module_id: 'acme.faq',
      version: '1.0.0',
      status: 'active',
      previous_version: null,
      settings: { 'acme-faq': { title: 'Questions', max_items: 5, category: '', expand_first: false } },
    });
    const twice = await platform.request('POST', installs, { token, body: { module_id: 'acme.faq' } });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('already_installed');
  });

  it('serves its generated collection API: records validated, defaults filled, public fields for visitors', async () => {
    for (const [question, position] of [
      ['How do I book?', 2],
      ['Do you ship abroad?', 1],
    ] as const) {
      const created = await platform.request('POST', questions, {
        token,
        body: { question, answer: `Answer to ${question}`, position },
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ question, category: 'general', published: true });
    }
    const invalid = await platform.request('POST', questions, { token, body: { question: 'No answer?' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors).toContainEqual(expect.objectContaining({ path: '/body/answer' }));

    const page = await asVisitor(platform, vendor, 'GET', '/v1/m/acme.faq/questions?sort=position');
    expect(page.status).toBe(200);
    expect(page.body.data.map((item: { question: string }) => item.question)).toEqual([
      'Do you ship abroad?',
      'How do I book?',
    ]);
    // `published` is not among the fields visitors may read.
    expect(page.body.data[0]).not.toHaveProperty('published');
    const write = await asVisitor(platform, vendor, 'POST', '/v1/m/acme.faq/questions', { question: 'q', answer: 'a' });
    expect(write.status).toBe(403);
    expect(write.body.code).toBe('not_public');
  });

  let etag: string;
  it('lists it in the site configuration, with an ETag', async () => {
    const reply = await asVisitor(platform, vendor, 'GET', '/v1/public/site-config');
    expect(reply.status).toBe(200);
    expect(reply.body.site).toEqual({ id: vendor.siteId, name: 'Acme.example' });
    expect(reply.body.modules).toEqual([
      {
        id: 'acme.faq',
        version: '1.0.0',
        type: 'widget',
        elements: [{ tag: 'acme-faq', url: v1Bundle.url, integrity: v1Bundle.integrity }],
        settings: { 'acme-faq': { title: 'Questions', max_items: 5, category: '', expand_first: false } },
      },
    ]);
    etag = reply.headers.get('etag')!;
    expect(etag).toMatch(/^".+"$/);
    const unchanged = await platform.request('GET', `/v1/public/site-config?key=${vendor.publishableKey}`, {
      headers: { origin: vendor.origin, 'if-none-match': etag },
    });
    expect(unchanged.status).toBe(304);
    // As a compressing proxy passes it on: weak, among others.
    const weak = await platform.request('GET', `/v1/public/site-config?key=${vendor.publishableKey}`, {
      headers: { origin: vendor.origin, 'if-none-match': `"other", W/${etag}` },
    });
    expect(weak.status).toBe(304);
  });

  it('upgrades to 2.0.0: records carried over with the new defaults, settings kept, a new collection', async () => {
    const { v2 } = await faqModule();
    await published(platform, token, v2);
    const reply = await platform.request('POST', `${installs}/acme.faq/upgrade`, { token, body: {} });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ version: '2.0.0', previous_version: '1.0.0' });
    expect(reply.body.settings['acme-faq']).toEqual({
      title: 'Questions',
      max_items: 5,
      category: '',
      expand_first: false,
      show_feedback: true,
    });
    const list = await platform.request('GET', `${questions}&sort=-helpful_count`, { token });
    expect(list.status).toBe(200);
    expect(sorted(list.body.data)).toEqual(['Do you ship abroad?', 'How do I book?']);
    expect(list.body.data.every((item: { helpful_count: number }) => item.helpful_count === 0)).toBe(true);

    const vote = await asVisitor(platform, vendor, 'POST', '/v1/m/acme.faq/feedback', {
      question_id: list.body.data[0].id,
      helpful: true,
    });
    expect(vote.status).toBe(201);

    const config = await asVisitor(platform, vendor, 'GET', '/v1/public/site-config');
    expect(config.headers.get('etag')).not.toBe(etag);
    expect(config.body.modules[0].version).toBe('2.0.0');
    expect(config.body.modules[0].elements[0].url).not.toBe(v1Bundle.url);
  });

  it('refuses an upgrade the records do not fit, and leaves version and records as they were', async () => {
    const { v2 } = await faqModule();
    const strict = variant(v2, (m) => {
      m.version = '3.0.0';
      m.collections!.questions!.schema.required = ['question', 'answer', 'owner'];
      (m.collections!.questions!.schema.properties as Record<string, unknown>).owner = { type: 'string' };
    });
    await published(platform, token, strict);
    const before = await platform.request('GET', questions, { token });
    const reply = await platform.request('POST', `${installs}/acme.faq/upgrade`, { token, body: { version: '3.0.0' } });
    expect(reply.status).toBe(422);
    expect(reply.body.code).toBe('upgrade_failed');
    expect(reply.body.errors).toHaveLength(2);
    expect(reply.body.errors[0].path).toMatch(/^\/questions\/[0-9a-f-]{36}\/owner$/);
    const install = await platform.request('GET', `${installs}/acme.faq`, { token });
    expect(install.body).toMatchObject({ version: '2.0.0', previous_version: '1.0.0', status: 'active' });
    const after = await platform.request('GET', questions, { token });
    expect(after.body).toEqual(before.body);
  });

  it('rolls back to 1.0.0 with every record kept, and then has nothing more to roll back', async () => {
    const reply = await platform.request('POST', `${installs}/acme.faq/rollback`, { token });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ version: '1.0.0', previous_version: null });
    expect(reply.body.settings['acme-faq']).not.toHaveProperty('show_feedback');
    const list = await platform.request('GET', questions, { token });
    expect(sorted(list.body.data)).toEqual(['Do you ship abroad?', 'How do I book?']);
    // v1 has no feedback collection.
    const feedback = await platform.request('GET', `/v1/m/acme.faq/feedback?site_id=${vendor.siteId}`, { token });
    expect(feedback.status).toBe(404);
    const twice = await platform.request('POST', `${installs}/acme.faq/rollback`, { token });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('nothing_to_roll_back');
  });

  it('uninstalls: the site stops serving it, the data waits out the retention period', async () => {
    const reply = await platform.request('DELETE', `${installs}/acme.faq`, { token });
    expect(reply.status).toBe(200);
    expect(reply.body.status).toBe('uninstalled');
    const days = (Date.parse(reply.body.purge_after) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    const config = await asVisitor(platform, vendor, 'GET', '/v1/public/site-config');
    expect(config.body.modules).toEqual([]);
    const gone = await asVisitor(platform, vendor, 'GET', '/v1/m/acme.faq/questions');
    expect(gone.status).toBe(404);
    expect(
      await purgeExpiredInstalls(platform.db.knex, (error) => {
        throw error;
      }),
    ).toBe(0);
  });

  it('reinstalls within the retention period with the data back', async () => {
    const reply = await platform.request('POST', installs, {
      token,
      body: { module_id: 'acme.faq', version: '1.0.0' },
    });
    expect(reply.status, reply.text).toBe(201);
    const list = await platform.request('GET', questions, { token });
    expect(sorted(list.body.data)).toEqual(['Do you ship abroad?', 'How do I book?']);
  });

  it('purges the data once the retention period is over', async () => {
    const reply = await platform.request('DELETE', `${installs}/acme.faq?retention_days=0`, { token });
    expect(reply.status).toBe(200);
    expect(
      await purgeExpiredInstalls(platform.db.knex, (error) => {
        throw error;
      }),
    ).toBe(1);
    const install = await platform.request('GET', `${installs}/acme.faq`, { token });
    expect(install.status).toBe(404);
    const fresh = await platform.request('POST', installs, { token, body: { module_id: 'acme.faq' } });
    expect(fresh.status).toBe(201);
    expect(fresh.body.version).toBe('3.0.0');
    const list = await platform.request('GET', questions, { token });
    expect(list.body.data).toEqual([]);
  });

  it('recorded every transition with who made it and when', async () => {
    const reply = await platform.request('GET', `${installs}/acme.faq/history`, { token });
    expect(reply.status).toBe(200);
    expect(reply.body.data.map((event: { action: string }) => event.action)).toEqual([
      'install',
      'upgrade',
      'rollback',
      'uninstall',
      'reinstall',
      'uninstall',
      'purge',
      'install',
    ]);
    const [first] = reply.body.data;
    expect(first.actor).toEqual({ kind: 'session', user_id: vendor.ownerId, credential_id: expect.any(String) });
    expect(reply.body.data[6].actor.kind).toBe('system');
    expect(Date.parse(first.created_at)).toBeLessThanOrEqual(Date.now());
  });
});
