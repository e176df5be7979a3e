import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { crmEvents, crmSite, publishCrm, type CrmSite } from './support/crm.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
/** The agency whose sites the tests use, each test a site of its own. */
let agency: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  await publishCrm(platform);
  agency = await populateAgency(platform, 'Records');
});
afterAll(() => platform.close());

const names = (reply: { body: { data: { name: string }[] } }) => reply.body.data.map((item) => item.name);

/** The site's sales pipeline, for the deals these tests need. */
const salesPipeline = (site: CrmSite) =>
  site.create('/pipelines', { name: 'Sales', stages: [{ name: 'Lead' }, { name: 'Won', kind: 'won' }] });

/** A contact's timeline, newest first, as [type, summary]. */
async function timeline(site: CrmSite, contactId: string) {
  const reply = await site.crm('GET', `/contacts/${contactId}/timeline?limit=100`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data as { type: string; summary: string; data: Record<string, unknown> }[];
}

describe('companies', () => {
  it('creates, reads, changes and deletes a company, keeping its domain normalised and unique', async () => {
    const site = await crmSite(platform, 'Companies', agency);
    const acme = await site.create('/companies', {
      name: 'Acme Inc.',
      domain: 'https://www.Acme.example/about?x=1',
      owner_id: agency.userId,
    });
    expect(acme).toMatchObject({
      name: 'Acme Inc.',
      domain: 'acme.example',
      owner_id: agency.userId,
      custom: {},
      contact_count: 0,
    });
    expect((await site.crm('GET', `/companies/${acme.id}`)).body).toEqual(acme);
    for (const domain of ['ACME.example', 'acme.example.', 'http://acme.example:8080/', 'www.acme.example']) {
      const duplicate = await site.crm('POST', '/companies', { name: 'Copy', domain });
      expect(duplicate.status, domain).toBe(409);
      expect(duplicate.body).toMatchObject({
        code: 'duplicate_company',
        errors: [{ path: '/body/domain', message: `belongs to company ${acme.id}` }],
      });
      expect(duplicate.body.detail).toContain('Acme Inc.');
    }
    for (const domain of [
      'not a domain',
      'localhost',
      '192.168.0.1',
      'acme.',
      'mailto:x',
      'a'.repeat(64) + '.example',
    ]) {
      const bad = await site.crm('POST', '/companies', { name: 'Bad', domain });
      expect(bad.status, domain).toBe(400);
      expect(bad.body.errors, domain).toEqual([{ path: '/body/domain', message: expect.stringContaining('domain') }]);
    }
    // International names are kept in their ASCII form, so that both spellings are one domain.
    const munich = await site.create('/companies', { name: 'München AG', domain: 'München.example' });
    expect(munich.domain).toBe('xn--mnchen-3ya.example');
    expect((await site.crm('POST', '/companies', { name: 'Dup', domain: 'xn--mnchen-3ya.example' })).status).toBe(409);

    const other = await site.create('/companies', { name: 'Other', domain: null });
    expect(other.domain).toBeNull();
    const taken = await site.crm('PATCH', `/companies/${other.id}`, { domain: 'https://acme.example' });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('duplicate_company');
    const own = await site.crm('PATCH', `/companies/${acme.id}`, { domain: 'WWW.ACME.EXAMPLE', name: 'Acme' });
    expect(own.status, own.text).toBe(200);
    expect(own.body).toMatchObject({ name: 'Acme', domain: 'acme.example' });
    const cleared = await site.crm('PATCH', `/companies/${acme.id}`, { domain: '' });
    expect(cleared.body.domain).toBeNull();
    expect((await site.crm('PATCH', `/companies/${other.id}`, { domain: 'acme.example' })).status).toBe(200);
    expect((await site.crm('PATCH', `/companies/${other.id}`, { owner_id: randomUUID() })).status).toBe(400);
    expect((await site.crm('PATCH', `/companies/${other.id}`, {})).status).toBe(400);

    expect((await site.crm('DELETE', `/companies/${munich.id}`)).status).toBe(204);
    expect((await site.crm('GET', `/companies/${munich.id}`)).status).toBe(404);
    expect((await site.crm('DELETE', `/companies/${munich.id}`)).status).toBe(404);
    const events = await crmEvents(platform, site.siteId, 'crm.company.');
    expect(events.map((event) => event.type)).toEqual([
      'crm.company.created',
      'crm.company.created',
      'crm.company.created',
      'crm.company.updated',
      'crm.company.updated',
      'crm.company.updated',
      'crm.company.deleted',
    ]);
    expect(events.at(-1)!.payload).toEqual({ id: munich.id });
  });

  it('gives one domain to one of two companies created at the same time', async () => {
    const site = await crmSite(platform, 'CompanyRace', agency);
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        site.crm('POST', '/companies', { name: `Twin ${index}`, domain: 'twins.example' }),
      ),
    );
    expect(replies.map((reply) => reply.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const reply of replies.filter((one) => one.status === 409)) {
      expect(reply.body.code).toBe('duplicate_company');
    }
    expect((await site.crm('GET', '/companies')).body.data).toHaveLength(1);
  });

  it('links new contacts to the company at their address’s domain, and lets them go when it is deleted', async () => {
    const site = await crmSite(platform, 'Linking', agency);
    const acme = await site.create('/companies', { name: 'Acme', domain: 'acme.example' });
    const ada = await site.create('/contacts', {
      first_name: 'Ada',
      emails: ['ada@gmail.example', 'Ada@ACME.example'],
    });
    expect(ada.company_id).toBe(acme.id);
    const loner = await site.create('/contacts', {
      first_name: 'Lone',
      emails: ['lone@acme.example'],
      company_id: null,
    });
    expect(loner.company_id).toBeNull();
    const stranger = await site.create('/contacts', { first_name: 'Stranger', emails: ['s@sub.acme.example'] });
    expect(stranger.company_id).toBeNull();
    const booked = await site.create('/contacts', {
      first_name: 'Bob',
      emails: ['bob@www.acme.example'],
      source: 'booking',
    });
    expect(booked.company_id).toBe(acme.id);
    expect((await site.crm('GET', `/companies/${acme.id}`)).body.contact_count).toBe(2);
    expect((await site.crm('GET', `/contacts?company_id=${acme.id}`)).body.data).toHaveLength(2);

    await salesPipeline(site);
    const deal = await site.create('/deals', { name: 'Acme deal', company_id: acme.id, contact_id: ada.id });
    const note = await site.create('/activities', { kind: 'note', subject: 'About Acme', company_id: acme.id });
    expect((await site.crm('DELETE', `/companies/${acme.id}`)).status).toBe(204);
    expect((await site.crm('GET', `/contacts/${ada.id}`)).body).toMatchObject({ company_id: null, first_name: 'Ada' });
    expect((await site.crm('GET', `/deals/${deal.id}`)).body).toMatchObject({ company_id: null, contact_id: ada.id });
    expect((await site.crm('GET', `/activities/${note.id}`)).status).toBe(404);
  });

  it('searches names and domains, filters, sorts and pages', async () => {
    const site = await crmSite(platform, 'CompanyLists', agency);
    await site.create('/custom-fields', {
      entity: 'company',
      key: 'industry',
      label: 'Industry',
      type: 'select',
      options: ['retail', 'software'],
    });
    await site.create('/companies', {
      name: 'Zeta Shoes',
      domain: 'zeta-shoes.example',
      custom: { industry: 'retail' },
    });
    await site.create('/companies', { name: 'Alpha Software', domain: 'alpha.example', owner_id: agency.userId });
    await site.create('/companies', { name: 'Mid Corp', domain: 'mid.example', custom: { industry: 'software' } });
    const list = async (query: string) => {
      const reply = await site.crm('GET', `/companies?${query}`);
      expect(reply.status, `${query}: ${reply.text}`).toBe(200);
      return names(reply);
    };
    expect(await list('')).toEqual(['Mid Corp', 'Alpha Software', 'Zeta Shoes']);
    expect(await list('sort=name')).toEqual(['Alpha Software', 'Mid Corp', 'Zeta Shoes']);
    expect(await list('q=shoe')).toEqual(['Zeta Shoes']);
    expect(await list('q=alpha%20exa')).toEqual(['Alpha Software']);
    expect(await list(`owner_id=${agency.userId}`)).toEqual(['Alpha Software']);
    expect(await list('domain=https%3A%2F%2Fwww.MID.example%2F')).toEqual(['Mid Corp']);
    expect(await list('custom=industry%3Aretail')).toEqual(['Zeta Shoes']);
    expect(await list('custom=industry%3Asoftware&q=corp')).toEqual(['Mid Corp']);
    const first = await site.crm('GET', '/companies?sort=-name&limit=2');
    expect(names(first)).toEqual(['Zeta Shoes', 'Mid Corp']);
    const second = await site.crm('GET', `/companies?sort=-name&limit=2&cursor=${first.body.next_cursor}`);
    expect(names(second)).toEqual(['Alpha Software']);
    expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
    expect((await site.crm('GET', '/companies?custom=industry%3Amining')).body.code).toBe('invalid_custom_filter');
    expect((await site.crm('GET', '/companies?domain=nothing')).status).toBe(400);
  });
});

describe('activities', () => {
  it('logs notes, calls and meetings of a contact into its timeline, and takes them out again', async () => {
    const site = await crmSite(platform, 'Activities', agency);
    const ada = await site.create('/contacts', { first_name: 'Ada' });
    const bob = await site.create('/contacts', { first_name: 'Bob' });
    const note = await site.create('/activities', {
      kind: 'note',
      body: 'Likes the blue plan.\nCall back in May.',
      contact_id: ada.id,
    });
    expect(note).toMatchObject({
      kind: 'note',
      subject: '',
      contact_id: ada.id,
      company_id: null,
      deal_id: null,
      due_at: null,
      completed_at: null,
      duration_minutes: null,
      created_by: agency.ownerId,
    });
    const call = await site.create('/activities', {
      kind: 'call',
      subject: 'Pricing questions',
      contact_id: ada.id,
      occurred_at: '2026-01-05T10:00:00+01:00',
      duration_minutes: 20,
    });
    expect(call.occurred_at).toBe('2026-01-05T09:00:00.000Z');
    const lines = await timeline(site, ada.id);
    expect(lines.filter((line) => line.type.startsWith('activity.'))).toEqual([
      expect.objectContaining({
        type: 'activity.note',
        summary: 'Note: Likes the blue plan.',
        data: { activity_id: note.id },
      }),
      expect.objectContaining({
        type: 'activity.call',
        summary: 'Call: Pricing questions (20 min)',
        data: { activity_id: call.id },
      }),
    ]);

    // Another contact: the line moves; no contact (a company remains): the line goes.
    const company = await site.create('/companies', { name: 'Acme' });
    const moved = await site.crm('PATCH', `/activities/${call.id}`, { contact_id: bob.id, subject: 'Pricing' });
    expect(moved.status, moved.text).toBe(200);
    expect((await timeline(site, bob.id)).map((line) => line.summary)).toContain('Call: Pricing (20 min)');
    expect((await timeline(site, ada.id)).map((line) => line.type)).not.toContain('activity.call');
    const unlinked = await site.crm('PATCH', `/activities/${call.id}`, { contact_id: null, company_id: company.id });
    expect(unlinked.body).toMatchObject({ contact_id: null, company_id: company.id });
    expect((await timeline(site, bob.id)).map((line) => line.type)).not.toContain('activity.call');
    // The last link cannot go.
    const orphan = await site.crm('PATCH', `/activities/${call.id}`, { company_id: null });
    expect(orphan.status).toBe(400);
    expect(orphan.body.errors[0].path).toBe('/body/contact_id');

    expect((await site.crm('DELETE', `/activities/${note.id}`)).status).toBe(204);
    expect((await site.crm('GET', `/activities/${note.id}`)).status).toBe(404);
    expect((await timeline(site, ada.id)).map((line) => line.type)).toEqual(['contact.created']);
    const events = await crmEvents(platform, site.siteId, 'crm.activity.');
    expect(events.map((event) => event.type)).toEqual([
      'crm.activity.created',
      'crm.activity.created',
      'crm.activity.updated',
      'crm.activity.updated',
      'crm.activity.deleted',
    ]);
  });

  it('keeps tasks open until completed, lists them by due date, and reopens them', async () => {
    const site = await crmSite(platform, 'Tasks', agency);
    const ada = await site.create('/contacts', { first_name: 'Ada' });
    await salesPipeline(site);
    const deal = await site.create('/deals', { name: 'Big one', contact_id: ada.id });
    const later = await site.create('/activities', {
      kind: 'task',
      subject: 'Send the contract',
      deal_id: deal.id,
      due_at: '2027-03-10T09:00:00Z',
      assignee_id: agency.userId,
    });
    const sooner = await site.create('/activities', {
      kind: 'task',
      subject: 'Send the offer',
      contact_id: ada.id,
      deal_id: deal.id,
      due_at: '2027-03-01T09:00:00Z',
    });
    await site.create('/activities', { kind: 'meeting', subject: 'Kick-off', deal_id: deal.id, duration_minutes: 45 });
    const subjects = async (query: string) => {
      const reply = await site.crm('GET', `/activities?${query}`);
      expect(reply.status, `${query}: ${reply.text}`).toBe(200);
      return reply.body.data.map((activity: { subject: string }) => activity.subject);
    };
    expect(await subjects('open=true&sort=due_at')).toEqual(['Send the offer', 'Send the contract']);
    expect(await subjects('sort=-due_at')).toEqual(['Send the contract', 'Send the offer']);
    expect(await subjects(`assignee_id=${agency.userId}`)).toEqual(['Send the contract']);
    expect(await subjects('kind=meeting')).toEqual(['Kick-off']);
    expect(await subjects(`deal_id=${deal.id}&sort=created_at`)).toEqual([
      'Send the contract',
      'Send the offer',
      'Kick-off',
    ]);
    expect(await subjects(`contact_id=${ada.id}`)).toEqual(['Send the offer']);
    expect(await subjects('open=false')).toEqual([]);

    const done = await site.crm('PATCH', `/activities/${sooner.id}`, { completed_at: '2027-02-27T16:00:00Z' });
    expect(done.status, done.text).toBe(200);
    expect(done.body.completed_at).toBe('2027-02-27T16:00:00.000Z');
    expect(await subjects('open=true')).toEqual(['Send the contract']);
    expect(await subjects('open=false')).toEqual(['Send the offer']);
    expect((await timeline(site, ada.id)).map((line) => line.summary)).toContain('Task done: Send the offer');
    const reopened = await site.crm('PATCH', `/activities/${sooner.id}`, { completed_at: null });
    expect(reopened.body.completed_at).toBeNull();
    expect(await subjects('open=true&sort=due_at')).toEqual(['Send the offer', 'Send the contract']);
    expect((await timeline(site, ada.id)).map((line) => line.summary)).toContain('Task: Send the offer');

    // A deal's activities (and their timeline lines) go with the deal.
    expect((await site.crm('DELETE', `/deals/${deal.id}`)).status).toBe(204);
    expect((await site.crm('GET', `/activities/${later.id}`)).status).toBe(404);
    expect((await site.crm('GET', '/activities')).body.data).toEqual([]);
    expect((await timeline(site, ada.id)).map((line) => line.type)).toEqual(['contact.created']);
  });

  it('refuses activities that break the rules, naming the field', async () => {
    const site = await crmSite(platform, 'ActivityRules', agency);
    const ada = await site.create('/contacts', { first_name: 'Ada' });
    const elsewhere = await crmSite(platform, 'ActivityElsewhere', agency);
    const foreign = await elsewhere.create('/contacts', { first_name: 'Foreign' });
    for (const [body, path] of [
      [{ kind: 'note', subject: 'Floating' }, '/body/contact_id'],
      [{ kind: 'note', contact_id: ada.id }, '/body/subject'],
      [{ kind: 'note', subject: '   ', body: '', contact_id: ada.id }, '/body/subject'],
      [{ kind: 'note', subject: 'x', contact_id: ada.id, due_at: '2027-03-01T09:00:00Z' }, '/body/due_at'],
      [{ kind: 'call', subject: 'x', contact_id: ada.id, completed_at: '2027-03-01T09:00:00Z' }, '/body/completed_at'],
      [{ kind: 'task', subject: 'x', contact_id: ada.id, duration_minutes: 5 }, '/body/duration_minutes'],
      [{ kind: 'task', subject: 'x', contact_id: ada.id, due_at: '2027-02-30T09:00:00Z' }, '/body/due_at'],
      [{ kind: 'task', subject: 'x', contact_id: ada.id, due_at: 'tomorrow' }, '/body/due_at'],
      [{ kind: 'email', subject: 'x', contact_id: ada.id }, '/body/kind'],
      [{ kind: 'note', subject: 'x', contact_id: foreign.id }, '/body/contact_id'],
      [{ kind: 'note', subject: 'x', deal_id: randomUUID() }, '/body/deal_id'],
      [{ kind: 'note', subject: 'x', company_id: randomUUID() }, '/body/company_id'],
      [{ kind: 'task', subject: 'x', contact_id: ada.id, assignee_id: randomUUID() }, '/body/assignee_id'],
      [{ kind: 'call', subject: 'x', contact_id: ada.id, duration_minutes: -1 }, '/body/duration_minutes'],
      [{ kind: 'note', subject: '<script>', contact_id: ada.id }, '/body/subject'],
    ] as const) {
      const reply = await site.crm('POST', '/activities', body);
      expect(reply.status, `${JSON.stringify(body)}: ${reply.text}`).toBe(400);
      expect(
        reply.body.errors?.map((error: { path: string }) => error.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    const note = await site.create('/activities', { kind: 'note', subject: 'Fine', contact_id: ada.id });
    for (const [body, path] of [
      [{ kind: 'task' }, '/body/kind'],
      [{ due_at: '2027-03-01T09:00:00Z' }, '/body/due_at'],
      [{ subject: '' }, '/body/subject'],
    ] as const) {
      const reply = await site.crm('PATCH', `/activities/${note.id}`, body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    }
    expect((await site.crm('GET', `/activities/${note.id}`)).body.subject).toBe('Fine');
    expect((await site.crm('GET', '/activities')).body.data).toHaveLength(1);
  });
});

describe('custom fields', () => {
  it('defines typed fields per kind of record and checks records’ values against them', async () => {
    const site = await crmSite(platform, 'Fields', agency);
    const field = (body: Record<string, unknown>) => site.create('/custom-fields', { entity: 'deal', ...body });
    const source = await field({ key: 'source', label: 'Source', type: 'text' });
    await field({ key: 'seats', label: 'Seats', type: 'number' });
    await field({ key: 'renewal', label: 'Renewal', type: 'date' });
    await field({ key: 'vip', label: 'VIP', type: 'boolean' });
    const tier = await field({ key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver', 'bronze'] });
    const industry = await site.create('/custom-fields', {
      entity: 'company',
      key: 'industry',
      label: 'Industry',
      type: 'text',
      required: true,
    });
    expect(source).toMatchObject({ entity: 'deal', type: 'text', options: [], required: false, position: 0 });
    expect(tier).toMatchObject({ position: 4, options: ['gold', 'silver', 'bronze'] });
    expect(industry).toMatchObject({ position: 0, required: true });
    const listed = await site.crm('GET', '/custom-fields?entity=deal');
    expect(listed.body.data.map((one: { key: string }) => one.key)).toEqual([
      'source',
      'seats',
      'renewal',
      'vip',
      'tier',
    ]);
    expect(
      (await site.crm('GET', '/custom-fields?sort=key&limit=2')).body.data.map((one: { key: string }) => one.key),
    ).toEqual(['industry', 'renewal']);
    expect((await site.crm('GET', `/custom-fields/${tier.id}`)).body).toEqual(tier);

    for (const [body, status, path] of [
      [{ key: 'kind', label: 'Kind', type: 'select' }, 400, '/body/options'],
      [{ key: 'kind', label: 'Kind', type: 'select', options: [] }, 400, '/body/options'],
      [{ key: 'kind', label: 'Kind', type: 'text', options: ['a'] }, 400, '/body/options'],
      [{ key: 'Kind', label: 'Kind', type: 'text' }, 400, '/body/key'],
      [{ key: 'kind', label: 'Kind', type: 'colour' }, 400, '/body/type'],
      [{ key: 'source', label: 'Again', type: 'text' }, 409, '/body/key'],
    ] as const) {
      const reply = await site.crm('POST', '/custom-fields', { entity: 'deal', ...body });
      expect(reply.status, JSON.stringify(body)).toBe(status);
      expect(reply.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    }
    expect(
      (await site.crm('POST', '/custom-fields', { entity: 'contact', key: 'source', label: 'Source', type: 'text' }))
        .status,
    ).toBe(201);

    await site.create('/pipelines', { name: 'Sales', stages: [{ name: 'Lead' }] });
    const good = {
      source: 'fair',
      seats: 12.5,
      renewal: '2028-02-29',
      vip: false,
      tier: 'gold',
    };
    const deal = await site.create('/deals', { name: 'Typed', custom: good });
    expect(deal.custom).toEqual(good);
    for (const [custom, path, message] of [
      [{ source: 3 }, '/body/custom/source', 'must be text'],
      [{ seats: 'ten' }, '/body/custom/seats', 'must be a number'],
      [{ renewal: '2027-02-29' }, '/body/custom/renewal', 'must be a date (YYYY-MM-DD)'],
      [{ vip: 'yes' }, '/body/custom/vip', 'must be true or false'],
      [{ tier: 'platinum' }, '/body/custom/tier', 'must be one of "gold", "silver", "bronze"'],
      [{ industry: 'retail' }, '/body/custom/industry', "is not a custom field of this site's deals"],
    ] as const) {
      const reply = await site.crm('POST', '/deals', { name: 'Bad', custom });
      expect(reply.status, JSON.stringify(custom)).toBe(400);
      expect(reply.body.errors).toEqual([{ path, message }]);
      const patch = await site.crm('PATCH', `/deals/${deal.id}`, { custom });
      expect(patch.status, JSON.stringify(custom)).toBe(400);
    }
    expect((await site.crm('GET', `/deals/${deal.id}`)).body.custom).toEqual(good);

    // A required field: needed on create and whenever `custom` is written, not for other changes.
    const missing = await site.crm('POST', '/companies', { name: 'Acme' });
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ path: '/body/custom/industry', message: 'is required' }]);
    const nulled = await site.crm('POST', '/companies', { name: 'Acme', custom: { industry: null } });
    expect(nulled.status).toBe(400);
    const acme = await site.create('/companies', { name: 'Acme', custom: { industry: 'retail' } });
    expect((await site.crm('PATCH', `/companies/${acme.id}`, { custom: {} })).status).toBe(400);
    expect((await site.crm('PATCH', `/companies/${acme.id}`, { name: 'Acme Ltd' })).status).toBe(200);
  });

  it('filters records by custom values, compared as the field’s type', async () => {
    const site = await crmSite(platform, 'FieldFilters', agency);
    for (const body of [
      { key: 'seats', label: 'Seats', type: 'number' },
      { key: 'vip', label: 'VIP', type: 'boolean' },
      { key: 'tier', label: 'Tier', type: 'select', options: ['gold', 'silver'] },
      { key: 'renewal', label: 'Renewal', type: 'date' },
    ]) {
      await site.create('/custom-fields', { entity: 'deal', ...body });
    }
    await site.create('/pipelines', { name: 'Sales', stages: [{ name: 'Lead' }] });
    await site.create('/deals', { name: 'Ten gold', custom: { seats: 10, tier: 'gold', vip: true } });
    await site.create('/deals', { name: 'Ten silver', custom: { seats: 10, tier: 'silver', renewal: '2027-06-01' } });
    await site.create('/deals', { name: 'Text ten', custom: { tier: 'gold', vip: false } });
    const list = async (query: string) => {
      const reply = await site.crm('GET', `/deals?sort=name&${query}`);
      expect(reply.status, `${query}: ${reply.text}`).toBe(200);
      return names(reply);
    };
    expect(await list('custom=seats%3A10')).toEqual(['Ten gold', 'Ten silver']);
    expect(await list('custom=seats%3A10&custom=tier%3Agold')).toEqual(['Ten gold']);
    expect(await list('custom=vip%3Atrue')).toEqual(['Ten gold']);
    expect(await list('custom=vip%3Afalse')).toEqual(['Text ten']);
    expect(await list('custom=renewal%3A2027-06-01')).toEqual(['Ten silver']);
    for (const [query, code] of [
      ['custom=colour%3Ared', 'unknown_custom_field'],
      ['custom=seats%3Aten', 'invalid_custom_filter'],
      ['custom=vip%3Ayes', 'invalid_custom_filter'],
      ['custom=tier%3Abronze', 'invalid_custom_filter'],
    ] as const) {
      const reply = await site.crm('GET', `/deals?${query}`);
      expect([reply.status, reply.body.code], query).toEqual([400, code]);
      expect(reply.body.errors[0].path).toBe('/query/custom/0');
    }
  });

  it('changes labels, order and options, refusing to drop an option records hold; deleting removes the values', async () => {
    const site = await crmSite(platform, 'FieldChanges', agency);
    const tier = await site.create('/custom-fields', {
      entity: 'contact',
      key: 'tier',
      label: 'Tier',
      type: 'select',
      options: ['gold', 'silver', 'bronze'],
    });
    const notes = await site.create('/custom-fields', {
      entity: 'contact',
      key: 'notes',
      label: 'Notes',
      type: 'text',
    });
    const gold = await site.create('/contacts', { first_name: 'Gold', custom: { tier: 'gold', notes: 'keep' } });
    const plain = await site.create('/contacts', { first_name: 'Plain', custom: { notes: 'plain' } });

    const relabelled = await site.crm('PATCH', `/custom-fields/${tier.id}`, {
      label: 'Level',
      position: 5,
      required: true,
    });
    expect(relabelled.status, relabelled.text).toBe(200);
    expect(relabelled.body).toMatchObject({ label: 'Level', position: 5, required: true, key: 'tier', type: 'select' });
    const inUse = await site.crm('PATCH', `/custom-fields/${tier.id}`, { options: ['silver', 'bronze'] });
    expect(inUse.status).toBe(409);
    expect(inUse.body).toMatchObject({ code: 'option_in_use', errors: [{ path: '/body/options' }] });
    expect(inUse.body.detail).toContain('"gold"');
    const dropped = await site.crm('PATCH', `/custom-fields/${tier.id}`, { options: ['gold', 'platinum'] });
    expect(dropped.status, dropped.text).toBe(200);
    expect(dropped.body.options).toEqual(['gold', 'platinum']);
    for (const body of [{ key: 'level' }, { type: 'text' }, { entity: 'deal' }, { options: [] }]) {
      const refused = await site.crm('PATCH', `/custom-fields/${tier.id}`, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
    expect((await site.crm('PATCH', `/custom-fields/${notes.id}`, { options: ['a'] })).status).toBe(400);

    expect((await site.crm('DELETE', `/custom-fields/${notes.id}`)).status).toBe(204);
    expect((await site.crm('GET', `/custom-fields/${notes.id}`)).status).toBe(404);
    expect((await site.crm('GET', `/contacts/${gold.id}`)).body.custom).toEqual({ tier: 'gold' });
    expect((await site.crm('GET', `/contacts/${plain.id}`)).body.custom).toEqual({});
    const filtered = await site.crm('GET', '/contacts?custom=notes%3Akeep');
    expect(filtered.body.code).toBe('unknown_custom_field');
    // The key is free again, for a field of another type.
    const again = await site.create('/custom-fields', {
      entity: 'contact',
      key: 'notes',
      label: 'Notes',
      type: 'number',
    });
    expect(again.type).toBe('number');
    expect((await site.crm('GET', `/contacts/${gold.id}`)).body.custom).toEqual({ tier: 'gold' });
    expect((await site.crm('DELETE', `/custom-fields/${notes.id}`)).status).toBe(404);
  });
});
