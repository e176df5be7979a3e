import { randomUUID } from 'node:crypto';
import * as oauth from 'oauth4webapi';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { crmSite, publishCrm, type CrmSite } from './support/crm.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { UserAgent } from './support/user-agent.js';

/**
 * `<dm-crm-pipeline>` against the real platform, in the system Chromium: the CRM published (its elements
 * bundled as the registry serves them) and installed, a client's staff member signed in, a pipeline and deals
 * made through the API. App elements take bearer tokens, which the API accepts from its own origin only, so
 * the board's page is served at the platform's origin (a page the test answers there) and loads the
 * element's published bundle, as the platform's own screens would.
 */

const PASSWORD = 'correct horse battery';
const REDIRECT = 'http://localhost:7777/callback';

let platform: TestPlatform;
let site: CrmSite;
let browser: Browser;
/** The client's staff member: a `client_member`, who may change deals (crm:write) but not pipelines. */
let member: { id: string; email: string; token: string };
/** The published `dm-crm-pipeline.js`, at the platform. */
let bundleUrl: string;

beforeAll(async () => {
  platform = await startTestPlatform({ browser: true });
  await publishCrm(platform);
  site = await crmSite(platform, 'Board');
  const email = `${randomUUID()}@example.com`;
  const user = await platform.request('POST', '/v1/users', {
    token: site.token,
    body: { email, name: 'Sam Seller', role: 'client_member', client_id: site.clientId, password: PASSWORD },
  });
  expect(user.status, user.text).toBe(201);
  member = { id: user.body.id, email, token: await platform.signIn(email, PASSWORD, site.agencyId) };
  const version = await platform.request('GET', '/v1/modules/crm/versions/1.0.0', { token: site.token });
  expect(version.status, version.text).toBe(200);
  bundleUrl = version.body.files.find((file: { path: string }) => file.path === 'dm-crm-pipeline.js').url;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await platform?.close();
});

interface Board {
  page: Page;
  /** Every API request the page made, as `METHOD /path`. */
  requests: string[];
  /** The API's answers to the page, with the request's URL and Authorization header. */
  answers: { url: string; path: string; status: number; authorization?: string; body: any }[]; // eslint-disable-line @typescript-eslint/no-explicit-any -- bodies of every shape
  /** Uncaught errors and console errors of the page. */
  complaints: string[];
}

/** A page at the platform's origin with `<dm-crm-pipeline>` from its published bundle, given `token`. */
async function openBoard(token: string | undefined, attributes: Record<string, string> = {}): Promise<Board> {
  const page = await browser.newPage({ locale: 'en-US' });
  const requests: string[] = [];
  const answers: Board['answers'] = [];
  const complaints: string[] = [];
  page.on('pageerror', (error) => complaints.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') complaints.push(message.text());
  });
  const isApi = (url: URL) => url.pathname.startsWith('/v1/') && !/^\/v1\/(bundles|runtime)\//.test(url.pathname);
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (isApi(url)) requests.push(`${request.method()} ${url.pathname}`);
  });
  page.on('response', async (response) => {
    const url = new URL(response.url());
    if (!isApi(url)) return;
    const body: unknown = await response.json().catch(() => undefined);
    const { authorization } = await response.request().allHeaders();
    answers.push({ url: url.href, path: url.pathname, status: response.status(), authorization, body });
  });
  const attrs = Object.entries({ 'api-base': platform.url, 'site-id': site.siteId, ...attributes })
    .map(([name, value]) => `${name}="${value}"`)
    .join(' ');
  await page.route(`${platform.url}/crm-board.html`, (route) =>
    route.fulfill({
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Deals</title></head>
        <body><main><h1>Deals</h1><dm-crm-pipeline ${attrs}></dm-crm-pipeline></main>
        <script type="module" src="${bundleUrl}"></script></body></html>`,
    }),
  );
  await page.goto(`${platform.url}/crm-board.html`);
  // The token is a property, never an attribute: the page hands it over in script, as the platform's would.
  await page.evaluate(async (value) => {
    await customElements.whenDefined('dm-crm-pipeline');
    (document.querySelector('dm-crm-pipeline') as HTMLElement & { token?: string }).token = value;
  }, token);
  return { page, requests, answers, complaints };
}

/** The board's columns as the page shows them: stage name, summary (count and totals), deal names. */
async function columns(page: Page) {
  return page.locator('dm-crm-pipeline [part~="column"]').evaluateAll((nodes) =>
    nodes.map((node) => ({
      stage: node.querySelector('[part~="stage-name"]')!.textContent!.trim(),
      summary: node.querySelector('[part~="summary"]')!.textContent!.replace(/\s+/g, ' ').trim(),
      deals: [...node.querySelectorAll('[part~="deal-name"]')].map((name) => name.textContent!.trim()),
    })),
  );
}

/** The name of the deal that has the focus (looking through the shadow root), or ''. */
function focusedDeal(page: Page): Promise<string> {
  return page.evaluate(() => {
    let active = document.activeElement;
    while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
    return active?.querySelector('[part~="deal-name"]')?.textContent?.trim() ?? '';
  });
}

const announcement = (page: Page) => page.locator('dm-crm-pipeline [part~="announcer"]').innerText();

describe('<dm-crm-pipeline> on the platform', () => {
  it('asks for a sign-in without a token, and calls nothing', async () => {
    const { page, requests, complaints } = await openBoard(undefined);
    const signIn = page.locator('dm-crm-pipeline [part~="sign-in"]');
    await signIn.waitFor({ timeout: 15_000 });
    expect(await signIn.innerText()).toBe('Please sign in to see this.');
    expect(requests).toEqual([]);
    expect(complaints).toEqual([]);
    await page.close();
  });

  it('calls the API as the signed-in user: the session token in a header, never in a URL', async () => {
    const { page, answers } = await openBoard(member.token);
    await expect.poll(() => answers.find((answer) => answer.path === '/v1/sessions/current')).toBeDefined();
    // The platform takes the user's session from its own origin, and tells the element the user's scopes.
    const session = answers.find((answer) => answer.path === '/v1/sessions/current')!;
    expect(session.status).toBe(200);
    expect(session.body.scopes).toEqual(expect.arrayContaining(['crm:read', 'crm:write']));
    await expect.poll(() => answers.map((answer) => answer.path)).toContain(`/v1/sites/${site.siteId}/crm/pipelines`);
    for (const answer of answers) {
      expect(answer.authorization).toBe(`Bearer ${member.token}`);
      expect(answer.url).not.toContain(member.token);
      expect(new URL(answer.url).searchParams.has('key')).toBe(false);
    }
    await page.close();
  });

  describe('with the deals API', () => {
    let pipeline: { id: string; stages: { id: string; name: string }[] };
    const deals: Record<string, string> = {};

    beforeAll(async () => {
      // Pipelines are configuration (crm:admin: the agency's owner); deals are the staff member's work.
      pipeline = await site.create('/pipelines', {
        name: 'Sales',
        stages: [{ name: 'Lead' }, { name: 'Proposal' }, { name: 'Won', kind: 'won' }, { name: 'Lost', kind: 'lost' }],
      });
      const [lead, proposal] = pipeline.stages;
      for (const [name, stage, amount] of [
        ['Bakery website', lead!, 1_200_000],
        ['Shop relaunch', lead!, 450_000],
        ['Logo design', proposal!, 80_000],
      ] as const) {
        const reply = await platform.request('POST', `${site.base}/deals`, {
          token: member.token,
          body: { name, amount_minor: amount, currency: 'EUR', pipeline_id: pipeline.id, stage_id: stage.id },
        });
        expect(reply.status, reply.text).toBe(201);
        deals[name] = reply.body.id;
      }
    });

    it('moves a deal to another stage by keyboard only: the API has it there, the totals follow', async () => {
      const { page, requests, complaints } = await openBoard(member.token, { 'pipeline-id': pipeline.id });
      await page.locator('dm-crm-pipeline [part~="card"]').nth(2).waitFor({ timeout: 15_000 });
      expect(await columns(page)).toEqual([
        { stage: 'Lead', summary: '2 deals · €16,500.00', deals: ['Bakery website', 'Shop relaunch'] },
        { stage: 'Proposal', summary: '1 deal · €800.00', deals: ['Logo design'] },
        { stage: 'Won', summary: '0 deals · €0.00', deals: [] },
        { stage: 'Lost', summary: '0 deals · €0.00', deals: [] },
      ]);
      expect(await page.locator('dm-crm-pipeline [part~="read-only"]').count()).toBe(0);

      // Into the board with Tab, to the second deal, pick it up, one stage right, below Logo design, drop.
      await page.keyboard.press('Tab');
      expect(await focusedDeal(page)).toBe('Bakery website');
      await page.keyboard.press('ArrowDown');
      expect(await focusedDeal(page)).toBe('Shop relaunch');
      await page.keyboard.press('Space');
      expect(await announcement(page)).toContain('Picked up Shop relaunch in Lead, position 2 of 2.');
      await page.keyboard.press('ArrowRight');
      expect(await announcement(page)).toBe('Shop relaunch: Proposal, position 2 of 2.');
      await page.keyboard.press('Enter');
      expect(await announcement(page)).toBe('Dropped Shop relaunch in Proposal, position 2 of 2.');
      expect(await focusedDeal(page)).toBe('Shop relaunch');

      // The API has it there: its stage, and the board's totals.
      await expect
        .poll(async () => (await site.crm('GET', `/deals/${deals['Shop relaunch']}`)).body.stage_id)
        .toBe(pipeline.stages[1]!.id);
      const board = await platform.request('GET', `${site.base}/pipelines/${pipeline.id}/board`, {
        token: member.token,
      });
      expect(
        board.body.columns.map((column: { deal_count: number; totals: unknown[]; deals: { name: string }[] }) => ({
          count: column.deal_count,
          totals: column.totals,
          deals: column.deals.map((deal) => deal.name),
        })),
      ).toEqual([
        { count: 1, totals: [{ currency: 'EUR', amount_minor: 1_200_000 }], deals: ['Bakery website'] },
        {
          count: 2,
          totals: [{ currency: 'EUR', amount_minor: 530_000 }],
          deals: ['Logo design', 'Shop relaunch'],
        },
        { count: 0, totals: [], deals: [] },
        { count: 0, totals: [], deals: [] },
      ]);
      // The page showed the same at once, and shows it again from the API after a reload.
      const expected = [
        { stage: 'Lead', summary: '1 deal · €12,000.00', deals: ['Bakery website'] },
        { stage: 'Proposal', summary: '2 deals · €5,300.00', deals: ['Logo design', 'Shop relaunch'] },
        { stage: 'Won', summary: '0 deals · €0.00', deals: [] },
        { stage: 'Lost', summary: '0 deals · €0.00', deals: [] },
      ];
      expect(await columns(page)).toEqual(expected);
      expect(requests.filter((request) => request.startsWith('POST '))).toEqual([
        `POST ${site.base}/deals/${deals['Shop relaunch']}/move`,
      ]);
      expect(complaints).toEqual([]);
      await page.reload();
      await page.evaluate(async (value) => {
        await customElements.whenDefined('dm-crm-pipeline');
        (document.querySelector('dm-crm-pipeline') as HTMLElement & { token?: string }).token = value;
      }, member.token);
      await page.locator('dm-crm-pipeline [part~="card"]').nth(2).waitFor({ timeout: 15_000 });
      expect(await columns(page)).toEqual(expected);
      await page.close();
    });

    it('gives a client user whose token lacks crm:write a read-only board', async () => {
      // An app acting for the staff member with crm:read only: an OAuth access token, as a user signs it in.
      const app = await platform.request('POST', '/v1/oauth-clients', {
        token: site.token,
        body: { type: 'app', name: 'Board viewer', scopes: ['crm:read'], redirect_uris: [REDIRECT] },
      });
      expect(app.status, app.text).toBe(201);
      const accessToken = await signInWithOAuth(app.body, 'crm:read', { email: member.email, password: PASSWORD });
      const refused = await platform.request('POST', `${site.base}/deals/${deals['Bakery website']}/move`, {
        token: accessToken,
        body: { stage_id: pipeline.stages[2]!.id },
      });
      expect(refused.status).toBe(403);

      const { page, requests, complaints } = await openBoard(accessToken, { 'pipeline-id': pipeline.id });
      const readOnly = page.locator('dm-crm-pipeline [part~="read-only"]');
      await readOnly.waitFor({ timeout: 15_000 });
      expect(await readOnly.innerText()).toBe('Read-only: you can look at these deals but not move them.');
      const card = page.locator('dm-crm-pipeline [part~="card"]').first();
      expect(await card.getAttribute('draggable')).toBe('false');
      expect(await card.getAttribute('role')).toBeNull();

      await page.keyboard.press('Tab');
      expect(await focusedDeal(page)).toBe('Bakery website');
      await page.keyboard.press('Space');
      expect(await announcement(page)).toBe('This board is read-only for you.');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Enter');
      expect((await columns(page))[0]!.deals).toEqual(['Bakery website']);
      expect(requests.filter((request) => request.startsWith('POST '))).toEqual([]);
      expect(complaints).toEqual([]);
      await page.close();
    });
  });
});

/** The authorization code flow with PKCE, as the person would go through it in a browser; the access token. */
async function signInWithOAuth(
  app: { id: string; secret: string },
  scope: string,
  person: { email: string; password: string },
): Promise<string> {
  const insecure = { [oauth.allowInsecureRequests]: true };
  const issuer = new URL(platform.url);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
  const client = { client_id: app.id };
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: app.id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  }).toString();
  const agent = new UserAgent();
  const backToApp = (location: URL) => location.href.startsWith(REDIRECT);
  let step = await agent.follow(url, backToApp);
  for (let page = 0; page < 4 && !backToApp(step.url); page += 1) {
    const html = step.visit.text;
    const answer = html.includes('/login"')
      ? await agent.submit(step.url, html, { email: person.email, password: person.password }, '/login')
      : await agent.submit(step.url, html, {}, '/confirm');
    step = await agent.follow(new URL(answer.location!), backToApp);
  }
  const params = oauth.validateAuthResponse(as, client, step.url, state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.ClientSecretBasic(app.secret),
    params,
    REDIRECT,
    verifier,
    insecure,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
  expect(tokens.scope).toBe(scope);
  return tokens.access_token;
}
