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
  agency = await populateAgency(platform, 'Deals');
});
afterAll(() => platform.close());

interface Stage {
  id: string;
  name: string;
  position: number;
  kind: 'open' | 'won' | 'lost';
  probability: number | null;
}
interface Pipeline {
  id: string;
  name: string;
  position: number;
  stages: Stage[];
}
interface Deal {
  id: string;
  name: string;
  stage_id: string;
  pipeline_id: string;
  position: number;
  status: string;
  closed_at: string | null;
  amount_minor: number;
  currency: string;
}

const SALES = [
  { name: 'Lead' },
  { name: 'Offer', probability: 50 },
  { name: 'Won', kind: 'won' },
  { name: 'Lost', kind: 'lost' },
];

/** A pipeline; its stages by name. */
async function pipeline(site: CrmSite, name = 'Sales', stages: unknown[] = SALES) {
  const created: Pipeline = await site.create('/pipelines', { name, stages });
  const stage = Object.fromEntries(created.stages.map((one) => [one.name, one])) as Record<string, Stage>;
  return { ...created, stage };
}

const deal = (site: CrmSite, body: Record<string, unknown>): Promise<Deal> => site.create('/deals', body);

/** The names of a stage's deals in board order (through the list, sorted by position). */
async function order(site: CrmSite, stageId: string): Promise<string[]> {
  const reply = await site.crm('GET', `/deals?stage_id=${stageId}&sort=position&limit=100`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data.map((one: Deal) => one.name);
}

const move = (site: CrmSite, dealId: string, body: Record<string, unknown>) =>
  site.crm('POST', `/deals/${dealId}/move`, body);

describe('pipelines', () => {
  it('creates a pipeline with its stages in order, with default kinds and probabilities, and lists them', async () => {
    const site = await crmSite(platform, 'Pipelines', agency);
    const sales = await pipeline(site);
    expect(sales.position).toBe(0);
    expect(sales.stages.map(({ name, position, kind, probability }) => [name, position, kind, probability])).toEqual([
      ['Lead', 0, 'open', null],
      ['Offer', 1, 'open', 50],
      ['Won', 2, 'won', 100],
      ['Lost', 3, 'lost', 0],
    ]);
    const renewals = await pipeline(site, 'Renewals', [{ name: 'Due' }, { name: 'Renewed', kind: 'won' }]);
    expect(renewals.position).toBe(1);
    const list = await site.crm('GET', '/pipelines');
    expect(list.body.data.map((one: Pipeline) => one.name)).toEqual(['Sales', 'Renewals']);
    expect(list.body.data[0].stages).toEqual(sales.stages);
    const reversed = await site.crm('GET', '/pipelines?sort=-position&limit=1');
    expect(reversed.body.data.map((one: Pipeline) => one.name)).toEqual(['Renewals']);
    expect(reversed.body.has_more).toBe(true);
    const rest = await site.crm('GET', `/pipelines?sort=-position&limit=1&cursor=${reversed.body.next_cursor}`);
    expect(rest.body.data.map((one: Pipeline) => one.name)).toEqual(['Sales']);
    expect((await site.crm('GET', `/pipelines/${sales.id}`)).body).toEqual(list.body.data[0]);
  });

  it('refuses stage lists that break the rules, naming the stage', async () => {
    const site = await crmSite(platform, 'StageRules', agency);
    for (const [stages, path] of [
      [[{ name: 'Won', kind: 'won' }], '/body/stages'],
      [[{ name: 'A' }, { name: 'W1', kind: 'won' }, { name: 'W2', kind: 'won' }], '/body/stages/2/kind'],
      [[{ name: 'A' }, { name: 'L1', kind: 'lost' }, { name: 'L2', kind: 'lost' }], '/body/stages/2/kind'],
      [[{ name: 'Lead' }, { name: ' lead ' }], '/body/stages/1/name'],
      [[], '/body/stages'],
      [[{ name: 'A', probability: 101 }], '/body/stages/0/probability'],
      [[{ name: 'A', colour: 'red' }], '/body/stages/0/colour'],
      [[{ name: '' }], '/body/stages/0/name'],
      [[{ name: 'A', kind: 'maybe' }], '/body/stages/0/kind'],
    ] as const) {
      const reply = await site.crm('POST', '/pipelines', { name: 'Broken', stages });
      expect(reply.status, JSON.stringify(stages)).toBe(400);
      expect(reply.headers.get('content-type')).toContain('application/problem+json');
      expect(
        reply.body.errors.map((error: { path: string }) => error.path),
        JSON.stringify(stages),
      ).toContain(path);
    }
    expect((await site.crm('GET', '/pipelines')).body.data).toEqual([]);
  });

  it('edits the stage list: keeps, renames, reorders, adds and removes stages, never under a deal', async () => {
    const site = await crmSite(platform, 'StageEdits', agency);
    const sales = await pipeline(site);
    const { Lead, Offer, Won, Lost } = sales.stage as Record<string, Stage>;
    const stuck = await deal(site, { name: 'Stuck', stage_id: Offer!.id });

    const edited = await site.crm('PATCH', `/pipelines/${sales.id}`, {
      name: 'New business',
      stages: [
        { id: Offer!.id, name: 'Proposal' },
        { id: Lead!.id, name: 'Lead', probability: 10 },
        { name: 'Negotiation', probability: 80 },
        { id: Won!.id, name: 'Won' },
        { id: Lost!.id, name: 'Lost' },
      ],
    });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.body.name).toBe('New business');
    expect(
      edited.body.stages.map(({ id, name, position, kind, probability }: Stage) => [
        id,
        name,
        position,
        kind,
        probability,
      ]),
    ).toEqual([
      [Offer!.id, 'Proposal', 0, 'open', 50],
      [Lead!.id, 'Lead', 1, 'open', 10],
      [expect.any(String), 'Negotiation', 2, 'open', 80],
      [Won!.id, 'Won', 3, 'won', 100],
      [Lost!.id, 'Lost', 4, 'lost', 0],
    ]);
    // The deal stays in its stage under the new name.
    expect((await site.crm('GET', `/deals/${stuck.id}`)).body.stage_id).toBe(Offer!.id);
    const stages = edited.body.stages as Stage[];

    // Leaving out the stage with a deal, or changing its kind, is refused, and nothing changes.
    const removing = await site.crm('PATCH', `/pipelines/${sales.id}`, {
      stages: stages.filter((stage) => stage.id !== Offer!.id).map(({ id, name }) => ({ id, name })),
    });
    expect(removing.status).toBe(409);
    expect(removing.body).toMatchObject({ code: 'stage_has_deals', errors: [{ path: '/body/stages' }] });
    expect(removing.body.detail).toContain('Proposal (1)');
    const rekinding = await site.crm('PATCH', `/pipelines/${sales.id}`, {
      stages: stages.map(({ id, name }) =>
        id === Offer!.id ? { id, name, kind: 'lost' } : id === Lost!.id ? { id, name, kind: 'open' } : { id, name },
      ),
    });
    expect(rekinding.status).toBe(409);
    expect(rekinding.body.errors).toEqual([
      { path: '/body/stages/0/kind', message: 'changes the kind of a stage that has deals' },
    ]);
    expect((await site.crm('GET', `/pipelines/${sales.id}`)).body.stages).toEqual(stages);

    // A stage without deals goes; kinds of empty stages change.
    const trimmed = await site.crm('PATCH', `/pipelines/${sales.id}`, {
      stages: [
        { id: Offer!.id, name: 'Proposal' },
        { id: Won!.id, name: 'Closed', kind: 'lost' },
        { id: Lost!.id, name: 'Signed', kind: 'won' },
      ],
    });
    expect(trimmed.status, trimmed.text).toBe(200);
    expect(trimmed.body.stages.map(({ name, kind, probability }: Stage) => [name, kind, probability])).toEqual([
      ['Proposal', 'open', 50],
      ['Closed', 'lost', 0],
      ['Signed', 'won', 100],
    ]);

    // Ids of other pipelines' stages, and repeated ids, are refused.
    const other = await pipeline(site, 'Other', [{ name: 'Elsewhere' }]);
    const foreign = await site.crm('PATCH', `/pipelines/${sales.id}`, {
      stages: [{ id: other.stages[0]!.id, name: 'Mine now' }],
    });
    expect(foreign.status).toBe(422);
    expect(foreign.body).toMatchObject({ code: 'stage_not_in_pipeline', errors: [{ path: '/body/stages/0/id' }] });
    const twice = await site.crm('PATCH', `/pipelines/${sales.id}`, {
      stages: [
        { id: Offer!.id, name: 'One' },
        { id: Offer!.id, name: 'Two' },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.body.errors[0].path).toBe('/body/stages/1/id');

    // A pipeline with deals stays; without, it goes with its stages.
    const refused = await site.crm('DELETE', `/pipelines/${sales.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('pipeline_has_deals');
    expect((await site.crm('DELETE', `/deals/${stuck.id}`)).status).toBe(204);
    expect((await site.crm('DELETE', `/pipelines/${sales.id}`)).status).toBe(204);
    expect((await site.crm('GET', `/pipelines/${sales.id}`)).status).toBe(404);
    expect(await platform.db.knex('mod_crm.stages').where({ pipeline_id: sales.id }).count('* as n')).toEqual([
      { n: 0 },
    ]);
  });
});

describe('deals', () => {
  it('puts a new deal in the first open stage of the first pipeline, or where it says, at the end', async () => {
    const site = await crmSite(platform, 'NewDeals', agency);
    const none = await site.crm('POST', '/deals', { name: 'Too early' });
    expect(none.status).toBe(422);
    expect(none.body.code).toBe('no_pipeline');

    const sales = await pipeline(site, 'Sales', [{ name: 'Won', kind: 'won' }, { name: 'Lead' }, { name: 'Offer' }]);
    const renewals = await pipeline(site, 'Renewals', [{ name: 'Due' }, { name: 'Renewed', kind: 'won' }]);
    const first = await deal(site, { name: 'First', amount_minor: 12_345_678_901, currency: 'USD' });
    expect(first).toMatchObject({
      name: 'First',
      amount_minor: 12_345_678_901,
      currency: 'USD',
      pipeline_id: sales.id,
      stage_id: sales.stage.Lead!.id,
      status: 'open',
      owner_id: null,
      contact_id: null,
      company_id: null,
      expected_close_date: null,
      closed_at: null,
      custom: {},
    });
    const second = await deal(site, { name: 'Second', expected_close_date: '2027-03-31' });
    expect(second).toMatchObject({ currency: 'EUR', amount_minor: 0, expected_close_date: '2027-03-31' });
    expect(second.position).toBeGreaterThan(first.position);
    expect(await order(site, sales.stage.Lead!.id)).toEqual(['First', 'Second']);

    const renewal = await deal(site, { name: 'Renewal', pipeline_id: renewals.id });
    expect(renewal).toMatchObject({ pipeline_id: renewals.id, stage_id: renewals.stage.Due!.id });
    // A stage alone says its pipeline; a stage of another pipeline than the one named is refused.
    const byStage = await deal(site, { name: 'By stage', stage_id: renewals.stage.Renewed!.id });
    expect(byStage).toMatchObject({ pipeline_id: renewals.id, status: 'won' });
    expect(Date.now() - Date.parse(byStage.closed_at!)).toBeLessThan(60_000);
    const mismatch = await site.crm('POST', '/deals', {
      name: 'Mismatch',
      pipeline_id: sales.id,
      stage_id: renewals.stage.Due!.id,
    });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body).toMatchObject({ code: 'stage_not_in_pipeline', errors: [{ path: '/body/stage_id' }] });

    const read = await site.crm('GET', `/deals/${first.id}`);
    expect(read.body).toEqual(first);
    const events = await crmEvents(platform, site.siteId, 'crm.deal.');
    expect(events.map((event) => event.type)).toEqual([
      'crm.deal.created',
      'crm.deal.created',
      'crm.deal.created',
      'crm.deal.created',
      'crm.deal.won',
    ]);
  });

  it('refuses what is not a deal with 400s that name the field, never a 500', async () => {
    const site = await crmSite(platform, 'DealRefusals', agency);
    await pipeline(site);
    const other = await crmSite(platform, 'DealElsewhere', agency);
    const foreignContact = await other.create('/contacts', { first_name: 'Not', last_name: 'Here' });
    const foreignPipeline = await pipeline(other);
    for (const [body, path] of [
      [{}, '/body/name'],
      [{ name: '' }, '/body/name'],
      [{ name: '<b>bold</b>' }, '/body/name'],
      [{ name: 'x', currency: 'eur' }, '/body/currency'],
      [{ name: 'x', currency: 'XYZ' }, '/body/currency'],
      [{ name: 'x', amount_minor: -1 }, '/body/amount_minor'],
      [{ name: 'x', amount_minor: 1.5 }, '/body/amount_minor'],
      [{ name: 'x', amount_minor: '100' }, '/body/amount_minor'],
      [{ name: 'x', expected_close_date: '2027-02-30' }, '/body/expected_close_date'],
      [{ name: 'x', owner_id: randomUUID() }, '/body/owner_id'],
      [{ name: 'x', contact_id: foreignContact.id }, '/body/contact_id'],
      [{ name: 'x', company_id: randomUUID() }, '/body/company_id'],
      [{ name: 'x', pipeline_id: foreignPipeline.id }, '/body/pipeline_id'],
      [{ name: 'x', stage_id: foreignPipeline.stages[0]!.id }, '/body/stage_id'],
      [{ name: 'x', status: 'won' }, '/body/status'],
      [{ name: 'x', custom: { unknown: 1 } }, '/body/custom/unknown'],
    ] as const) {
      const reply = await site.crm('POST', '/deals', body);
      expect(reply.status, `${JSON.stringify(body)}: ${reply.text}`).toBe(400);
      expect(
        reply.body.errors?.map((error: { path: string }) => error.path),
        `${JSON.stringify(body)}: ${reply.text}`,
      ).toContain(path);
    }
    expect((await site.crm('GET', '/deals')).body.data).toEqual([]);
    // The owner may be any user of the agency.
    const owned = await deal(site, { name: 'Owned', owner_id: agency.userId });
    expect(owned).toMatchObject({ owner_id: agency.userId });
  });

  it('moves deals before another deal or to the end, in and across stages', async () => {
    const site = await crmSite(platform, 'Moves', agency);
    const sales = await pipeline(site);
    const { Lead, Offer } = sales.stage as Record<string, Stage>;
    const [a, b, c] = [
      await deal(site, { name: 'A' }),
      await deal(site, { name: 'B' }),
      await deal(site, { name: 'C' }),
    ];
    expect(await order(site, Lead!.id)).toEqual(['A', 'B', 'C']);

    const first = await move(site, c!.id, { stage_id: Lead!.id, before_deal_id: a!.id });
    expect(first.status, first.text).toBe(200);
    expect(first.body.position).toBeLessThan(a!.position);
    expect(await order(site, Lead!.id)).toEqual(['C', 'A', 'B']);
    expect((await move(site, b!.id, { stage_id: Lead!.id, before_deal_id: a!.id })).status).toBe(200);
    expect(await order(site, Lead!.id)).toEqual(['C', 'B', 'A']);
    expect((await move(site, c!.id, { stage_id: Lead!.id, before_deal_id: null })).status).toBe(200);
    expect(await order(site, Lead!.id)).toEqual(['B', 'A', 'C']);
    // Before itself: it stays where it is.
    const stay = await move(site, a!.id, { stage_id: Lead!.id, before_deal_id: a!.id });
    expect(stay.status).toBe(200);
    expect(await order(site, Lead!.id)).toEqual(['B', 'A', 'C']);

    // Across stages: before a deal there, or to the end.
    const d = await deal(site, { name: 'D', stage_id: Offer!.id });
    const across = await move(site, a!.id, { stage_id: Offer!.id, before_deal_id: d.id });
    expect(across.body).toMatchObject({ stage_id: Offer!.id, status: 'open', closed_at: null });
    expect(await order(site, Offer!.id)).toEqual(['A', 'D']);
    expect(await order(site, Lead!.id)).toEqual(['B', 'C']);
    expect((await move(site, b!.id, { stage_id: Offer!.id })).status).toBe(200);
    expect(await order(site, Offer!.id)).toEqual(['A', 'D', 'B']);

    // Refusals: a deal of another stage, a stage of another pipeline, unknown ids.
    const wrongDeal = await move(site, c!.id, { stage_id: Lead!.id, before_deal_id: d.id });
    expect(wrongDeal.status).toBe(422);
    expect(wrongDeal.body).toMatchObject({ code: 'deal_not_in_stage', errors: [{ path: '/body/before_deal_id' }] });
    const elsewhere = await pipeline(site, 'Elsewhere', [{ name: 'There' }]);
    const wrongStage = await move(site, c!.id, { stage_id: elsewhere.stages[0]!.id });
    expect(wrongStage.status).toBe(422);
    expect(wrongStage.body).toMatchObject({ code: 'stage_not_in_pipeline', errors: [{ path: '/body/stage_id' }] });
    expect((await move(site, c!.id, { stage_id: randomUUID() })).status).toBe(422);
    expect((await move(site, randomUUID(), { stage_id: Lead!.id })).status).toBe(404);
    expect((await move(site, c!.id, { stage_id: 'lead' })).status).toBe(400);
    expect(await order(site, Lead!.id)).toEqual(['C']);
  });

  it('keeps the order right after many moves into one gap, renumbering the stage when it runs out', async () => {
    const site = await crmSite(platform, 'ManyMoves', agency);
    const sales = await pipeline(site);
    const { Lead, Offer } = sales.stage as Record<string, Stage>;
    const first = await deal(site, { name: 'first', stage_id: Offer!.id });
    const last = await deal(site, { name: 'last', stage_id: Offer!.id });
    const movers: Deal[] = [];
    for (let index = 0; index < 45; index += 1)
      movers.push(await deal(site, { name: `m${index}`, stage_id: Lead!.id }));
    // Each goes just before `last`, into the gap the one before it halved: 1024 / 2^45 is far below any double
    // spacing around 2048, so without renumbering positions would collide.
    for (const mover of movers) {
      const reply = await move(site, mover.id, { stage_id: Offer!.id, before_deal_id: last.id });
      expect(reply.status, reply.text).toBe(200);
    }
    expect(await order(site, Offer!.id)).toEqual([first.name, ...movers.map((mover) => mover.name), last.name]);
    const positions = (await site.crm('GET', `/deals?stage_id=${Offer!.id}&sort=position&limit=100`)).body.data.map(
      (one: Deal) => one.position,
    ) as number[];
    expect(new Set(positions).size).toBe(positions.length);
    // `last` was pushed along by a renumbering (it started at 2048).
    expect(positions.at(-1)).toBeGreaterThan(2048);
    expect(positions.slice(1).every((position, index) => position > positions[index]!)).toBe(true);
    expect(await order(site, Lead!.id)).toEqual([]);
  });

  it('gives deals moved to the end of a stage at the same time distinct places', async () => {
    const site = await crmSite(platform, 'RacingMoves', agency);
    const sales = await pipeline(site);
    const movers: Deal[] = [];
    for (let index = 0; index < 6; index += 1) movers.push(await deal(site, { name: `r${index}` }));
    const replies = await Promise.all(movers.map((mover) => move(site, mover.id, { stage_id: sales.stage.Offer!.id })));
    expect(replies.map((reply) => reply.status)).toEqual(Array(6).fill(200));
    const positions = replies.map((reply) => reply.body.position as number);
    expect(new Set(positions).size).toBe(6);
    expect((await order(site, sales.stage.Offer!.id)).sort()).toEqual(movers.map((mover) => mover.name).sort());
  });

  it('closes a deal moved into a won or lost stage, reopens it moved back, and says so in events', async () => {
    const site = await crmSite(platform, 'Closing', agency);
    const sales = await pipeline(site);
    const { Lead, Offer, Won, Lost } = sales.stage as Record<string, Stage>;
    const big = await deal(site, { name: 'Big', amount_minor: 500_000 });
    const other = await deal(site, { name: 'Other', stage_id: Offer!.id });

    const won = await move(site, big.id, { stage_id: Won!.id });
    expect(won.body).toMatchObject({ status: 'won', stage_id: Won!.id });
    const wonAt = Date.parse(won.body.closed_at);
    expect(Date.now() - wonAt).toBeLessThan(60_000);
    const lost = await move(site, big.id, { stage_id: Lost!.id });
    expect(lost.body).toMatchObject({ status: 'lost' });
    expect(Date.parse(lost.body.closed_at)).toBeGreaterThanOrEqual(wonAt);
    const reopened = await move(site, big.id, { stage_id: Offer!.id, before_deal_id: other.id });
    expect(reopened.body).toMatchObject({ status: 'open', closed_at: null });
    // A new place in the same stage is no event.
    expect((await move(site, big.id, { stage_id: Offer!.id })).status).toBe(200);
    expect(await order(site, Offer!.id)).toEqual(['Other', 'Big']);

    // Changing the stage through PATCH moves it to the end of the new stage, with the same events.
    const closer = await deal(site, { name: 'Closer', stage_id: Won!.id });
    const patched = await site.crm('PATCH', `/deals/${big.id}`, { stage_id: Won!.id, amount_minor: 450_000 });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toMatchObject({ status: 'won', amount_minor: 450_000 });
    expect(patched.body.position).toBeGreaterThan(closer.position);
    expect(patched.body.closed_at).not.toBeNull();
    // Another pipeline alone: its first open stage.
    const renewals = await pipeline(site, 'Renewals', [{ name: 'Lost', kind: 'lost' }, { name: 'Due' }]);
    const moved = await site.crm('PATCH', `/deals/${big.id}`, { pipeline_id: renewals.id });
    expect(moved.body).toMatchObject({ pipeline_id: renewals.id, stage_id: renewals.stage.Due!.id, status: 'open' });
    expect(moved.body.closed_at).toBeNull();
    const badStage = await site.crm('PATCH', `/deals/${big.id}`, { stage_id: Lead!.id });
    expect(badStage.status).toBe(422);
    expect(badStage.body.code).toBe('stage_not_in_pipeline');
    const renamed = await site.crm('PATCH', `/deals/${big.id}`, { name: 'Bigger' });
    expect(renamed.body).toMatchObject({
      name: 'Bigger',
      stage_id: renewals.stage.Due!.id,
      position: moved.body.position,
    });

    const events = (await crmEvents(platform, site.siteId, 'crm.deal.')).filter((event) => event.payload.id === big.id);
    expect(events.map((event) => [event.type, event.payload.stage_id, event.payload.previous_stage_id])).toEqual([
      ['crm.deal.created', Lead!.id, undefined],
      ['crm.deal.stage_changed', Won!.id, Lead!.id],
      ['crm.deal.won', Won!.id, undefined],
      ['crm.deal.stage_changed', Lost!.id, Won!.id],
      ['crm.deal.lost', Lost!.id, undefined],
      ['crm.deal.stage_changed', Offer!.id, Lost!.id],
      ['crm.deal.updated', Won!.id, undefined],
      ['crm.deal.stage_changed', Won!.id, Offer!.id],
      ['crm.deal.won', Won!.id, undefined],
      ['crm.deal.updated', renewals.stage.Due!.id, undefined],
      ['crm.deal.stage_changed', renewals.stage.Due!.id, Won!.id],
      ['crm.deal.updated', renewals.stage.Due!.id, undefined],
    ]);
    expect(events[2]!.payload).toMatchObject({ status: 'won', amount_minor: 500_000 });

    expect((await site.crm('DELETE', `/deals/${big.id}`)).status).toBe(204);
    expect((await site.crm('GET', `/deals/${big.id}`)).status).toBe(404);
    expect((await site.crm('DELETE', `/deals/${big.id}`)).status).toBe(404);
    const deleted = await crmEvents(platform, site.siteId, 'crm.deal.deleted');
    expect(deleted.map((event) => event.payload)).toEqual([{ id: big.id }]);
  });
});

describe('the board', () => {
  it('has a column per stage with its deal count, totals per currency and first 100 deals', async () => {
    const site = await crmSite(platform, 'Board', agency);
    const sales = await pipeline(site);
    const { Lead, Offer, Won } = sales.stage as Record<string, Stage>;
    await deal(site, { name: 'Euro 1', amount_minor: 10_000 });
    await deal(site, { name: 'Dollars', amount_minor: 99_900, currency: 'USD' });
    await deal(site, { name: 'Euro 2', amount_minor: 25_050 });
    await deal(site, { name: 'Free', amount_minor: 0, currency: 'CHF' });
    // 102 deals in the won stage, written directly (the API is not what this part is about).
    const rows = Array.from({ length: 102 }, (_, index) => ({
      id: randomUUID(),
      agency_id: site.agencyId,
      site_id: site.siteId,
      name: `Won ${String(index).padStart(3, '0')}`,
      amount_minor: 1_000,
      currency: 'EUR',
      pipeline_id: sales.id,
      stage_id: Won!.id,
      position: 1024 * (102 - index),
      closed_at: new Date(),
    }));
    await platform.db.knex('mod_crm.deals').insert(rows);

    const board = await site.crm('GET', `/pipelines/${sales.id}/board`);
    expect(board.status, board.text).toBe(200);
    expect(board.body.pipeline).toEqual((await site.crm('GET', `/pipelines/${sales.id}`)).body);
    const columns = board.body.columns as {
      stage: Stage;
      deal_count: number;
      totals: unknown[];
      deals: Deal[];
      has_more: boolean;
    }[];
    expect(columns.map((column) => column.stage.name)).toEqual(['Lead', 'Offer', 'Won', 'Lost']);
    expect(columns[0]).toMatchObject({
      stage: Lead,
      deal_count: 4,
      totals: [
        { currency: 'CHF', amount_minor: 0 },
        { currency: 'EUR', amount_minor: 35_050 },
        { currency: 'USD', amount_minor: 99_900 },
      ],
      has_more: false,
    });
    expect(columns[0]!.deals.map((one) => one.name)).toEqual(['Euro 1', 'Dollars', 'Euro 2', 'Free']);
    expect(columns[1]).toEqual({ stage: Offer, deal_count: 0, totals: [], deals: [], has_more: false });
    expect(columns[2]).toMatchObject({
      deal_count: 102,
      totals: [{ currency: 'EUR', amount_minor: 102_000 }],
      has_more: true,
    });
    // By position: the last written is first.
    expect(columns[2]!.deals).toHaveLength(100);
    expect(columns[2]!.deals[0]).toMatchObject({ name: 'Won 101', status: 'won' });
    expect(columns[2]!.deals.at(-1)!.name).toBe('Won 002');
    // The rest of the column, through the list.
    const page = await site.crm('GET', `/deals?stage_id=${Won!.id}&sort=position&limit=100`);
    const rest = await site.crm(
      'GET',
      `/deals?stage_id=${Won!.id}&sort=position&limit=100&cursor=${page.body.next_cursor}`,
    );
    expect(rest.body.data.map((one: Deal) => one.name)).toEqual(['Won 001', 'Won 000']);
    expect((await site.crm('GET', `/pipelines/${randomUUID()}/board`)).status).toBe(404);
  });
});

describe('listing deals', () => {
  it('filters, searches, sorts and pages', async () => {
    const site = await crmSite(platform, 'DealLists', agency);
    const sales = await pipeline(site);
    const { Offer, Won } = sales.stage as Record<string, Stage>;
    const renewals = await pipeline(site, 'Renewals', [{ name: 'Due' }]);
    const contact = await site.create('/contacts', { first_name: 'Ada' });
    const company = await site.create('/companies', { name: 'Acme' });
    const alpha = await deal(site, { name: 'Alpha website', amount_minor: 300, contact_id: contact.id });
    const beta = await deal(site, {
      name: 'Beta hosting',
      amount_minor: 100,
      stage_id: Won!.id,
      company_id: company.id,
    });
    const gamma = await deal(site, { name: 'Gamma website relaunch', amount_minor: 200, owner_id: agency.userId });
    const delta = await deal(site, { name: 'Delta', amount_minor: 400, pipeline_id: renewals.id });
    await move(site, gamma.id, { stage_id: Offer!.id });
    const names = async (query: string) => {
      const reply = await site.crm('GET', `/deals?${query}`);
      expect(reply.status, `${query}: ${reply.text}`).toBe(200);
      return reply.body.data.map((one: Deal) => one.name);
    };
    expect(await names('')).toEqual([delta.name, gamma.name, beta.name, alpha.name]);
    expect(await names(`pipeline_id=${sales.id}&sort=name`)).toEqual([alpha.name, beta.name, gamma.name]);
    expect(await names(`stage_id=${Offer!.id}`)).toEqual([gamma.name]);
    expect(await names('status=won')).toEqual([beta.name]);
    expect(await names('status=open&sort=-amount_minor')).toEqual([delta.name, alpha.name, gamma.name]);
    expect(await names(`owner_id=${agency.userId}`)).toEqual([gamma.name]);
    expect(await names(`contact_id=${contact.id}`)).toEqual([alpha.name]);
    expect(await names(`company_id=${company.id}`)).toEqual([beta.name]);
    expect(await names('q=web')).toEqual([gamma.name, alpha.name]);
    expect(await names('q=web%20rel')).toEqual([gamma.name]);
    expect(await names('q=web&status=won')).toEqual([]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `sort=amount_minor&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await site.crm('GET', `/deals?${query}`);
      seen.push(...page.body.data.map((one: Deal) => one.name));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([beta.name, gamma.name, alpha.name, delta.name]);
    expect((await site.crm('GET', '/deals?status=closed')).status).toBe(400);
    expect((await site.crm('GET', '/deals?sort=probability')).status).toBe(400);
  });
});

describe('roles', () => {
  it('lets a client member work deals but not configure pipelines or custom fields', async () => {
    const site = await crmSite(platform, 'Members', agency);
    const sales = await pipeline(site);
    const email = `member-${randomUUID()}@example.com`;
    const user = await platform.request('POST', '/v1/users', {
      token: agency.token,
      body: { email, name: 'Seller', role: 'client_member', client_id: agency.clientId, password: 'seller password' },
    });
    expect(user.status, user.text).toBe(201);
    const token = await platform.signIn(email, 'seller password');
    const as = (method: string, path: string, body?: unknown) =>
      platform.request(method, `${site.base}${path}`, { token, body });

    const created = await as('POST', '/deals', { name: 'Mine', owner_id: user.body.id });
    expect(created.status, created.text).toBe(201);
    const moved = await as('POST', `/deals/${created.body.id}/move`, { stage_id: sales.stage.Won!.id });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.status).toBe('won');
    expect((await as('GET', `/pipelines/${sales.id}/board`)).status).toBe(200);
    for (const [method, path, body] of [
      ['POST', '/pipelines', { name: 'Mine', stages: [{ name: 'Open' }] }],
      ['PATCH', `/pipelines/${sales.id}`, { name: 'Renamed' }],
      ['DELETE', `/pipelines/${sales.id}`, undefined],
      ['POST', '/custom-fields', { entity: 'deal', key: 'source', label: 'Source', type: 'text' }],
    ] as const) {
      const refused = await as(method, path, body);
      expect([refused.status, refused.body.code], `${method} ${path}`).toEqual([403, 'insufficient_scope']);
    }
    expect((await site.crm('GET', `/pipelines/${sales.id}`)).body.name).toBe('Sales');
  });
});
