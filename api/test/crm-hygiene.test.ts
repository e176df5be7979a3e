import { request as httpRequest } from 'node:http';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmSite, publishCrm, type CrmSite } from './support/crm.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { startTestPlatform, type Reply, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
/** The agency whose sites the tests use, each test a site of its own (sign-ups are rate-limited). */
let agency: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  await publishCrm(platform);
  agency = await populateAgency(platform, 'Hygiene');
});
afterAll(() => platform?.close());

const db = () => platform.db.knex;
/** A row of a table, or a JSON object, as tests look into them. */
type Row = Record<string, Reply['body']>;

/** Sends a CSV file to the site's import. */
const upload = (site: CrmSite, csv: string, token = site.token): Promise<Reply> =>
  platform.request('POST', `${site.base}/imports`, { token, raw: csv, headers: { 'content-type': 'text/csv' } });

async function imported(site: CrmSite, csv: string) {
  const reply = await upload(site, csv);
  expect(reply.status, reply.text).toBe(201);
  return reply.body;
}

/** The site's contacts by their primary address. */
async function contactsOf(site: CrmSite): Promise<Map<string, Row>> {
  const rows = await db()('mod_crm.contacts as c')
    .leftJoin('mod_crm.companies as co', 'co.id', 'c.company_id')
    .where('c.site_id', site.siteId)
    .select('c.*', 'co.name as company');
  return new Map(rows.map((row: Row) => [row.emails[0], row]));
}

/** A pipeline with one stage, and a deal in it (deals' endpoints are another part of the CRM). */
async function insertDeal(site: CrmSite, fields: { name: string; contact_id?: string | null }) {
  const base = { agency_id: site.agencyId, site_id: site.siteId };
  const pipeline = (await db()('mod_crm.pipelines').where(base).first('id')) ?? { id: uuidv7() };
  let stage = await db()('mod_crm.stages')
    .where({ ...base, pipeline_id: pipeline.id })
    .first('id');
  if (!stage) {
    await db()('mod_crm.pipelines').insert({ ...base, id: pipeline.id, name: 'Sales' });
    stage = { id: uuidv7() };
    await db()('mod_crm.stages').insert({ ...base, id: stage.id, pipeline_id: pipeline.id, name: 'New', position: 0 });
  }
  const id = uuidv7();
  await db()('mod_crm.deals').insert({
    ...base,
    id,
    currency: 'EUR',
    amount_minor: 120_000,
    pipeline_id: pipeline.id,
    stage_id: stage.id,
    ...fields,
  });
  return id;
}

async function insertActivity(
  site: CrmSite,
  fields: { subject: string; body?: string; contact_id?: string; deal_id?: string; kind?: string },
) {
  const id = uuidv7();
  await db()('mod_crm.activities').insert({
    agency_id: site.agencyId,
    site_id: site.siteId,
    id,
    kind: 'note',
    ...fields,
  });
  return id;
}

async function insertSubmission(site: CrmSite, contactId: string, fields: Record<string, unknown>) {
  const id = uuidv7();
  await db()('mod_crm.form_submissions').insert({
    agency_id: site.agencyId,
    site_id: site.siteId,
    id,
    contact_id: contactId,
    fields: JSON.stringify(fields),
    page_url: 'https://hygiene.example/contact',
  });
  return id;
}

async function insertField(site: CrmSite, key: string, type: string, extra: Record<string, unknown> = {}) {
  await db()('mod_crm.custom_fields').insert({
    agency_id: site.agencyId,
    site_id: site.siteId,
    id: uuidv7(),
    entity: 'contact',
    key,
    label: key,
    type,
    ...extra,
  });
}

const eventsOf = async (site: CrmSite, type: string) =>
  (await db()('outbox').where({ site_id: site.siteId, type }).orderBy('id').pluck('payload')) as Row[];

describe('merging contacts', () => {
  it('moves activities, deals, timeline, submissions and earlier merges to the contact kept, and records the merge', async () => {
    const site = await crmSite(platform, 'Merge', agency);
    const kept = await site.create('/contacts', {
      first_name: 'Ada',
      emails: ['ada@example.com'],
      phones: ['+44 20 7946 0000'],
      tags: ['vip'],
      lifecycle_stage: 'lead',
    });
    const other = await site.create('/contacts', {
      first_name: 'Augusta',
      last_name: 'Lovelace',
      emails: ['augusta@example.org', 'countess@example.org'],
      phones: ['+44 20 7946 0001'],
      tags: ['vip', 'math'],
      lifecycle_stage: 'customer',
    });
    const older = await site.create('/contacts', { first_name: 'A.', emails: ['a.king@example.net'] });
    await db()('mod_crm.contacts')
      .where({ id: kept.id })
      .update({
        custom: JSON.stringify({ industry: 'science' }),
        consent: JSON.stringify({ granted: true, text: 'Old terms', recorded_at: '2026-01-01T00:00:00.000Z' }),
      });
    await db()('mod_crm.contacts')
      .where({ id: other.id })
      .update({
        custom: JSON.stringify({ industry: 'poetry', employees: 3 }),
        consent: JSON.stringify({ granted: false, text: 'New terms', recorded_at: '2026-06-01T00:00:00.000Z' }),
      });
    const activity = await insertActivity(site, { subject: 'Call about the engine', contact_id: other.id });
    const deal = await insertDeal(site, { name: 'Analytical engine', contact_id: other.id });
    const submission = await insertSubmission(site, other.id, { message: 'Hello' });
    // `older` was merged into `other` before: that record follows too.
    const first = await site.crm('POST', `/contacts/${other.id}/merge`, { from_contact_id: older.id });
    expect(first.status, first.text).toBe(200);

    const reply = await site.crm('POST', `/contacts/${kept.id}/merge`, { from_contact_id: other.id });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({
      id: kept.id,
      first_name: 'Ada',
      last_name: 'Lovelace',
      emails: ['ada@example.com', 'augusta@example.org', 'countess@example.org', 'a.king@example.net'],
      phones: ['+44 20 7946 0000', '+44 20 7946 0001'],
      tags: ['vip', 'math'],
      lifecycle_stage: 'customer',
      custom: { industry: 'science', employees: 3 },
      consent: { granted: false, text: 'New terms' },
    });
    expect((await site.crm('GET', `/contacts/${other.id}`)).status).toBe(404);
    expect((await site.crm('GET', `/contacts/${older.id}`)).status).toBe(404);
    // Everything of the other contact is the kept one's now.
    expect(await db()('mod_crm.activities').where({ id: activity }).first('contact_id')).toEqual({
      contact_id: kept.id,
    });
    expect(await db()('mod_crm.deals').where({ id: deal }).first('contact_id')).toEqual({ contact_id: kept.id });
    expect(await db()('mod_crm.form_submissions').where({ id: submission }).first('contact_id')).toEqual({
      contact_id: kept.id,
    });
    const addresses = await db()('mod_crm.contact_emails').where({ site_id: site.siteId }).orderBy('email');
    expect(addresses.map((row: { email: string; contact_id: string }) => [row.email, row.contact_id])).toEqual([
      ['a.king@example.net', kept.id],
      ['ada@example.com', kept.id],
      ['augusta@example.org', kept.id],
      ['countess@example.org', kept.id],
    ]);
    const timeline = await site.crm('GET', `/contacts/${kept.id}/timeline?limit=50`);
    const types = timeline.body.data.map((entry: { type: string }) => entry.type);
    expect(types.filter((type: string) => type === 'contact.created')).toHaveLength(3);
    expect(types.filter((type: string) => type === 'contact.merged')).toHaveLength(2);
    expect(timeline.body.data[0]).toMatchObject({
      type: 'contact.merged',
      summary: 'Merged with Augusta Lovelace',
      data: { merged_contact_id: other.id },
    });
    const merges = await db()('mod_crm.merges').where({ site_id: site.siteId }).orderBy('created_at');
    expect(merges.map((merge: Record<string, string>) => [merge.kept_contact_id, merge.merged_contact_id])).toEqual([
      [kept.id, older.id],
      [kept.id, other.id],
    ]);
    expect(merges[1].merged_contact).toMatchObject({
      id: other.id,
      first_name: 'Augusta',
      emails: [...other.emails, 'a.king@example.net'],
    });
    expect(merges[1].merged_by).toBe(site.ownerId);
    const [merged] = (await eventsOf(site, 'crm.contact.merged')).slice(-1);
    expect(merged).toMatchObject({ id: kept.id, merged_contact_id: other.id, last_name: 'Lovelace' });
    expect(await eventsOf(site, 'crm.contact.deleted')).toEqual([]);
    // The addresses are the kept contact's: deduplication names it.
    const duplicate = await site.crm('POST', '/contacts', { emails: ['Countess@example.org'] });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.detail).toContain(kept.id);
    // The snapshots go with the contact they were merged into.
    expect((await site.crm('DELETE', `/contacts/${kept.id}`)).status).toBe(204);
    expect(await db()('mod_crm.merges').where({ site_id: site.siteId })).toEqual([]);
  });

  it('refuses a contact merged with itself, with another site’s contact, or without crm:admin', async () => {
    const site = await crmSite(platform, 'MergeRefusals', agency);
    const elsewhere = await crmSite(platform, 'MergeElsewhere', agency);
    const contact = await site.create('/contacts', { emails: ['one@example.com'] });
    const stranger = await elsewhere.create('/contacts', { emails: ['two@example.com'] });
    const itself = await site.crm('POST', `/contacts/${contact.id}/merge`, { from_contact_id: contact.id });
    expect(itself.status).toBe(400);
    expect(itself.body.errors).toEqual([{ path: '/body/from_contact_id', message: expect.stringContaining('itself') }]);
    const across = await site.crm('POST', `/contacts/${contact.id}/merge`, { from_contact_id: stranger.id });
    expect(across.status).toBe(400);
    expect(across.body.errors[0].path).toBe('/body/from_contact_id');
    const reversed = await site.crm('POST', `/contacts/${stranger.id}/merge`, { from_contact_id: contact.id });
    expect(reversed.status).toBe(404);
    const key = await site.call('POST', '/v1/keys', {
      type: 'secret',
      name: 'sales',
      scopes: ['crm:read', 'crm:write'],
    });
    const writer = await platform.request('POST', `${site.base}/contacts/${contact.id}/merge`, {
      token: key.body.secret,
      body: { from_contact_id: stranger.id },
    });
    expect(writer.status).toBe(403);
    const csv = await upload(site, 'emails\nx@example.com\n', key.body.secret);
    expect(csv.status).toBe(403);
    // Nothing moved.
    expect((await site.crm('GET', `/contacts/${contact.id}`)).body.emails).toEqual(['one@example.com']);
    expect((await elsewhere.crm('GET', `/contacts/${stranger.id}`)).status).toBe(200);
  });
});

describe('importing contacts from CSV', () => {
  const file = [
    'First_Name,last_name,email,phones,tags,lifecycle_stage,company,custom.vip,custom.size',
    'Ada,Lovelace,ADA@example.com,+44 20 7946 0000,vip;math,customer,Analytical Ltd,true,12',
    'Bad,Address,not-an-address,,,,,,',
    'Too,Few,cells@example.com',
    'Wrong,Custom,wrong@example.com,,,,,maybe,',
    '"Grace ""Amazing""","Hopper, Rear Admiral","grace@example.com;amazing@example.com",,"navy;cobol",lead,,,',
    '',
    'Multi,"line',
    'name",multi@example.com,,,,,,',
    ',,,,,,,,',
    'Alan,Turing,alan@example.com,,"ai\\;ml;crypto",,analytical ltd,false,',
    'Augusta,,Countess@Example.com,,poetry,,,,',
    'No,Address,,,,,,,',
    'Stage,Wrong,stage@example.com,,,king,,,',
    'Bad,Phone,phone@example.com,call me,,,,,',
    'Alan,Twin,alan@example.com;grace@example.com,,,,,,',
  ].join('\n');

  it('imports the good rows, reports the broken ones with their row numbers, and creates nothing when run again', async () => {
    const site = await crmSite(platform, 'Import', agency);
    await insertField(site, 'vip', 'boolean');
    await insertField(site, 'size', 'number');
    const existing = await site.create('/contacts', { first_name: 'Ada', emails: ['countess@example.com'] });

    const result = await imported(site, file);
    expect(result).toMatchObject({
      status: 'done',
      rows_processed: 12,
      rows_created: 3,
      rows_updated: 1,
      rows_unchanged: 0,
      rows_failed: 8,
      failure: null,
      file_bytes: Buffer.byteLength(file),
      bytes_read: Buffer.byteLength(file),
    });
    expect(result.finished_at).not.toBeNull();
    expect(result.errors.map((error: { row: number; column: string | null }) => [error.row, error.column])).toEqual([
      [3, 'emails'],
      [4, null],
      [5, 'custom.vip'],
      // A row over two lines (a line break in a quoted cell) starts at row 8; no name may hold a line break.
      [8, 'last_name'],
      [13, 'emails'],
      [14, 'lifecycle_stage'],
      [15, 'phones'],
      [16, 'emails'],
    ]);
    expect(result.errors[1].message).toBe('has 3 cells where the header has 9');
    expect(result.errors[2].message).toBe('custom.vip must be true or false');
    expect(result.errors[7].message).toMatch(/^emails belong to different contacts \(.+\): merge them first$/);
    // No value of the file is repeated in the report (it may be personal).
    expect(JSON.stringify(result.errors)).not.toMatch(/not-an-address|maybe|king|call me/);

    const contacts = await contactsOf(site);
    expect([...contacts.keys()].sort()).toEqual([
      'ada@example.com',
      'alan@example.com',
      'countess@example.com',
      'grace@example.com',
    ]);
    expect(contacts.get('ada@example.com')).toMatchObject({
      first_name: 'Ada',
      last_name: 'Lovelace',
      phones: ['+44 20 7946 0000'],
      tags: ['vip', 'math'],
      lifecycle_stage: 'customer',
      company: 'Analytical Ltd',
      custom: { vip: true, size: 12 },
      source: 'import',
    });
    expect(contacts.get('grace@example.com')).toMatchObject({
      first_name: 'Grace "Amazing"',
      last_name: 'Hopper, Rear Admiral',
      emails: ['grace@example.com', 'amazing@example.com'],
      tags: ['navy', 'cobol'],
      lifecycle_stage: 'lead',
    });
    // One company for both spellings of its name.
    expect(contacts.get('alan@example.com')).toMatchObject({
      tags: ['ai;ml', 'crypto'],
      company: 'Analytical Ltd',
      custom: { vip: false },
    });
    expect(await db()('mod_crm.companies').where({ site_id: site.siteId }).count('* as n')).toEqual([{ n: 1 }]);
    // The contact that existed was updated, not duplicated: the row's address and tags were added.
    expect(contacts.get('countess@example.com')).toMatchObject({
      id: existing.id,
      first_name: 'Augusta',
      emails: ['countess@example.com'],
      tags: ['poetry'],
      source: 'api',
    });
    // Searchable like any contact.
    const found = await site.crm('GET', '/contacts?q=hopper');
    expect(found.body.data.map((contact: { emails: string[] }) => contact.emails[0])).toEqual(['grace@example.com']);
    // Timelines say so; one event for the import, none per contact.
    const timeline = await site.crm('GET', `/contacts/${existing.id}/timeline`);
    expect(timeline.body.data[0]).toMatchObject({ type: 'contact.updated', data: { import_id: result.id } });
    expect(await eventsOf(site, 'crm.contact.created')).toHaveLength(1);
    expect(await eventsOf(site, 'crm.import.finished')).toEqual([
      {
        id: result.id,
        status: 'done',
        rows_processed: 12,
        rows_created: 3,
        rows_updated: 1,
        rows_unchanged: 0,
        rows_failed: 8,
      },
    ]);

    const again = await imported(site, file);
    expect(again).toMatchObject({ rows_created: 0, rows_updated: 0, rows_unchanged: 4, rows_failed: 8 });
    expect((await contactsOf(site)).size).toBe(4);
    const list = await site.crm('GET', '/imports');
    expect(list.body.data.map((item: { id: string }) => item.id)).toEqual([again.id, result.id]);
    expect((await site.crm('GET', `/imports/${result.id}`)).body).toEqual(result);
  });

  it('refuses a header it does not know before importing anything', async () => {
    const site = await crmSite(platform, 'ImportHeader', agency);
    await insertField(site, 'vip', 'boolean');
    const unknown = await upload(site, 'email,nickname,custom.vip,custom.shoe_size,email\nx@example.com,x,true,4,\n');
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe('invalid_csv_header');
    expect(unknown.body.errors.map((error: { path: string }) => error.path)).toEqual([
      '/body/header/1',
      '/body/header/3',
      '/body/header/4',
    ]);
    const noAddress = await upload(site, 'first_name\nAda\n');
    expect(noAddress.status).toBe(400);
    expect(noAddress.body.errors).toEqual([{ path: '/body/header', message: expect.stringContaining('emails') }]);
    const empty = await upload(site, '');
    expect(empty.status).toBe(400);
    expect(empty.body.code).toBe('empty_csv');
    const json = await platform.request('POST', `${site.base}/imports`, { token: site.token, body: { emails: [] } });
    expect(json.status).toBe(415);
    expect(await db()('mod_crm.imports').where({ site_id: site.siteId })).toEqual([]);
    expect(await db()('mod_crm.contacts').where({ site_id: site.siteId })).toEqual([]);
    // A header only: an import of nothing.
    expect(await imported(site, '\uFEFFemails,first_name\r\n')).toMatchObject({ status: 'done', rows_processed: 0 });
  });

  it('stops at a row it cannot read, keeping the rows before it', async () => {
    const site = await crmSite(platform, 'ImportBroken', agency);
    const rows = Array.from({ length: 1500 }, (_, index) => `person${index}@example.com,Person ${index}`);
    rows.splice(1200, 0, 'broken@example.com,"never closed');
    const result = await imported(site, ['emails,first_name', ...rows].join('\r\n'));
    expect(result).toMatchObject({
      status: 'failed',
      rows_processed: 1200,
      rows_created: 1200,
      failure: 'Row 1202 cannot be read: a quote opens a cell and is never closed.',
    });
    expect(await db()('mod_crm.contacts').where({ site_id: site.siteId }).count('* as n')).toEqual([{ n: 1200 }]);
    expect((await eventsOf(site, 'crm.import.finished'))[0]).toMatchObject({ status: 'failed', rows_created: 1200 });
  });

  it('keeps the rows of an upload that broke off, and says so', async () => {
    const site = await crmSite(platform, 'ImportAborted', agency);
    const request = httpRequest(new URL(`${site.base}/imports`, platform.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${site.token}`, 'content-type': 'text/csv' },
    });
    request.on('error', () => {}); // it is cut off on purpose
    request.write('emails\n');
    for (let index = 0; index < 1500; index += 1) request.write(`cut${index}@example.com\n`);
    // The first batch is in (and shows) before the file has ended.
    let running: Row | undefined;
    for (let attempt = 0; attempt < 200 && !(running?.rows_processed > 0); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      running = (await site.crm('GET', '/imports')).body.data[0];
    }
    expect(running).toMatchObject({ status: 'running', rows_processed: 1000, finished_at: null });
    request.destroy();
    let ended: Row | undefined;
    for (let attempt = 0; attempt < 200 && ended?.status !== 'failed'; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      ended = (await site.crm('GET', `/imports/${running!.id}`)).body;
    }
    // What was read before the cut is in (the parser may still hold the last line it got), and said to be.
    expect(ended).toMatchObject({ status: 'failed' });
    const rows = ended!.rows_processed;
    expect(rows).toBeGreaterThanOrEqual(1000);
    expect(ended!.rows_created).toBe(rows);
    expect(ended!.failure).toBe(`The upload broke off: the file was read up to row ${rows + 1}.`);
    expect(await db()('mod_crm.contacts').where({ site_id: site.siteId }).count('* as n')).toEqual([{ n: rows }]);
  });

  it('answers 413 to a file larger than 100 MB before reading it', async () => {
    const site = await crmSite(platform, 'ImportLarge', agency);
    const url = new URL(`${site.base}/imports`, platform.url);
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${site.token}`,
          'content-type': 'text/csv',
          'content-length': String(101 * 1024 * 1024),
        },
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode!);
        request.destroy();
      });
      request.on('error', reject);
      request.write('emails\n');
    });
    expect(status).toBe(413);
    expect(await db()('mod_crm.imports').where({ site_id: site.siteId })).toEqual([]);
  });
});

describe('exporting contacts to CSV', () => {
  it('exports every contact in the import’s format: imported into another site they are the same contacts', async () => {
    const site = await crmSite(platform, 'Export', agency);
    const target = await crmSite(platform, 'ExportTarget', agency);
    for (const each of [site, target]) {
      await insertField(each, 'vip', 'boolean', { position: 2 });
      await insertField(each, 'since', 'date', { position: 1 });
      await insertField(each, 'plan', 'select', { position: 3, options: ['free', 'pro'] });
      await insertField(each, 'note', 'text', { position: 4 });
    }
    await imported(
      site,
      [
        'emails,first_name,last_name,phones,company,tags,lifecycle_stage,custom.vip,custom.since,custom.plan,custom.note',
        'a@example.com;a2@example.com,"Anna, Maria",O\'Neil,+49 30 1234;030 5678,"Acme, Inc.","a\\;b;c\\\\d",customer,true,2024-02-29,pro,"He said ""hi""\nTwice"',
        '=evil@example.com,=HYPERLINK("x"),-minus,,@corp,+plus,lead,,,,=1+1',
      ].join('\n'),
    );
    await site.create('/contacts', { first_name: 'Zoë', emails: ['zoe@example.com'], tags: ['ünïcode'] });
    const many = Array.from({ length: 2100 }, (_, index) => `bulk${index}@example.com,Bulk`);
    await imported(site, ['emails,first_name', ...many].join('\n'));

    const exported = await platform.request('GET', `${site.base}/contacts/export`, { token: site.token });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(exported.headers.get('content-disposition')).toBe('attachment; filename="contacts.csv"');
    const lines = exported.text.split('\n');
    expect(lines[0]).toBe(
      'first_name,last_name,emails,phones,company,tags,lifecycle_stage,custom.since,custom.vip,custom.plan,custom.note',
    );
    // What a spreadsheet would run as a formula is written as text.
    expect(exported.text).toContain(`"'=HYPERLINK(""x"")",'-minus,'=evil@example.com,,'@corp,'+plus,lead,,,,'=1+1\n`);

    const result = await imported(target, exported.text);
    expect(result).toMatchObject({ status: 'done', rows_created: 2103, rows_failed: 0 });
    const strip = (contact: Row) => ({
      first_name: contact.first_name,
      last_name: contact.last_name,
      emails: contact.emails,
      phones: contact.phones,
      tags: contact.tags,
      lifecycle_stage: contact.lifecycle_stage,
      custom: contact.custom,
      company: contact.company,
    });
    const before = await contactsOf(site);
    const after = await contactsOf(target);
    expect(after.size).toBe(2103);
    for (const [email, contact] of before) expect(strip(after.get(email)!), email).toEqual(strip(contact));
    expect(strip(after.get('a@example.com')!)).toEqual({
      first_name: 'Anna, Maria',
      last_name: "O'Neil",
      emails: ['a@example.com', 'a2@example.com'],
      phones: ['+49 30 1234', '030 5678'],
      tags: ['a;b', 'c\\d'],
      lifecycle_stage: 'customer',
      custom: { vip: true, since: '2024-02-29', plan: 'pro', note: 'He said "hi"\nTwice' },
      company: 'Acme, Inc.',
    });
    expect(strip(after.get('=evil@example.com')!)).toMatchObject({
      first_name: '=HYPERLINK("x")',
      last_name: '-minus',
      tags: ['+plus'],
      company: '@corp',
      custom: { note: '=1+1' },
    });
    // Exported and imported back where it came from, nothing changes.
    expect(await imported(site, exported.text)).toMatchObject({ rows_unchanged: 2103, rows_created: 0 });
  });
});

describe('the GDPR', () => {
  it('exports everything the CRM holds about a contact', async () => {
    const site = await crmSite(platform, 'Access', agency);
    const contact = await site.create('/contacts', { first_name: 'Paula', emails: ['paula@example.com'] });
    const twin = await site.create('/contacts', { first_name: 'P.', emails: ['p@example.com'] });
    await site.crm('POST', `/contacts/${contact.id}/merge`, { from_contact_id: twin.id });
    const deal = await insertDeal(site, { name: 'Paula’s renewal', contact_id: contact.id });
    await insertDeal(site, { name: 'Somebody else’s' });
    const activity = await insertActivity(site, {
      subject: 'Called Paula',
      body: 'About the renewal',
      contact_id: contact.id,
      deal_id: deal,
    });
    const submission = await insertSubmission(site, contact.id, { message: 'Call me back' });

    const reply = await site.crm('GET', `/contacts/${contact.id}/data`);
    expect(reply.status, reply.text).toBe(200);
    expect(reply.headers.get('content-disposition')).toContain(`contact-${contact.id}.json`);
    expect(reply.body).toMatchObject({
      contact: { id: contact.id, first_name: 'Paula', emails: ['paula@example.com', 'p@example.com'] },
      company: null,
      activities: [{ id: activity, subject: 'Called Paula', body: 'About the renewal', deal_id: deal }],
      deals: [{ id: deal, name: 'Paula’s renewal', amount_minor: 120_000, currency: 'EUR' }],
      form_submissions: [{ id: submission, fields: { message: 'Call me back' } }],
      merges: [{ merged_contact_id: twin.id, merged_contact: { first_name: 'P.', emails: ['p@example.com'] } }],
    });
    expect(reply.body.timeline.map((entry: { type: string }) => entry.type)).toEqual([
      'contact.created',
      'contact.created',
      'contact.merged',
    ]);
    expect((await site.crm('GET', `/contacts/${uuidv7()}/data`)).status).toBe(404);
  });

  it('refuses a merge that would give one contact more addresses than a contact holds', async () => {
    const site = await crmSite(platform, 'MergeCap', agency);
    const many = (prefix: string) => Array.from({ length: 6 }, (_, i) => `${prefix}${i}@example.com`);
    const kept = await site.create('/contacts', { emails: many('kept') });
    const other = await site.create('/contacts', { emails: many('other') });
    const reply = await site.crm('POST', `/contacts/${kept.id}/merge`, { from_contact_id: other.id });
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('too_many_values');
    expect((await site.crm('GET', `/contacts/${other.id}`)).status).toBe(200);
    expect((await site.crm('GET', `/contacts/${kept.id}`)).body.emails).toEqual(many('kept'));
  });

  it('erases a contact and its personal data, leaving a record without any', async () => {
    const site = await crmSite(platform, 'Erase', agency);
    const name = 'Zebulon';
    const email = 'zebulon.quux@example.com';
    const phone = '+33 1 99 88 77 66';
    const person = await site.create('/contacts', {
      first_name: name,
      last_name: 'Quux',
      emails: [email, 'zq@example.org'],
      phones: [phone],
      tags: ['vip'],
    });
    const twin = await site.create('/contacts', { first_name: name, emails: ['zebulon@old.example'] });
    await site.crm('POST', `/contacts/${person.id}/merge`, { from_contact_id: twin.id });
    const bystander = await site.create('/contacts', { first_name: 'Yolanda', emails: ['yolanda@example.com'] });
    const deal = await insertDeal(site, { name: 'Big contract', contact_id: person.id });
    const own = await insertActivity(site, { subject: `Lunch with ${name}`, body: phone, contact_id: person.id });
    const shared = await insertActivity(site, {
      kind: 'call',
      subject: `Called ${name}`,
      body: `${name} wants a discount`,
      contact_id: person.id,
      deal_id: deal,
    });
    const mention = await insertActivity(site, {
      subject: 'Pricing',
      body: `Send the offer to ${email.toUpperCase()} and to yolanda@example.com`,
      deal_id: deal,
    });
    const theirs = await insertActivity(site, { subject: 'Yolanda’s note', contact_id: bystander.id });
    // A note of someone else's that names the person, made through the API: its timeline line quotes it.
    await site.create('/activities', { kind: 'note', subject: `Forward to ${email}`, contact_id: bystander.id });
    await insertSubmission(site, person.id, { message: `I am ${name}`, email });
    await db()('mod_crm.contacts')
      .where({ id: person.id })
      .update({ consent: JSON.stringify({ granted: true, text: 'Yes', recorded_at: new Date().toISOString() }) });

    const reply = await site.crm('POST', `/contacts/${person.id}/erase`);
    expect(reply.status, reply.text).toBe(204);
    expect((await site.crm('GET', `/contacts/${person.id}`)).status).toBe(404);
    expect((await site.crm('POST', `/contacts/${person.id}/erase`)).status).toBe(404);

    // Nothing of the person is left in any of the CRM's tables, whatever the column.
    const tables = (await db()('pg_tables').where({ schemaname: 'mod_crm' }).pluck('tablename')) as string[];
    expect(tables).toContain('erasures');
    for (const table of tables) {
      for (const trace of [name, email, 'zq@example.org', 'zebulon@old.example', phone, 'Quux']) {
        const rows = await db().raw(`SELECT * FROM mod_crm.${table} t WHERE t::text ILIKE ?`, [`%${trace}%`]);
        expect(rows.rows, `${trace} in mod_crm.${table}`).toEqual([]);
      }
      const ids = await db().raw(`SELECT * FROM mod_crm.${table} t WHERE t::text LIKE ?`, [`%${person.id}%`]);
      expect(ids.rows.length, `the contact's id in mod_crm.${table}`).toBe(table === 'erasures' ? 1 : 0);
    }
    // What is not the person's stays: the deal, the activities of the deal (without the person), the bystander.
    expect(await db()('mod_crm.deals').where({ id: deal }).first('name', 'contact_id')).toEqual({
      name: 'Big contract',
      contact_id: null,
    });
    expect(await db()('mod_crm.activities').where({ id: own }).first()).toBeUndefined();
    expect(
      await db()('mod_crm.activities').where({ id: shared }).first('kind', 'subject', 'body', 'contact_id', 'deal_id'),
    ).toEqual({
      kind: 'call',
      subject: 'Erased',
      body: '',
      contact_id: null,
      deal_id: deal,
    });
    expect(await db()('mod_crm.activities').where({ id: mention }).first('body')).toEqual({
      body: 'Send the offer to [erased] and to yolanda@example.com',
    });
    expect(await db()('mod_crm.activities').where({ id: theirs }).first('contact_id')).toEqual({
      contact_id: bystander.id,
    });
    expect((await site.crm('GET', `/contacts/${bystander.id}`)).status).toBe(200);
    // The erasure is recorded, with who asked and when, and nothing else.
    const erasures = await db()('mod_crm.erasures').where({ site_id: site.siteId });
    expect(erasures).toEqual([
      {
        id: expect.any(String),
        agency_id: site.agencyId,
        site_id: site.siteId,
        contact_id: person.id,
        erased_by: site.ownerId,
        created_at: expect.any(Date),
      },
    ]);
    expect(await eventsOf(site, 'crm.contact.erased')).toEqual([{ id: person.id }]);
    expect(await eventsOf(site, 'crm.contact.deleted')).toEqual([{ id: person.id }]);
    // The addresses are free again.
    await site.create('/contacts', { emails: [email] });
  });
});
