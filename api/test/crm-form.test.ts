import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactFormMessages } from '../../components/src/crm/contact-form-messages.js';
import { DEFAULT_CONSENT_TEXT } from '../src/modules/crm/form.js';
import { crmSite, publishCrm, type CrmSite } from './support/crm.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { faqModule, published, variant } from './support/modules.js';
import { startTestPlatform, type Reply, type TestPlatform } from './support/platform.js';

/**
 * The CRM's lead form through HTTP, as `<dm-contact-form>` posts it: with the site's publishable key, from
 * one of its allowed origins. Each test has a site of its own (the rate limits count per site).
 */
let platform: TestPlatform;
let agency: PopulatedAgency;
const logLines: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  platform = await startTestPlatform({ logger: pino({ level: 'info' }, sink) });
  await publishCrm(platform);
  agency = await populateAgency(platform, 'Leads');
});
afterAll(() => platform?.close());

const PATH = '/v1/crm/form-submissions';

/** A site with the CRM and these `dm-contact-form` settings. */
async function formSite(name: string, settings: Record<string, unknown> = {}): Promise<CrmSite> {
  const site = await crmSite(platform, name, agency);
  const updated = await site.call('PATCH', `/v1/sites/${site.siteId}/installs/crm`, {
    settings: { 'dm-contact-form': settings },
  });
  if (updated.status !== 200) throw new Error(`settings: ${updated.status} ${updated.text}`);
  return site;
}

/** A submission as a person's browser sends it (5 s to fill in), with `change` on top. */
function submission(site: CrmSite, change: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    fields: { email: 'ada@example.com', first_name: 'Ada' },
    page_url: `${site.origin}/contact`,
    honeypot: '',
    elapsed_ms: 5000,
    ...change,
  };
}

/** Rows of the site in a CRM table, read as the schema owner. */
const count = async (table: string, siteId: string) =>
  Number((await platform.db.knex(`mod_crm.${table}`).where({ site_id: siteId }).count({ n: '*' }))[0]!.n);

async function stored(siteId: string) {
  return {
    contacts: await count('contacts', siteId),
    submissions: await count('form_submissions', siteId),
    timeline: await count('timeline', siteId),
    events: Number(
      (await platform.db.knex('outbox').where({ site_id: siteId }).whereLike('type', 'crm.%').count({ n: '*' }))[0]!.n,
    ),
  };
}
const NOTHING = { contacts: 0, submissions: 0, timeline: 0, events: 0 };

const events = async (siteId: string, type: string) =>
  (await platform.db.knex('outbox').where({ site_id: siteId, type }).orderBy('id').pluck('payload')) as Record<
    string,
    unknown
  >[];

/** The site's contacts that `q` finds, through the API. */
async function search(site: CrmSite, q: string) {
  const reply = await site.crm('GET', `/contacts?q=${encodeURIComponent(q)}`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data as Record<string, unknown>[];
}

/** POSTs a submission from another client address (127.0.0.x all reach this machine), as another visitor. */
function postFrom(address: string, site: CrmSite, body: unknown): Promise<Pick<Reply, 'status' | 'body'>> {
  const url = new URL(`${platform.url}${PATH}?key=${encodeURIComponent(site.publishableKey)}`);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        localAddress: address,
        headers: { 'content-type': 'application/json', origin: site.origin },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text || 'null') }));
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

const shapeOf = (reply: Reply) => ({ status: reply.status, keys: Object.keys(reply.body).sort() });

describe('a contact form submission', () => {
  it('creates the contact, then completes it on the next, never a second one, with consent and UTM recorded', async () => {
    const site = await formSite('Spring', {
      fields: [
        { name: 'first_name', required: true },
        { name: 'last_name' },
        { name: 'email', required: true },
        { name: 'phone' },
        { name: 'company' },
        { name: 'message' },
      ],
      consent: { enabled: true, text: 'Yes, <b>call me</b> about the spring offer.' },
      tags: ['website', 'spring'],
      lifecycle_stage: 'subscriber',
    });
    const first = await site.visit(
      'POST',
      PATH,
      submission(site, {
        fields: { email: 'Ada@Example.COM', first_name: ' Ada ', message: 'Hello,\nplease call me.' },
        consent: true,
        page_url: `${site.origin}/offers/spring?utm_source=newsletter#top`,
        referrer: 'https://www.google.com/',
        utm: { source: 'newsletter', medium: 'email', campaign: 'spring-2027' },
      }),
    );
    expect(first.status, first.text).toBe(202);
    expect(first.body).toEqual({ received: true, received_at: expect.any(String) });

    const [created] = await search(site, 'ada@example.com');
    expect(created).toMatchObject({
      first_name: 'Ada',
      last_name: '',
      emails: ['ada@example.com'],
      phones: [],
      tags: ['website', 'spring'],
      lifecycle_stage: 'subscriber',
      source: 'form',
      consent: {
        granted: true,
        text: 'Yes, <b>call me</b> about the spring offer.',
        recorded_at: first.body.received_at,
        // Without its fragment: an address's fragment may carry what is nobody's business (a booking's token).
        page_url: `${site.origin}/offers/spring?utm_source=newsletter`,
      },
    });

    // The same person again, another spelling of the address: the contact is completed, not repeated.
    const second = await site.visit(
      'POST',
      PATH,
      submission(site, {
        fields: {
          email: 'ADA@example.com',
          first_name: 'Augusta',
          last_name: 'Lovelace',
          phone: '+44 20 7946 0000',
          company: 'Analytical Engines Ltd',
        },
        consent: true,
      }),
    );
    expect(shapeOf(second)).toEqual(shapeOf(first));
    const contacts = await search(site, 'ada');
    expect(contacts).toHaveLength(1);
    expect(contacts[0]).toMatchObject({
      id: created!.id,
      // What the contact had stays; what it lacked is filled in.
      first_name: 'Ada',
      last_name: 'Lovelace',
      phones: ['+44 20 7946 0000'],
      tags: ['website', 'spring'],
      lifecycle_stage: 'subscriber',
    });

    const submissions = await platform.db
      .knex('mod_crm.form_submissions')
      .where({ site_id: site.siteId })
      .orderBy('created_at');
    expect(submissions).toHaveLength(2);
    expect(submissions[0]).toMatchObject({
      contact_id: created!.id,
      fields: { email: 'ada@example.com', first_name: 'Ada', message: 'Hello,\nplease call me.' },
      page_url: `${site.origin}/offers/spring?utm_source=newsletter`,
      utm: { source: 'newsletter', medium: 'email', campaign: 'spring-2027' },
    });
    expect(submissions[1].fields).toMatchObject({ last_name: 'Lovelace', company: 'Analytical Engines Ltd' });

    const timeline = await site.crm('GET', `/contacts/${created!.id}/timeline`);
    expect(timeline.body.data.map((entry: { type: string }) => entry.type)).toEqual([
      'form.submitted',
      'form.submitted',
      'contact.created',
    ]);
    expect(timeline.body.data[1]).toMatchObject({
      summary: 'Sent the contact form on /offers/spring',
      data: { referrer: 'https://www.google.com/', utm: { campaign: 'spring-2027' } },
    });

    expect(await events(site.siteId, 'crm.contact.created')).toHaveLength(1);
    expect(await events(site.siteId, 'crm.contact.updated')).toHaveLength(1);
    const submitted = await events(site.siteId, 'crm.form.submitted');
    expect(submitted).toHaveLength(2);
    expect(submitted[0]).toEqual({
      id: submissions[0].id,
      contact_id: created!.id,
      fields: { email: 'ada@example.com', first_name: 'Ada', message: 'Hello,\nplease call me.' },
      consent: expect.objectContaining({ granted: true, text: 'Yes, <b>call me</b> about the spring offer.' }),
      page_url: `${site.origin}/offers/spring?utm_source=newsletter`,
      referrer: 'https://www.google.com/',
      utm: { source: 'newsletter', medium: 'email', campaign: 'spring-2027' },
      submitted_at: first.body.received_at,
    });
  });

  it('answers alike whether or not the person was a contact already', async () => {
    const site = await formSite('Alike');
    await site.create('/contacts', { first_name: 'Grace', emails: ['grace@example.com'] });
    const known = await site.visit('POST', PATH, submission(site, { fields: { email: 'grace@example.com' } }));
    const unknown = await site.visit('POST', PATH, submission(site, { fields: { email: 'linus@example.com' } }));
    expect(shapeOf(known)).toEqual({ status: 202, keys: ['received', 'received_at'] });
    expect(shapeOf(unknown)).toEqual(shapeOf(known));
    expect(known.headers.get('content-length')).toBe(unknown.headers.get('content-length'));
  });

  it('makes one contact of submissions racing for one new address', async () => {
    const site = await formSite('Racing');
    const replies = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        site.visit(
          'POST',
          PATH,
          submission(site, { fields: { email: 'twin@example.com', first_name: `Twin ${index}` } }),
        ),
      ),
    );
    expect(replies.map((reply) => reply.status)).toEqual(Array(5).fill(202));
    expect(await search(site, 'twin')).toHaveLength(1);
    expect(await count('form_submissions', site.siteId)).toBe(5);
  });

  it('records the consent in the words shown: the element’s own in the visitor’s language, or a refusal', async () => {
    const site = await formSite('Consent', { consent: { enabled: true, required: false } });
    // The server records what the element shows; the two must never disagree.
    expect(DEFAULT_CONSENT_TEXT).toEqual({ en: contactFormMessages.en.consent, de: contactFormMessages.de.consent });
    await site.visit('POST', PATH, submission(site, { consent: true, locale: 'de' }));
    const [contact] = await search(site, 'ada');
    expect(contact!.consent).toMatchObject({ granted: true, text: DEFAULT_CONSENT_TEXT.de });
    // An optional box left unticked is recorded as such: the latest word counts.
    await site.visit('POST', PATH, submission(site, { consent: false }));
    const [again] = await search(site, 'ada');
    expect(again!.consent).toMatchObject({ granted: false, text: DEFAULT_CONSENT_TEXT.en });
  });
});

describe('bad input', () => {
  it('gets a clear 400 naming the field, and nothing is stored', async () => {
    const site = await formSite('Hostile', {
      fields: [{ name: 'email', required: true }, { name: 'first_name', required: true }, { name: 'message' }],
      consent: { enabled: true, required: true },
    });
    const good = { email: 'eve@example.com', first_name: 'Eve' };
    const cases: [string, Record<string, unknown>, string, RegExp][] = [
      ['a script tag', { fields: { ...good, message: '<script>alert(1)</script>' } }, '/body/fields/message', /markup/],
      [
        'an image tag',
        { fields: { ...good, first_name: '<img src=x onerror=alert(1)>' } },
        '/body/fields/first_name',
        /markup/,
      ],
      [
        'a closing tag',
        { fields: { ...good, message: 'hi</textarea><svg onload=alert(1)>' } },
        '/body/fields/message',
        /markup/,
      ],
      ['a comment', { fields: { ...good, message: '<!-- x -->' } }, '/body/fields/message', /markup/],
      ['markup in a UTM parameter', { utm: { source: '<script>x</script>' } }, '/body/utm/source', /markup/],
      [
        'a field the form does not have',
        { fields: { ...good, phone: '+49 30 1234567' } },
        '/body/fields/phone',
        /not a field of this form/,
      ],
      ['a required field left out', { fields: { email: 'eve@example.com' } }, '/body/fields/first_name', /required/],
      [
        'a required field left blank',
        { fields: { ...good, first_name: '   ' } },
        '/body/fields/first_name',
        /required/,
      ],
      ['required consent not given', { consent: false }, '/body/consent', /must be given/],
      ['a page of another site', { page_url: 'https://evil.example/phish' }, '/body/page_url', /allowed origins/],
      // The schema's own refusals.
      [
        'an invalid email address',
        { fields: { ...good, email: 'eve(at)example.com' } },
        '/body/fields/email',
        /format/,
      ],
      [
        'markup as an email address',
        { fields: { ...good, email: '<script>@example.com' } },
        '/body/fields/email',
        /format/,
      ],
      ['a huge field', { fields: { ...good, message: 'x'.repeat(5001) } }, '/body/fields/message', /5000/],
      ['a huge name', { fields: { ...good, first_name: 'x'.repeat(101) } }, '/body/fields/first_name', /100/],
      [
        'an unknown field',
        { fields: { ...good, website: 'https://spam.example' } },
        '/body/fields/website',
        /additional/,
      ],
      ['an unknown property', { admin: true }, '/body/admin', /additional/],
      ['a control character', { fields: { ...good, first_name: 'Eve\u0007' } }, '/body/fields/first_name', /pattern/],
      ['no honeypot', { honeypot: undefined }, '/body/honeypot', /required/],
      ['no fill time', { elapsed_ms: undefined }, '/body/elapsed_ms', /required/],
      ['a page that is no web page', { page_url: 'javascript:alert(1)' }, '/body/page_url', /pattern|format/],
    ];
    // Refusals count against the rate limit too: each case comes from an address of its own.
    for (const [index, [what, change, path, message]] of cases.entries()) {
      const body = submission(site, { fields: good, consent: true, ...change });
      const reply = await postFrom(`127.0.1.${index + 1}`, site, body);
      const text = JSON.stringify(reply.body);
      expect(reply.status, `${what}: ${text}`).toBe(400);
      expect(reply.body.code, what).toBe('validation_failed');
      const error = reply.body.errors.find((candidate: { path: string }) => candidate.path === path);
      expect(error, `${what}: ${text}`).toBeDefined();
      expect(error.message, what).toMatch(message);
    }
    // Several problems at once are all named.
    const many = await site.visit(
      'POST',
      PATH,
      submission(site, { fields: { email: 'eve@example.com', message: '<b>hi</b>', company: 'ACME' } }),
    );
    expect(many.status).toBe(400);
    expect(many.body.errors.map((error: { path: string }) => error.path).sort()).toEqual([
      '/body/consent',
      '/body/fields/company',
      '/body/fields/first_name',
      '/body/fields/message',
    ]);
    expect(await stored(site.siteId)).toEqual(NOTHING);
    // And the same form takes a good submission.
    const fine = await site.visit('POST', PATH, submission(site, { fields: good, consent: true }));
    expect(fine.status, fine.text).toBe(202);
  });

  it('is refused from an origin the site does not allow, without an origin, and with a secret key', async () => {
    const site = await formSite('Origins');
    const url = `${PATH}?key=${encodeURIComponent(site.publishableKey)}`;
    const elsewhere = await platform.request('POST', url, {
      body: submission(site),
      headers: { origin: 'https://evil.example' },
    });
    expect([elsewhere.status, elsewhere.body.code]).toEqual([403, 'origin_not_allowed']);
    const noOrigin = await platform.request('POST', url, { body: submission(site) });
    expect([noOrigin.status, noOrigin.body.code]).toEqual([403, 'origin_not_allowed']);
    const secretKey = await platform.request('POST', PATH, { token: agency.secretKey, body: submission(site) });
    expect([secretKey.status, secretKey.body.code]).toEqual([403, 'credential_not_accepted']);
    expect(await stored(site.siteId)).toEqual(NOTHING);
  });

  it('is a 404 on a site without the CRM', async () => {
    const other = await populateAgency(platform, 'NoCrm');
    const reply = await platform.request('POST', `${PATH}?key=${encodeURIComponent(other.publishableKey)}`, {
      body: { fields: { email: 'x@example.com' }, honeypot: '', elapsed_ms: 5000 },
      headers: { origin: other.origin },
    });
    expect([reply.status, reply.body.code]).toEqual([404, 'module_not_installed']);
  });
});

describe('spam', () => {
  it('answers a filled honeypot and a too-fast form like a real submission, stores nothing, and logs why', async () => {
    const site = await formSite('Bots');
    const real = await site.visit('POST', PATH, submission(site, { fields: { email: 'real@example.com' } }));
    const before = await stored(site.siteId);
    const honeypot = await site.visit('POST', PATH, submission(site, { honeypot: 'https://cheap-pills.example' }));
    const fast = await site.visit('POST', PATH, submission(site, { elapsed_ms: 400 }));
    for (const caught of [honeypot, fast]) expect(shapeOf(caught)).toEqual(shapeOf(real));
    expect(await stored(site.siteId)).toEqual(before);
    expect(await search(site, 'ada')).toEqual([]);
    const dropped = logLines
      .map((line) => JSON.parse(line))
      .filter((entry) => entry.site_id === site.siteId && entry.msg.includes('spam checks'));
    expect(dropped.map((entry) => entry.reason)).toEqual(['honeypot', 'too_fast']);
    // Who sent it is not the log's to keep.
    expect(JSON.stringify(dropped)).not.toContain('ada@example.com');
  });
});

describe('rate limits', () => {
  it('allow 10 submissions per client address and site in 10 minutes, then 429 with Retry-After', async () => {
    const site = await formSite('Flood');
    for (let index = 0; index < 10; index++) {
      const reply = await site.visit('POST', PATH, submission(site, { fields: { email: `f${index}@example.com` } }));
      expect(reply.status, reply.text).toBe(202);
    }
    const limited = await site.visit('POST', PATH, submission(site, { fields: { email: 'f10@example.com' } }));
    expect([limited.status, limited.body.code]).toEqual([429, 'rate_limited']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The page can read how long to wait.
    expect(limited.headers.get('access-control-expose-headers')).toContain('Retry-After');
    // Bots are counted too: a honeypot does not get around the limit.
    const bot = await site.visit('POST', PATH, submission(site, { honeypot: 'x' }));
    expect(bot.status).toBe(429);
    // Another visitor of the site is not held back by this one.
    const neighbour = await postFrom('127.0.0.2', site, submission(site, { fields: { email: 'n@example.com' } }));
    expect(neighbour.status).toBe(202);
    expect(await count('contacts', site.siteId)).toBe(11);
  });
});

describe('the per-site limit', () => {
  let limited: TestPlatform;
  afterAll(() => limited?.close());

  it('holds a site’s submissions from all addresses together, and no other site’s', async () => {
    limited = await startTestPlatform({ rateLimits: { formSubmissionsPerSite: { points: 3, duration: 600 } } });
    await publishCrm(limited);
    const owner = await populateAgency(limited, 'Busy');
    const [busy, quiet] = [await crmSite(limited, 'Busy', owner), await crmSite(limited, 'Quiet', owner)];
    const post = (site: CrmSite, address: string, email: string) => {
      const body = { fields: { email }, page_url: `${site.origin}/`, honeypot: '', elapsed_ms: 5000 };
      const url = new URL(`${limited.url}${PATH}?key=${encodeURIComponent(site.publishableKey)}`);
      return new Promise<number>((resolve, reject) => {
        const request = httpRequest(
          url,
          {
            method: 'POST',
            localAddress: address,
            headers: { 'content-type': 'application/json', origin: site.origin },
          },
          (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          },
        );
        request.on('error', reject);
        request.end(JSON.stringify(body));
      });
    };
    const statuses = [];
    for (const [index, address] of ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'].entries()) {
      statuses.push(await post(busy, address, `v${index}@example.com`));
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
    expect(await post(quiet, '127.0.0.4', 'q@example.com')).toBe(202);
  });
});

describe('the loader’s configuration', () => {
  it('serves the form for visitors and its public settings, never an app’s screens for users nor server-only settings', async () => {
    const site = await formSite('Loader', {
      title: 'Write to us',
      tags: ['secret-campaign'],
      lifecycle_stage: 'customer',
    });
    const config = await site.visit('GET', '/v1/public/site-config');
    expect(config.status, config.text).toBe(200);
    const crm = config.body.modules.find((module: { id: string }) => module.id === 'crm');
    expect(crm).toMatchObject({ type: 'app', elements: [{ tag: 'dm-contact-form' }] });
    expect(crm.elements).toHaveLength(1);
    expect(Object.keys(crm.settings)).toEqual(['dm-contact-form']);
    expect(crm.settings['dm-contact-form']).toMatchObject({ title: 'Write to us', fields: expect.any(Array) });
    // Tags and lifecycle stage are the server's: `writeOnly` in the schema.
    expect(crm.settings['dm-contact-form']).not.toHaveProperty('tags');
    expect(crm.settings['dm-contact-form']).not.toHaveProperty('lifecycle_stage');
    const script = await platform.request('GET', `/v1/embed/${site.publishableKey}.js`);
    expect(script.text).toContain('dm-contact-form');
    expect(script.text).not.toContain('secret-campaign');
  });

  it('serves an app’s elements for visitors only, with their settings only; widgets as ever', async () => {
    const owner = await populateAgency(platform, 'Apps');
    const { v1 } = await faqModule();
    // An app with a screen for signed-in users and an element for visitors; one with screens only.
    const app = variant(v1, (manifest) => {
      manifest.id = 'apps.desk';
      manifest.type = 'app';
      const [faq] = manifest.elements!;
      manifest.elements = [
        { ...faq!, tag: 'apps-desk-admin', settings: { type: 'object', properties: { api_hint: { type: 'string' } } } },
        { ...faq!, tag: 'apps-desk-faq', audience: 'visitors' },
      ];
      manifest.events = {};
    });
    const screensOnly = variant(v1, (manifest) => {
      manifest.id = 'apps.back';
      manifest.type = 'app';
      manifest.elements = [{ ...manifest.elements![0]!, tag: 'apps-back-office' }];
      manifest.events = {};
      delete manifest.collections!.questions!.public;
    });
    const widget = variant(v1, (manifest) => {
      manifest.id = 'apps.faq';
      manifest.elements![0]!.tag = 'apps-faq';
      manifest.events = {};
    });
    for (const body of [app, screensOnly, widget]) await published(platform, owner.token, body);
    const install = async (moduleId: string, settings: Record<string, unknown>) => {
      const reply = await platform.request('POST', `/v1/sites/${owner.siteId}/installs`, {
        token: owner.token,
        body: { module_id: moduleId, settings },
      });
      expect(reply.status, reply.text).toBe(201);
    };
    await install('apps.desk', {
      'apps-desk-admin': { api_hint: 'internal only' },
      'apps-desk-faq': { title: 'Help' },
    });
    await install('apps.back', {});
    await install('apps.faq', { 'apps-faq': { title: 'Questions' } });

    const config = await platform.request(
      'GET',
      `/v1/public/site-config?key=${encodeURIComponent(owner.publishableKey)}`,
      {
        headers: { origin: owner.origin },
      },
    );
    expect(config.status, config.text).toBe(200);
    const modules = Object.fromEntries(
      config.body.modules.map((module: { id: string }) => [module.id, module]),
    ) as Record<string, { type: string; elements: { tag: string }[]; settings: Record<string, unknown> }>;
    expect(Object.keys(modules).sort()).toEqual(['apps.desk', 'apps.faq']);
    expect(modules['apps.desk']!.elements.map((element) => element.tag)).toEqual(['apps-desk-faq']);
    expect(Object.keys(modules['apps.desk']!.settings)).toEqual(['apps-desk-faq']);
    expect(modules['apps.faq']).toMatchObject({
      type: 'widget',
      elements: [{ tag: 'apps-faq' }],
      settings: { 'apps-faq': { title: 'Questions' } },
    });
    const script = await platform.request('GET', `/v1/embed/${owner.publishableKey}.js`);
    expect(script.status).toBe(200);
    for (const hidden of ['apps-desk-admin', 'internal only', 'apps-back-office', 'apps.back']) {
      expect(script.text).not.toContain(hidden);
    }
    // The app's element for visitors reads its public records like a widget's.
    const records = await platform.request(
      'GET',
      `/v1/m/apps.desk/questions?key=${encodeURIComponent(owner.publishableKey)}`,
      { headers: { origin: owner.origin } },
    );
    expect(records.status, records.text).toBe(200);
  });
});
