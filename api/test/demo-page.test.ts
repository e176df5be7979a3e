import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoModule } from '../src/demo-module.js';
import { launchChromium } from './support/browser.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  platform = await startTestPlatform({ demo: true });
  await seedDemoModule(platform.url, platform.demo!);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await platform?.close();
});

/** Opens a page and returns what its site panel ends up showing, and what the console complained about. */
async function visit(url: string) {
  const page = await browser.newPage();
  const complaints: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') complaints.push(message.text());
  });
  page.on('pageerror', (error) => complaints.push(error.message));
  await page.goto(url);
  const panel = page.locator('#site[data-state]');
  await panel.waitFor();
  const result = { state: await panel.getAttribute('data-state'), text: await panel.innerText(), complaints };
  await page.close();
  return result;
}

describe('the demo site page that npm start serves', () => {
  it('reaches the API with its publishable key, under a strict CSP, with no console errors', async () => {
    const { state, text, complaints } = await visit(`${platform.url.replace('127.0.0.1', 'localhost')}/`);
    expect(state).toBe('connected');
    expect(text).toContain('demo-bakery.example');
    expect(complaints, complaints.join('\n')).toEqual([]);
  });

  it('shows the example widget, set up through the API and embedded with the one-line snippet', async () => {
    const page = await browser.newPage();
    await page.goto(`${platform.url}/`);
    await page.waitForFunction(
      () => document.querySelector('acme-faq')?.shadowRoot?.textContent?.includes('Do you bake on Sundays?'),
      undefined,
      { timeout: 10_000 },
    );
    expect(await page.locator('acme-faq').getAttribute('data-dramac-id')).toBe('dm-1');
    await page.close();
  });

  it('is refused from an origin the site does not allow', async () => {
    // The same page served from 127.0.0.1 is another origin than the allowed http://localhost:PORT.
    const { state, complaints } = await visit(`${platform.url.replace('localhost', '127.0.0.1')}/`);
    expect(state).toBe('error');
    expect(complaints.join('\n')).toMatch(/CORS|Access-Control-Allow-Origin/);
  });
});
