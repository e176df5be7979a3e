import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { crmSite, publishCrm, type CrmSite } from './support/crm.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
/** The agency whose sites the tests use, each test a site of its own. */
let agency: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  await publishCrm(platform);
  agency = await populateAgency(platform, 'Sales');
});
afterAll(() => platform.close());

const ids = (reply: { body: { data: { id: string }[] } }) => reply.body.data.map((item) => item.id);

describe('contacts', () => {
  it('creates, reads, changes and deletes a contact, with events for each change', async () => {
    const site = await crmSite(platform, 'Basics', agency);
    const contact = await site.create('/contacts', {
      first_name: 'Ada',
      last_name: 'Lovelace',
      emails: ['Ada@Example.COM', 'ada.l@example.org'],
      phones: ['+44 20 7946 0000'],
      tags: ['vip'],
      lifecycle_stage: 'customer',
    });
    expect(contact).toMatchObject({
      first_name: 'Ada',
      emails: ['ada@example.com', 'ada.l@example.org'],
      source: 'api',
      consent: null,
      custom: {},
    });
    const read = await site.crm('GET', `/contacts/${contact.id}`);
    expect(read.body).toEqual(contact);
    const changed = await site.crm('PATCH', `/contacts/${contact.id}`, {
      last_name: 'King',
      emails: ['ada@example.com'],
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({ last_name: 'King', emails: ['ada@example.com'], tags: ['vip'] });
    // The address it gave up is free for another contact; the one it kept is not.
    await site.create('/contacts', { emails: ['ada.l@example.org'] });
    const taken = await site.crm('POST', '/contacts', { emails: ['ADA@example.com'] });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'duplicate_contact', errors: [{ path: '/body/emails/0' }] });
    expect(taken.body.detail).toContain(contact.id);
    expect((await site.crm('DELETE', `/contacts/${contact.id}`)).status).toBe(204);
    expect((await site.crm('GET', `/contacts/${contact.id}`)).status).toBe(404);
    expect((await site.crm('DELETE', `/contacts/${contact.id}`)).status).toBe(404);
    const events = (await platform.db
      .knex('outbox')
      .where({ site_id: site.siteId })
      .whereLike('type', 'crm.contact.%')
      .orderBy('id')
      .pluck('type')) as string[];
    expect(events).toEqual([
      'crm.contact.created',
      'crm.contact.updated',
      'crm.contact.created',
      'crm.contact.deleted',
    ]);
  });

  it('keeps two racing requests from giving one address to two contacts', async () => {
    const site = await crmSite(platform, 'Race', agency);
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        site.crm('POST', '/contacts', { first_name: `Twin ${index}`, emails: ['twin@example.com'] }),
      ),
    );
    expect(replies.map((reply) => reply.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    const list = await site.crm('GET', '/contacts');
    expect(list.body.data).toHaveLength(1);
  });

  it('searches names, addresses, phones and tags by word beginnings, and filters', async () => {
    const site = await crmSite(platform, 'Search', agency);
    const anna = await site.create('/contacts', {
      first_name: 'Anna',
      last_name: 'Schmidt',
      emails: ['anna@example.com'],
      tags: ['lead-2027'],
    });
    const bob = await site.create('/contacts', {
      first_name: 'Bob',
      last_name: 'Annand',
      emails: ['bob@corp.example'],
      lifecycle_stage: 'customer',
    });
    await site.create('/contacts', { first_name: 'Carla', emails: ['carla@other.example'], phones: ['+49 30 123456'] });
    const search = async (query: string) => ids(await site.crm('GET', `/contacts?${query}`));
    expect(await search('q=ann')).toEqual([bob.id, anna.id]);
    expect(await search('q=ann%20exa')).toEqual([bob.id, anna.id]);
    expect(await search('q=ann%20sch')).toEqual([anna.id]);
    expect(await search('q=corp')).toEqual([bob.id]);
    expect(await search('q=123456')).toHaveLength(1);
    // A phone number as people type it, without spaces or the plus; a space as forms write it.
    expect(await search('q=4930123')).toHaveLength(1);
    expect(await search('q=ann+sch')).toEqual([anna.id]);
    // Names with dots and dashes, found by what a person types of them.
    const jr = await site.create('/contacts', { first_name: 'J.R.', last_name: 'Ewing-Smith' });
    expect(await search('q=J.R.%20Ewing')).toEqual([jr.id]);
    expect(await search('q=smith')).toEqual([jr.id]);
    expect(await search('q=%3C%2F%3E')).toEqual([]);
    expect(await search('tag=lead-2027')).toEqual([anna.id]);
    expect(await search('lifecycle_stage=customer')).toEqual([bob.id]);
    expect(await search('q=ann&lifecycle_stage=customer')).toEqual([bob.id]);
  });

  it('sorts and pages with a cursor that neither repeats nor skips a contact', async () => {
    const site = await crmSite(platform, 'Pages', agency);
    const names = ['Delta', 'alpha', 'Charlie', 'bravo', 'Echo', 'Foxtrot', 'Golf'];
    for (const name of names) await site.create('/contacts', { last_name: name });
    for (const sort of ['last_name', '-last_name', 'created_at', '-created_at', '-updated_at']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `sort=${sort}&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await site.crm('GET', `/contacts?${query}`);
        expect(page.status, page.text).toBe(200);
        seen.push(...page.body.data.map((contact: { last_name: string }) => contact.last_name));
        cursor = page.body.next_cursor;
      } while (cursor);
      expect(seen, sort).toHaveLength(names.length);
      expect(new Set(seen).size).toBe(names.length);
      if (sort === '-created_at') expect(seen).toEqual([...names].reverse());
      if (sort === 'created_at') expect(seen).toEqual(names);
    }
    const first = await site.crm('GET', '/contacts?sort=last_name&limit=2');
    const id = '01900000-0000-7000-8000-000000000001';
    const forged = (cursor: unknown) => Buffer.from(JSON.stringify(cursor)).toString('base64url');
    for (const query of [
      'cursor=bm90LWEtY3Vyc29y',
      // Another order's cursor, and values its column cannot hold.
      `sort=created_at&cursor=${first.body.next_cursor}`,
      `sort=created_at&cursor=${forged(['created_at', 'not a time', id])}`,
      `sort=created_at&cursor=${forged(['created_at', '2027-02-30 10:00:00+00', id])}`,
      `sort=last_name&cursor=${forged(['last_name', 'x', 'not-a-uuid'])}`,
    ]) {
      const bad = await site.crm('GET', `/contacts?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.body.code).toBe('invalid_cursor');
    }
  });

  it('refuses what is not a contact: unknown fields, bad addresses, markup in names, other sites’ companies', async () => {
    const site = await crmSite(platform, 'Refusals', agency);
    for (const body of [
      { nickname: 'x' },
      { emails: ['not-an-address'] },
      { first_name: '<script>alert(1)</script>' },
      { first_name: 'x'.repeat(101) },
      { lifecycle_stage: 'king' },
      { phones: ['call me'] },
      { custom: { unknown_field: 1 } },
    ]) {
      const reply = await site.crm('POST', '/contacts', body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.headers.get('content-type')).toContain('application/problem+json');
    }
    const other = await crmSite(platform, 'Elsewhere', agency);
    const company = await platform.db.knex('mod_crm.companies').insert({
      id: '01900000-0000-7000-8000-000000000001',
      agency_id: other.agencyId,
      site_id: other.siteId,
      name: 'Elsewhere Ltd',
    });
    expect(company).toBeDefined();
    const reply = await site.crm('POST', '/contacts', { company_id: '01900000-0000-7000-8000-000000000001' });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ path: '/body/company_id', message: 'is not a company of this site' }]);
    expect(await platform.db.knex('mod_crm.contacts').where({ site_id: site.siteId }).count('* as n')).toEqual([
      { n: 0 },
    ]);
  });

  it('answers 404 where the CRM is not installed, and for other agencies’ sites', async () => {
    const stranger = await populateAgency(platform, 'Stranger');
    const notInstalled = await platform.request('GET', `/v1/sites/${stranger.siteId}/crm/contacts`, {
      token: stranger.token,
    });
    expect(notInstalled.status).toBe(404);
    expect(notInstalled.body.code).toBe('module_not_installed');
    const site: CrmSite = await crmSite(platform, 'Mine', agency);
    const foreign = await platform.request('GET', `${site.base}/contacts`, { token: stranger.token });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('not_found');
  });
});
