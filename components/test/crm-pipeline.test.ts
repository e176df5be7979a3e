import { fixture, fixtureCleanup, html, oneEvent } from '@open-wc/testing';
import { nothing } from 'lit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userEvent } from 'vitest/browser';
import '../src/index.js';
import type { DmCrmPipeline } from '../src/index.js';
import {
  crmResponder,
  deal,
  fixtureApiBase,
  fixtureDeals,
  fixtureSiteId,
  fixtureToken,
  salesPipeline,
  stageIds,
  type CrmScenario,
} from '../src/crm/crm-fixtures.js';
import * as stories from '../src/crm/crm-pipeline.stories.js';
import { expectAccessible, fakeApi, part, parts, untilPart, itRendersEveryStory } from './support.js';

interface Options {
  token?: string | null;
  lang?: string;
  settings?: Record<string, unknown>;
  pipelineId?: string;
}

async function pipelineOf(scenario: CrmScenario = {}, options: Options = {}) {
  const responder = crmResponder(scenario);
  const api = fakeApi(responder);
  const element = await fixture<DmCrmPipeline>(
    html`<dm-crm-pipeline
      api-base=${fixtureApiBase}
      site-id=${fixtureSiteId}
      pipeline-id=${options.pipelineId ?? nothing}
      lang=${options.lang ?? nothing}
      .token=${options.token === null ? undefined : (options.token ?? fixtureToken)}
      .settings=${options.settings}
      .fetch=${api.fetch}
    ></dm-crm-pipeline>`,
  );
  return { element, api, deals: responder.deals };
}

const text = (node: Element | null | undefined) => node?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
const root = (element: DmCrmPipeline) => element.shadowRoot!;
const column = (element: DmCrmPipeline, stageId: string) =>
  root(element).querySelector<HTMLElement>(`[data-stage-id="${stageId}"]`)!;
const namesIn = (element: DmCrmPipeline, stageId: string) =>
  [...column(element, stageId).querySelectorAll('[part~="deal-name"]')].map((name) => name.textContent);
const summaryOf = (element: DmCrmPipeline, stageId: string) =>
  text(column(element, stageId).querySelector('[part~="summary"]'));
const card = (element: DmCrmPipeline, name: string) =>
  parts(element, 'card').find((candidate) => text(candidate.querySelector('[part~="deal-name"]')) === name)!;
const focused = (element: DmCrmPipeline) =>
  text((root(element).activeElement as HTMLElement | null)?.querySelector('[part~="deal-name"]'));
const announced = (element: DmCrmPipeline) => text(part(element, 'announcer'));
const moves = (requests: Request[]) => requests.filter((request) => request.url.endsWith('/move'));

async function untilBoard(element: DmCrmPipeline): Promise<void> {
  await untilPart(element, 'board');
  await element.updateComplete;
}

/** Presses keys on what has the focus, as a keyboard user does. */
async function press(element: DmCrmPipeline, ...keys: string[]): Promise<void> {
  for (const key of keys) {
    await userEvent.keyboard(key);
    await element.updateComplete;
  }
}

/**
 * The events of an HTML drag and drop, as the browser sends them, from `source` onto `target` at `clientY`
 * (for targets off screen, where a pointer cannot go).
 */
function drag(source: HTMLElement, target: HTMLElement, clientY: number): void {
  const dataTransfer = new DataTransfer();
  const fire = (node: HTMLElement, type: string) =>
    node.dispatchEvent(new DragEvent(type, { bubbles: true, composed: true, cancelable: true, dataTransfer, clientY }));
  fire(source, 'dragstart');
  fire(target, 'dragenter');
  fire(target, 'dragover');
  fire(target, 'drop');
  fire(source, 'dragend');
}

afterEach(() => {
  fixtureCleanup();
  vi.restoreAllMocks();
});

describe('<dm-crm-pipeline> states', () => {
  it('asks the user to sign in without a token, calling nothing, and loads once it has one', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const errors: unknown[] = [];
    document.addEventListener('dm-error', (event) => errors.push(event.detail), { once: true });
    const { element, api } = await pipelineOf({}, { token: null });
    const signIn = await untilPart(element, 'sign-in');
    expect(text(signIn)).toBe('Please sign in to see this.');
    expect(signIn.getAttribute('role')).toBe('status');
    expect(api.requests).toHaveLength(0);
    expect(warn).not.toHaveBeenCalled();
    expect(errors).toEqual([]);
    await expectAccessible(element);

    element.token = fixtureToken;
    await untilBoard(element);
    expect(part(element, 'sign-in')).toBeNull();
  });

  it('shows the sign-in state again when the API says the sign-in has expired (401)', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { element } = await pipelineOf({});
    await untilBoard(element);
    const expired = fakeApi(() => Response.json({ code: 'unauthorized', status: 401 }, { status: 401 }));
    element.fetch = expired.fetch;
    await vi.waitFor(() =>
      expect(text(part(element, 'sign-in'))).toBe('Your sign-in has expired. Please sign in again.'),
    );
  });

  it('shows a loading state while the board loads', async () => {
    const { element } = await pipelineOf({ pending: 'board' });
    const loading = await untilPart(element, 'loading');
    expect(text(loading)).toBe('Loading…');
    await expectAccessible(element);
  });

  it('falls back quietly when the board cannot be loaded', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { element } = await pipelineOf({ fail: 'board' });
    expect(text(await untilPart(element, 'error'))).toBe('This content is not available right now.');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).not.toContain(fixtureToken);
    await expectAccessible(element);
  });

  it('says so when the site has no pipeline, and when the pipeline has no deals', async () => {
    const { element } = await pipelineOf({ pipelines: [] });
    expect(text(await untilPart(element, 'empty'))).toBe('There is no pipeline yet.');
    await expectAccessible(element);

    const { element: empty } = await pipelineOf({ deals: [] });
    await untilBoard(empty);
    expect(text(part(empty, 'pipeline-empty'))).toBe('No deals in this pipeline yet.');
    expect(parts(empty, 'column-empty').map(text)).toEqual(Array(5).fill('No deals'));
    expect(summaryOf(empty, stageIds.lead)).toBe('0 deals · €0.00');
    await expectAccessible(empty);
  });
});

describe('<dm-crm-pipeline> board', () => {
  it('shows a column per stage with its deals, counts and totals per currency', async () => {
    const loaded = vi.fn();
    document.addEventListener('dm-load', loaded, { once: true });
    const { element, api } = await pipelineOf();
    await untilBoard(element);

    expect(text(part(element, 'title'))).toBe('Sales');
    expect(part(element, 'board')!.getAttribute('aria-label')).toBe('Pipeline Sales');
    expect(parts(element, 'stage-name').map(text)).toEqual(['Lead', 'Qualified', 'Proposal', 'Won', 'Lost']);
    expect(parts(element, 'stage-kind').map(text)).toEqual([
      '10% probability',
      '30% probability',
      '60% probability',
      'Won',
      'Lost',
    ]);
    expect(namesIn(element, stageIds.lead)).toEqual(['Bakery website', 'Shop relaunch']);
    expect(summaryOf(element, stageIds.lead)).toBe('2 deals · €16,500.00');
    expect(summaryOf(element, stageIds.qualified)).toBe('1 deal · €990.00');
    expect(summaryOf(element, stageIds.proposal)).toBe('1 deal · $2,500.00');
    expect(summaryOf(element, stageIds.lost)).toBe('0 deals · €0.00');
    expect(loaded.mock.calls[0]![0].detail).toEqual({ count: 5 });

    // The cards: amount in the deal's currency, the contact and owner once looked up, the expected close.
    const bakery = card(element, 'Bakery website');
    expect(text(bakery.querySelector('[part~="amount"]'))).toBe('€12,000.00');
    expect(text(bakery.querySelector('[part~="close-date"]'))).toBe('Expected close Mar 12, 2027');
    await vi.waitFor(() => expect(text(bakery.querySelector('[part~="contact"]'))).toBe('Ada Lovelace'));
    await vi.waitFor(() => expect(text(bakery.querySelector('[part~="owner"]'))).toBe('Owner: Grace Hopper'));
    expect(text(card(element, 'Booking widget').querySelector('[part~="amount"]'))).toBe('$2,500.00');

    // Each column is a group named by its heading, holding a list.
    const lead = column(element, stageIds.lead);
    expect(lead.getAttribute('role')).toBe('group');
    expect(root(element).getElementById(lead.getAttribute('aria-labelledby')!)!.tagName).toBe('H3');
    expect(lead.querySelector('[part~="deals"]')!.getAttribute('role')).toBe('list');
    // Roving focus: one deal of the board is in the tab order.
    expect(parts(element, 'card').filter((candidate) => candidate.tabIndex === 0)).toEqual([bakery]);
    expect(bakery.getAttribute('role')).toBe('button');
    expect(bakery.getAttribute('aria-pressed')).toBe('false');
    expect(part(element, 'read-only')).toBeNull();
    await expectAccessible(element);

    // The first pipeline was looked up, then its board; the contact and owner once each.
    const paths = api.requests.map((request) => `${request.method} ${new URL(request.url).pathname}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'GET /v1/sessions/current',
        `GET /v1/sites/${fixtureSiteId}/crm/pipelines`,
        `GET /v1/sites/${fixtureSiteId}/crm/pipelines/${salesPipeline.id}/board`,
      ]),
    );
    expect(paths.filter((path) => path.includes('/contacts/'))).toHaveLength(2);
  });

  it('authenticates as the signed-in user: a bearer token in a header, never in a URL nor an attribute', async () => {
    const { element, api } = await pipelineOf({}, { pipelineId: salesPipeline.id });
    await untilBoard(element);
    expect(api.requests.length).toBeGreaterThan(0);
    for (const request of api.requests) {
      expect(request.headers.get('authorization')).toBe(`Bearer ${fixtureToken}`);
      expect(request.url).not.toContain(fixtureToken);
      expect(new URL(request.url).searchParams.has('key')).toBe(false);
    }
    // pipeline-id given: no need to list the pipelines.
    expect(api.requests.some((request) => new URL(request.url).pathname.endsWith('/pipelines'))).toBe(false);
    expect(element.outerHTML).not.toContain(fixtureToken);
    expect(element.getAttribute('token')).toBeNull();
  });

  it('speaks German, with German amounts and dates', async () => {
    const { element } = await pipelineOf({}, { settings: { locale: 'de' } });
    await untilBoard(element);
    expect(summaryOf(element, stageIds.lead)).toBe('2 Deals · 16.500,00 €');
    expect(summaryOf(element, stageIds.qualified)).toBe('1 Deal · 990,00 €');
    expect(text(card(element, 'Bakery website').querySelector('[part~="close-date"]'))).toBe(
      'Voraussichtlicher Abschluss 12.03.2027',
    );
    expect(text(root(element).getElementById('instructions'))).toContain('Pfeiltasten');
    await expectAccessible(element);
  });

  it('shows more of a stage than the board holds', async () => {
    // 150 deals in Lead: the board holds the first 100, the stage's list is read on from there.
    const many = Array.from({ length: 150 }, (_, index) => deal(index + 1, `Deal ${index + 1}`, 'lead', 100));
    const { element, api } = await pipelineOf({ deals: many });
    await untilBoard(element);
    expect(namesIn(element, stageIds.lead)).toHaveLength(100);
    expect(summaryOf(element, stageIds.lead)).toBe('150 deals · €150.00');
    const more = column(element, stageIds.lead).querySelector<HTMLButtonElement>('[part~="more"]')!;
    expect(text(more)).toBe('Show more deals');
    more.click();
    await vi.waitFor(() => expect(namesIn(element, stageIds.lead)).toHaveLength(150));
    expect(namesIn(element, stageIds.lead).at(-1)).toBe('Deal 150');
    expect(new Set(namesIn(element, stageIds.lead)).size).toBe(150);
    expect(column(element, stageIds.lead).querySelector('[part~="more"]')).toBeNull();
    const listed = api.requests.map((request) => new URL(request.url)).filter((url) => url.pathname.endsWith('/deals'));
    expect(listed.map((url) => Object.fromEntries(url.searchParams))).toEqual([
      { stage_id: stageIds.lead, sort: 'position', limit: '100' },
      { stage_id: stageIds.lead, sort: 'position', limit: '100', cursor: '100' },
    ]);
  });

  it('says so when more deals cannot be loaded', async () => {
    const many = Array.from({ length: 101 }, (_, index) => deal(index + 1, `Deal ${index + 1}`, 'lead', 100));
    const { element } = await pipelineOf({ deals: many, fail: 'more' });
    await untilBoard(element);
    column(element, stageIds.lead).querySelector<HTMLButtonElement>('[part~="more"]')!.click();
    await vi.waitFor(() =>
      expect(text(part(element, 'notice'))).toBe('More deals could not be loaded. Please try again.'),
    );
    expect(column(element, stageIds.lead).querySelector<HTMLButtonElement>('[part~="more"]')!.disabled).toBe(false);
  });

  it('shows every string of the API as text', async () => {
    const payloads = [
      '<img src=x onerror="window.__pwned = 1">',
      '"><svg onload=window.__pwned=1>',
      "javascript:alert('x')",
      '<script>window.__pwned = 1</script>',
    ];
    const stage = { ...salesPipeline.stages[0]!, name: payloads[0]! };
    const { element } = await pipelineOf({
      pipelines: [{ ...salesPipeline, name: payloads[1]!, stages: [stage] }],
      deals: payloads.map((name, index) => deal(index + 1, name, 'lead', 100)),
      contacts: [],
    });
    await untilBoard(element);
    expect(namesIn(element, stageIds.lead)).toEqual(payloads);
    expect(text(part(element, 'title'))).toBe(payloads[1]);
    expect(text(part(element, 'stage-name'))).toBe(payloads[0]);
    expect(root(element).querySelector('img, svg, script, a')).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });
});

describe('<dm-crm-pipeline> moving by keyboard', () => {
  it('goes from deal to deal with the arrow keys, one deal in the tab order', async () => {
    const { element } = await pipelineOf();
    await untilBoard(element);
    card(element, 'Bakery website').focus();
    await press(element, '{ArrowDown}');
    expect(focused(element)).toBe('Shop relaunch');
    await press(element, '{ArrowRight}');
    expect(focused(element)).toBe('SEO retainer');
    await press(element, '{ArrowRight}', '{ArrowRight}');
    expect(focused(element)).toBe('Logo design');
    // Nothing to the right of Won but an empty stage: the focus stays.
    await press(element, '{ArrowRight}');
    expect(focused(element)).toBe('Logo design');
    await press(element, '{ArrowLeft}', '{ArrowLeft}', '{ArrowLeft}', '{End}');
    expect(focused(element)).toBe('Shop relaunch');
    expect(parts(element, 'card').filter((candidate) => candidate.tabIndex === 0)).toEqual([
      card(element, 'Shop relaunch'),
    ]);
    // Browsing moves nothing.
    expect(namesIn(element, stageIds.lead)).toEqual(['Bakery website', 'Shop relaunch']);
  });

  it('picks a deal up, moves it across stages and within one, drops it: the API saves it, totals follow', async () => {
    const { element, api, deals } = await pipelineOf();
    await untilBoard(element);
    card(element, 'Bakery website').focus();

    await press(element, ' ');
    expect(card(element, 'Bakery website').getAttribute('aria-pressed')).toBe('true');
    expect(card(element, 'Bakery website').getAttribute('part')).toBe('card grabbed');
    expect(announced(element)).toBe(
      'Picked up Bakery website in Lead, position 1 of 2. Move it with the arrow keys, drop it with Space or Enter, cancel with Escape.',
    );

    await press(element, '{ArrowRight}');
    expect(announced(element)).toBe('Bakery website: Qualified, position 1 of 2.');
    expect(namesIn(element, stageIds.qualified)).toEqual(['Bakery website', 'SEO retainer']);
    expect(focused(element)).toBe('Bakery website');
    // The totals move with the deal at once.
    expect(summaryOf(element, stageIds.lead)).toBe('1 deal · €4,500.00');
    expect(summaryOf(element, stageIds.qualified)).toBe('2 deals · €12,990.00');

    await press(element, '{ArrowDown}');
    expect(announced(element)).toBe('Bakery website: Qualified, position 2 of 2.');
    expect(namesIn(element, stageIds.qualified)).toEqual(['SEO retainer', 'Bakery website']);
    // Nothing below the last place.
    await press(element, '{ArrowDown}');
    expect(namesIn(element, stageIds.qualified)).toEqual(['SEO retainer', 'Bakery website']);
    expect(moves(api.requests)).toHaveLength(0);

    const moved = oneEvent(element, 'dm-crm-deal-moved');
    await press(element, '{Enter}');
    expect(announced(element)).toBe('Dropped Bakery website in Qualified, position 2 of 2.');
    const { detail } = await moved;
    expect(detail.fromStageId).toBe(stageIds.lead);
    expect(detail.toStageId).toBe(stageIds.qualified);
    expect(detail.deal).toMatchObject({ name: 'Bakery website', stage_id: stageIds.qualified });

    const [move] = moves(api.requests);
    expect(new URL(move!.url).pathname).toBe(`/v1/sites/${fixtureSiteId}/crm/deals/${fixtureDeals[0]!.id}/move`);
    expect(move!.method).toBe('POST');
    expect(await move!.clone().json()).toEqual({ stage_id: stageIds.qualified, before_deal_id: null });
    expect(deals.find((candidate) => candidate.name === 'Bakery website')!.stage_id).toBe(stageIds.qualified);

    expect(card(element, 'Bakery website').getAttribute('aria-pressed')).toBe('false');
    expect(focused(element)).toBe('Bakery website');
    expect(summaryOf(element, stageIds.qualified)).toBe('2 deals · €12,990.00');
    expect(text(part(element, 'notice'))).toBe('');
    await expectAccessible(element);
  });

  it('places a deal before the one it was dropped above', async () => {
    const { element, api } = await pipelineOf();
    await untilBoard(element);
    card(element, 'Shop relaunch').focus();
    await press(element, ' ', '{ArrowUp}', ' ');
    expect(namesIn(element, stageIds.lead)).toEqual(['Shop relaunch', 'Bakery website']);
    await vi.waitFor(() => expect(moves(api.requests)).toHaveLength(1));
    expect(await moves(api.requests)[0]!.clone().json()).toEqual({
      stage_id: stageIds.lead,
      before_deal_id: fixtureDeals[0]!.id,
    });
  });

  it('puts the deal back with Escape, and saves nothing when it is dropped where it was', async () => {
    const { element, api } = await pipelineOf();
    await untilBoard(element);
    card(element, 'Shop relaunch').focus();
    await press(element, ' ', '{ArrowRight}', '{ArrowRight}', '{ArrowUp}');
    expect(namesIn(element, stageIds.proposal)).toEqual(['Shop relaunch', 'Booking widget']);
    expect(summaryOf(element, stageIds.proposal)).toBe('2 deals · $2,500.00 · €4,500.00');

    await press(element, '{Escape}');
    expect(announced(element)).toBe('Move cancelled. Shop relaunch is back in Lead, position 2 of 2.');
    expect(namesIn(element, stageIds.lead)).toEqual(['Bakery website', 'Shop relaunch']);
    expect(namesIn(element, stageIds.proposal)).toEqual(['Booking widget']);
    expect(summaryOf(element, stageIds.lead)).toBe('2 deals · €16,500.00');
    expect(summaryOf(element, stageIds.proposal)).toBe('1 deal · $2,500.00');
    expect(focused(element)).toBe('Shop relaunch');
    expect(card(element, 'Shop relaunch').getAttribute('aria-pressed')).toBe('false');

    await press(element, ' ', '{ArrowRight}', '{ArrowLeft}', ' ');
    expect(announced(element)).toBe('Dropped Shop relaunch where it was, in Lead.');
    expect(moves(api.requests)).toHaveLength(0);
  });

  it('puts a picked-up deal back when the focus goes elsewhere', async () => {
    const { element, api } = await pipelineOf();
    await untilBoard(element);
    card(element, 'Bakery website').focus();
    await press(element, ' ', '{ArrowRight}');
    expect(namesIn(element, stageIds.qualified)).toContain('Bakery website');
    // A click on another deal.
    await userEvent.click(card(element, 'Logo design'));
    await element.updateComplete;
    expect(namesIn(element, stageIds.lead)).toEqual(['Bakery website', 'Shop relaunch']);
    expect(focused(element)).toBe('Logo design');
    expect(announced(element)).toBe('Move cancelled. Bakery website is back in Lead, position 1 of 2.');

    // Tab out of the board.
    card(element, 'Shop relaunch').focus();
    await press(element, ' ', '{ArrowRight}');
    const after = document.body.appendChild(document.createElement('button'));
    after.textContent = 'After the board';
    await press(element, '{Tab}');
    expect(document.activeElement).toBe(after);
    expect(namesIn(element, stageIds.lead)).toEqual(['Bakery website', 'Shop relaunch']);
    expect(summaryOf(element, stageIds.lead)).toBe('2 deals · €16,500.00');
    expect(moves(api.requests)).toHaveLength(0);
    after.remove();
  });

  it('puts the deal back and says so when the API fails the move', async () => {
    const { element, api } = await pipelineOf({ move: 'error' });
    await untilBoard(element);
    const moved = vi.fn();
    element.addEventListener('dm-crm-deal-moved', moved);
    card(element, 'Bakery website').focus();
    await press(element, ' ', '{ArrowRight}', '{ArrowRight}', '{ArrowRight}', '{Enter}');
    await vi.waitFor(() => expect(namesIn(element, stageIds.lead)).toEqual(['Bakery website', 'Shop relaunch']));
    expect(moves(api.requests)).toHaveLength(1);
    const failed = 'Bakery website could not be moved and is back in Lead. Please try again.';
    expect(text(part(element, 'notice'))).toBe(failed);
    expect(announced(element)).toBe(failed);
    expect(summaryOf(element, stageIds.lead)).toBe('2 deals · €16,500.00');
    expect(summaryOf(element, stageIds.won)).toBe('1 deal · €800.00');
    expect(moved).not.toHaveBeenCalled();
    // A failure is not a refusal: the board stays writable.
    expect(part(element, 'read-only')).toBeNull();
    await expectAccessible(element);
  });

  it('becomes read-only when the API refuses a move with 403, putting the deal back', async () => {
    const { element } = await pipelineOf({ move: 'forbidden' });
    await untilBoard(element);
    card(element, 'Bakery website').focus();
    await press(element, ' ', '{ArrowRight}', '{Enter}');
    await untilPart(element, 'read-only');
    expect(namesIn(element, stageIds.lead)).toEqual(['Bakery website', 'Shop relaunch']);
    expect(announced(element)).toBe(
      'You may not move deals, so this board is now read-only. Bakery website is back in Lead.',
    );
    expect(card(element, 'Bakery website').getAttribute('draggable')).toBe('false');
    await press(element, ' ');
    expect(announced(element)).toBe('This board is read-only for you.');
  });
});

describe('<dm-crm-pipeline> read-only', () => {
  it('offers no moving to a user whose token lacks crm:write, and says so', async () => {
    const { element, api } = await pipelineOf({ scopes: ['crm:read'] });
    await untilBoard(element);
    expect(text(part(element, 'read-only'))).toBe('Read-only: you can look at these deals but not move them.');
    const bakery = card(element, 'Bakery website');
    expect(bakery.getAttribute('draggable')).toBe('false');
    expect(bakery.hasAttribute('role')).toBe(false);
    expect(bakery.hasAttribute('aria-pressed')).toBe(false);
    expect(text(root(element).getElementById('instructions'))).toBe('Arrow keys go from deal to deal.');
    await expectAccessible(element);

    bakery.focus();
    await press(element, ' ', '{ArrowRight}', '{Enter}');
    expect(announced(element)).toBe('This board is read-only for you.');
    expect(focused(element)).toBe('SEO retainer');
    expect(namesIn(element, stageIds.lead)).toEqual(['Bakery website', 'Shop relaunch']);
    expect(moves(api.requests)).toHaveLength(0);
    // Without users:read, owners are not looked up (the API would refuse); contacts are.
    await vi.waitFor(() => expect(text(bakery.querySelector('[part~="contact"]'))).toBe('Ada Lovelace'));
    expect(bakery.querySelector('[part~="owner"]')).toBeNull();
    expect(api.requests.some((request) => new URL(request.url).pathname.startsWith('/v1/users/'))).toBe(false);
  });

  it("reads an OAuth access token's scopes from the token itself", async () => {
    const claims = btoa(JSON.stringify({ sub: 'user', scope: 'openid crm:read' })).replace(/=+$/, '');
    const jwt = `eyJhbGciOiJSUzI1NiJ9.${claims.replace(/\+/g, '-').replace(/\//g, '_')}.c2lnbmF0dXJl`;
    const { element, api } = await pipelineOf({}, { token: jwt });
    await untilBoard(element);
    expect(part(element, 'read-only')).not.toBeNull();
    expect(api.requests.some((request) => request.url.includes('/sessions/current'))).toBe(false);
    expect(api.requests[0]!.headers.get('authorization')).toBe(`Bearer ${jwt}`);
  });
});

describe('<dm-crm-pipeline> drag and drop', () => {
  it('moves a deal dragged onto another stage, and the totals follow', async () => {
    const { element, api } = await pipelineOf();
    await untilBoard(element);
    const moved = oneEvent(element, 'dm-crm-deal-moved');
    // A real drag in Chromium (pointer down, move, up): the column beside it, on screen.
    await userEvent.dragAndDrop(card(element, 'Shop relaunch'), column(element, stageIds.qualified));
    const { detail } = await moved;
    expect(detail).toMatchObject({ fromStageId: stageIds.lead, toStageId: stageIds.qualified });
    expect(detail.deal).toMatchObject({ name: 'Shop relaunch', stage_id: stageIds.qualified, status: 'open' });
    expect(namesIn(element, stageIds.qualified)).toContain('Shop relaunch');
    expect(namesIn(element, stageIds.lead)).toEqual(['Bakery website']);
    expect(summaryOf(element, stageIds.qualified)).toBe('2 deals · €5,490.00');
    expect(summaryOf(element, stageIds.lead)).toBe('1 deal · €12,000.00');
    expect(moves(api.requests)).toHaveLength(1);
    expect(announced(element)).toMatch(/^Dropped Shop relaunch in Qualified, position \d of 2\.$/);
    expect(part(element, 'drop-target')).toBeNull();
  });

  it('places a deal where it is dropped within its stage, and a won stage wins it', async () => {
    const { element, api } = await pipelineOf();
    await untilBoard(element);
    const lead = column(element, stageIds.lead);
    // Dragged below the last card of its own stage: it goes last.
    const reordered = oneEvent(element, 'dm-crm-deal-moved');
    drag(card(element, 'Bakery website'), lead, lead.getBoundingClientRect().bottom - 2);
    await element.updateComplete;
    expect(namesIn(element, stageIds.lead)).toEqual(['Shop relaunch', 'Bakery website']);
    expect((await reordered).detail).toMatchObject({ fromStageId: stageIds.lead, toStageId: stageIds.lead });
    expect(await moves(api.requests)[0]!.clone().json()).toEqual({ stage_id: stageIds.lead, before_deal_id: null });

    // Dropped on the Won stage's only card's upper half: first there, and won.
    const won = column(element, stageIds.won);
    const logo = card(element, 'Logo design').getBoundingClientRect();
    expect(logo.height).toBeGreaterThan(0);
    const moved = oneEvent(element, 'dm-crm-deal-moved');
    drag(card(element, 'Shop relaunch'), won, logo.top + 2);
    expect((await moved).detail.deal.status).toBe('won');
    expect(namesIn(element, stageIds.won)).toEqual(['Shop relaunch', 'Logo design']);
    expect(await moves(api.requests)[1]!.clone().json()).toEqual({
      stage_id: stageIds.won,
      before_deal_id: fixtureDeals[4]!.id,
    });
  });

  it('does not let a read-only user drag', async () => {
    const { element, api } = await pipelineOf({ scopes: ['crm:read'] });
    await untilBoard(element);
    await userEvent.dragAndDrop(card(element, 'Shop relaunch'), column(element, stageIds.won)).catch(() => {});
    await element.updateComplete;
    expect(namesIn(element, stageIds.lead)).toEqual(['Bakery website', 'Shop relaunch']);
    expect(moves(api.requests)).toHaveLength(0);
  });
});

describe('<dm-crm-pipeline> stories', () => {
  // What each story shows once rendered (and played).
  itRendersEveryStory('dm-crm-pipeline', stories, {
    Loading: 'loading',
    SignedOut: 'sign-in',
    ErrorState: 'error',
    NoPipelines: 'empty',
    EmptyPipeline: 'pipeline-empty',
    Board: 'card',
    Moved: 'card',
    ReadOnly: 'read-only',
    MoveRefused: 'read-only',
    MoveFailed: 'notice',
    MoreDeals: 'more',
    Dark: 'card',
    German: 'card',
    Accent: 'card',
  });
});
