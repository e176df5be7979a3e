import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTemplate } from '../../examples/templates/build.js';
import { seedDemoBooking, seedDemoModule } from '../src/demo-module.js';
import { launchChromium } from './support/browser.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

// Where a reviewer finds the configurator's screenshot (test-results/ is CI's output directory, git-ignored).
const SCREENSHOT = fileURLToPath(new URL('../../test-results/studio.png', import.meta.url));
const STORYBOOK_SCREENSHOT = fileURLToPath(new URL('../../test-results/storybook-docs.png', import.meta.url));

/** How long an element may take to show its first data: in CI this file shares two cores with other suites. */
const FIRST_RENDER_MS = 40_000;

let platform: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  platform = await startTestPlatform({ demo: true });
  // As `npm start` does: the demo agency publishes the modules and installs them on its one site.
  await seedDemoModule(platform.url, platform.demo!);
  await seedDemoBooking(platform.url, platform.demo!);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await platform?.close();
});

/** The first weekday heading of the `<dm-booking>` month grid that `scope` holds (`Sun`, `Mon`, …). */
const firstWeekday = (page: Page, scope: string) =>
  page.locator(`${scope} dm-booking [part~="grid"] th >> nth=0`).locator('[aria-hidden="true"]').innerText();

async function signIn(page: Page): Promise<void> {
  await page.goto(`${platform.url}/studio`);
  await page.getByLabel('Email').fill(platform.demo!.email);
  await page.getByLabel('Password').fill(platform.demo!.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('the agency studio at /studio', { timeout: 120_000 }, () => {
  it('configures the booking widget with a live preview, saves, and the site shows the new settings', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const complaints: string[] = [];
    page.on('pageerror', (error) => complaints.push(error.message));
    page.on('console', (message) => message.type() === 'error' && complaints.push(message.text()));
    // Opening the site makes the preview key; the agency picks a module before it is made (held here until
    // then), and the pick sticks.
    let picked!: () => void;
    const modulePicked = new Promise<void>((resolve) => (picked = resolve));
    await page.route('**/v1/keys', async (route) => {
      if (route.request().method() === 'POST') await modulePicked;
      await route.continue();
    });
    await signIn(page);
    // The demo agency has one client with one site: both open at once; the module is picked here.
    await page.getByLabel('Module').selectOption('booking');
    picked();
    // No routing from here: a route on the page would hold back the key's revocation as the page closes.
    await page.unrouteAll({ behavior: 'wait' });
    // The form is the module's settings schema: its colour and its first day of the week among them.
    await expect.poll(() => page.getByLabel('First day of week').inputValue()).toBe('monday');
    // The preview reads the site's real data: the demo bakery's one service, its month of free days.
    await page
      .locator('[data-preview] dm-booking [part~="grid"]')
      .waitFor({ timeout: FIRST_RENDER_MS })
      .catch(async (error: Error) => {
        // Say what showed instead (an error state, a refused origin…) and what the page complained of.
        const shown = await page.getByRole('region', { name: 'Preview' }).innerText();
        const inside = await page
          .locator('[data-preview] dm-booking')
          .evaluate((host) => host.shadowRoot?.textContent ?? '(no shadow root)')
          .catch(() => '(no element)');
        throw new Error(`${error.message}\nPreview: ${shown}\nIts element: ${inside}\nPage: ${complaints.join(' | ')}`);
      });
    expect(await firstWeekday(page, '[data-preview]')).toBe('Mon');

    await page.getByLabel('Accent color').fill('#aa3300');
    await page.getByLabel('First day of week').selectOption('sunday');
    // Unsaved edits show in the preview at once.
    await expect.poll(() => firstWeekday(page, '[data-preview]')).toBe('Sun');
    const previewAccent = () =>
      page.locator('[data-preview] dm-booking').evaluate((host) => host.style.getPropertyValue('--_dm-primary'));
    await expect.poll(previewAccent).toBe('#aa3300');

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor({ timeout: 10_000 });

    // The snippets, before and after a key is made for them; and the check of where they will be pasted.
    const loader = page.locator('[data-snippet="loader"]');
    expect(await loader.innerText()).toContain(`${platform.url}/v1/embed/pk_YOUR_PUBLISHABLE_KEY.js`);
    expect(await page.locator('[data-snippet="iframe"]').innerText()).toContain('/v1/frame/');
    expect(await page.locator('[data-snippet="npm"]').innerText()).toContain("import '@dramac/components/booking'");
    await page.getByRole('button', { name: 'Create a key for this embed' }).click();
    await expect.poll(() => loader.innerText()).toMatch(/\/v1\/embed\/pk_(?!YOUR)[\w-]+\.js/);
    await page.getByLabel('The page’s address').fill('https://www.bakery.example/book');
    await page.locator('[data-origin-check="refused"]').waitFor();
    await page.getByRole('button', { name: 'Allow https://www.bakery.example' }).click();
    await page.locator('[data-origin-check="allowed"]').waitFor();
    fs.mkdirSync(fileURLToPath(new URL('.', `file://${SCREENSHOT}`)), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);

    // What was saved is what the API holds: the install's settings and the site's new origin.
    const token = await platform.signIn(platform.demo!.email, platform.demo!.password);
    const sites = await platform.request('GET', '/v1/sites', { token });
    const siteId = sites.body.data[0].id as string;
    const install = await platform.request('GET', `/v1/sites/${siteId}/installs/booking`, { token });
    expect(install.body.settings['dm-booking']).toMatchObject({ accent_color: '#aa3300', first_day_of_week: 'sunday' });
    const origins = await platform.request('GET', `/v1/sites/${siteId}/origins`, { token });
    expect(origins.body.data.map((one: { origin: string }) => one.origin)).toContain('https://www.bakery.example');
    // Leaving the studio revokes its preview key; the key made for the snippet stays.
    await page.close({ runBeforeUnload: true });
    await expect
      .poll(async () => {
        const keys = await platform.request('GET', '/v1/keys', { token });
        return keys.body.data
          .filter((key: { revoked_at: string | null }) => !key.revoked_at)
          .map((key: { name: string }) => key.name);
      })
      .not.toContain('Agency studio preview');
    expect(complaints).toEqual([]);

    // The plain HTML example page, embedded with the one-line loader, shows the saved settings.
    const site = await browser.newPage();
    await site.goto(`${platform.url}/`);
    await site.locator('main dm-booking [part~="grid"]').waitFor({ timeout: FIRST_RENDER_MS });
    expect(await firstWeekday(site, 'main')).toBe('Sun');
    expect(await site.locator('main dm-booking').evaluate((host) => host.style.getPropertyValue('--_dm-primary'))).toBe(
      '#aa3300',
    );
    await site.close();
  });

  it('previews a third party’s element in the iframe embed, on the site’s frame origin, with the edits posted to it', async () => {
    const page = await browser.newPage();
    const complaints: string[] = [];
    page.on('pageerror', (error) => complaints.push(error.message));
    page.on('console', (message) => message.type() === 'error' && complaints.push(message.text()));
    await signIn(page);
    // The studio carries the first-party elements only; acme.faq's code runs in a frame of another origin,
    // where it reaches nothing of the studio's (the session above all).
    await page.getByLabel('Module').selectOption('acme.faq');
    const frame = page.locator('[data-preview] iframe');
    await frame.waitFor({ timeout: FIRST_RENDER_MS });
    expect(new URL((await frame.getAttribute('src'))!).host).toMatch(/^[0-9a-f]{32}\.frames\.localhost:\d+$/);
    expect(await frame.getAttribute('sandbox')).not.toContain('allow-top-navigation');
    const faq = frame.contentFrame().locator('acme-faq');
    await faq.getByText('Do you bake on Sundays?').waitFor({ timeout: FIRST_RENDER_MS });
    expect(await page.evaluate(() => customElements.get('acme-faq') === undefined)).toBe(true);
    // The saved settings, then unsaved edits of a setting and of the theme, reach it.
    expect(await faq.locator('[part="title"]').innerText()).toBe('Questions about the bakery');
    await page.getByLabel('Title').fill('<b>Ask</b> us');
    await expect.poll(() => faq.locator('[part="title"]').innerText()).toBe('<b>Ask</b> us');
    await page.locator('[id="token--dm-color-primary"]').fill('#aa3300');
    await expect
      .poll(() => faq.evaluate((host) => getComputedStyle(host).getPropertyValue('--dm-color-primary').trim()))
      .toBe('#aa3300');
    // The frame tells its height, and the studio sizes the frame to it.
    await expect.poll(async () => (await frame.boundingBox())!.height).toBeGreaterThan(100);
    expect(complaints).toEqual([]);

    // A third party's screen for signed-in users would need the session: it is not previewed.
    const token = await platform.signIn(platform.demo!.email, platform.demo!.password);
    expect((await platform.request('POST', '/v1/modules', { token, body: await buildTemplate('app') })).status).toBe(
      201,
    );
    const siteId = (await platform.request('GET', '/v1/sites', { token })).body.data[0].id as string;
    const installed = await platform.request('POST', `/v1/sites/${siteId}/installs`, {
      token,
      body: { module_id: 'starter.tasks' },
    });
    expect(installed.status, installed.text).toBe(201);
    await page.reload();
    await page.getByLabel('Email').fill(platform.demo!.email);
    await page.getByLabel('Password').fill(platform.demo!.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Module').selectOption('starter.tasks');
    const refusal = page.locator('[data-preview-refusal]');
    await refusal.waitFor();
    expect(await refusal.innerText()).toContain('would hand it your session');
    expect(await page.locator('[data-preview]').count()).toBe(0);
    await page.close();
  });

  it('signs out, ending the session at the API; a session that ends while open returns to the sign-in form', async () => {
    const page = await browser.newPage();
    const tokens = new Set<string>();
    page.on('request', (request) => {
      const bearer = request.headers().authorization?.match(/^Bearer (ses_\S+)$/)?.[1];
      if (bearer) tokens.add(bearer);
    });
    await signIn(page);
    await page.getByLabel('Module').waitFor();
    expect(tokens.size).toBe(1);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('status').filter({ hasText: 'Signed out' }).waitFor();
    expect(await page.getByLabel('Password').isVisible()).toBe(true);
    const [ended] = tokens;
    expect((await platform.request('GET', '/v1/sessions/current', { token: ended })).status).toBe(401);

    // Signed in again, the session expires under the studio: the next step says so and asks for a sign-in.
    await page.getByLabel('Email').fill(platform.demo!.email);
    await page.getByLabel('Password').fill(platform.demo!.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Module').waitFor();
    await platform.db.knex('sessions').update({ expires_at: platform.db.knex.raw(`now() - interval '1 minute'`) });
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('status').filter({ hasText: 'Your session has ended' }).waitFor();
    expect(await page.getByLabel('Password').isVisible()).toBe(true);
    expect(await page.getByRole('alert').count()).toBe(0);
    await page.close();
  });

  it('says why a sign-in failed, and stays on the sign-in form', async () => {
    const page = await browser.newPage();
    await page.goto(`${platform.url}/studio`);
    await page.getByLabel('Email').fill(platform.demo!.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/password|credentials/i);
    expect(await page.getByLabel('Password').isVisible()).toBe(true);
    await page.close();
  });

  it('serves the Storybook build: stories with controls from the settings schema, docs from the manifest', async () => {
    const moved = await fetch(`${platform.url}/studio/storybook`, { redirect: 'manual' });
    expect(moved.status).toBe(301);
    expect(moved.headers.get('location')).toBe('/studio/storybook/');
    const index = (await (await fetch(`${platform.url}/studio/storybook/index.json`)).json()) as {
      entries: Record<string, { type: string; title: string }>;
    };
    const titles = new Set(Object.values(index.entries).map((entry) => entry.title));
    expect([...titles].filter((title) => title.endsWith('/dm-booking'))).toHaveLength(1);

    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const complaints: string[] = [];
    page.on('pageerror', (error) => complaints.push(error.message));
    page.on('console', (message) => message.type() === 'error' && complaints.push(message.text()));
    // A setting edited in Storybook's controls (here through the URL, as a shared link carries it) reaches the
    // element as an install setting; a theme token reaches it as a custom property.
    const story = 'modules-booking-dm-booking--calendar-with-slots';
    await page.goto(
      `${platform.url}/studio/storybook/iframe.html?id=${story}&viewMode=story&args=setting_first_day_of_week:sunday;token--dm-color-primary:!hex(aa3300)`,
    );
    await page.locator('dm-booking [part~="grid"]').waitFor({ timeout: FIRST_RENDER_MS });
    await expect.poll(() => firstWeekday(page, 'body')).toBe('Sun');
    expect(
      await page
        .locator('dm-booking')
        .evaluate((host) => getComputedStyle(host).getPropertyValue('--dm-color-primary').trim()),
    ).toBe('#aa3300');

    // The docs page: the element's API from the Custom Elements Manifest, and the settings and theme controls.
    await page.goto(`${platform.url}/studio/storybook/iframe.html?id=modules-booking-dm-booking--docs&viewMode=docs`);
    const docs = page.locator('#storybook-docs');
    await docs.getByText('time-zone', { exact: true }).first().waitFor({ timeout: FIRST_RENDER_MS });
    const text = await docs.innerText();
    for (const expected of ['api-base', 'first_day_of_week', 'accent_color', '--dm-color-primary']) {
      expect(text).toContain(expected);
    }
    await page.screenshot({ path: STORYBOOK_SCREENSHOT });

    // A module template's element is documented the same way: its manifest's settings, its own attributes.
    await page.goto(
      `${platform.url}/studio/storybook/iframe.html?id=templates-widget-starter-notice--docs&viewMode=docs`,
    );
    await docs.getByText('dismissible', { exact: true }).first().waitFor({ timeout: FIRST_RENDER_MS });
    const template = await docs.innerText();
    for (const expected of ['api-base', 'tone', 'dismissible', '--dm-color-primary'])
      expect(template).toContain(expected);
    expect(complaints).toEqual([]);
    await page.close();
  });

  it('is served under a strict CSP that no other site may frame', async () => {
    const response = await fetch(`${platform.url}/studio`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    // It frames the iframe embed's origins alone (the previews of third parties' elements).
    expect(csp).toMatch(/; frame-src http:\/\/\*\.frames\.localhost:\d+$/);
    expect(await response.text()).not.toContain('%DRAMAC_FRAME_URL%');
  });
});
