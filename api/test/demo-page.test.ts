import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

/** The system Chromium (Debian's `chromium` package); never a browser a tool downloads. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let platform: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.`);
  }
  platform = await startTestPlatform({ demo: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
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

  it('is refused from an origin the site does not allow', async () => {
    // The same page served from 127.0.0.1 is another origin than the allowed http://localhost:PORT.
    const { state, complaints } = await visit(`${platform.url.replace('localhost', '127.0.0.1')}/`);
    expect(state).toBe('error');
    expect(complaints.join('\n')).toMatch(/CORS|Access-Control-Allow-Origin/);
  });
});
