import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { faqModule, published } from './support/modules.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

/**
 * The framework examples (examples/react-app, examples/vue-app), end to end: each built with Vite as
 * `npm run build` would, its env vars pointing at a real platform, served from its own origin (one of the
 * site's allowed origins) and opened in the system Chromium. The FAQ module is published and installed, so
 * `<dm-collection-list>` lists the site's questions with the publishable key `init()` was given.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const questions = [
  { question: 'Do you bake on Sundays?', answer: 'Yes, from 7 to 12.', published: true },
  { question: 'Do you deliver?', answer: 'Within 5 km, for orders over 20 €.', published: true },
  { question: 'Secret recipe?', answer: 'Not for visitors.', published: false },
];

let platform: TestPlatform;
let agency: PopulatedAgency;
let browser: Browser;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  platform = await startTestPlatform({ browser: true });
  agency = await populateAgency(platform, 'Frameworks');
  const { v1 } = await faqModule();
  await published(platform, agency.token, v1);
  const installed = await platform.request('POST', `/v1/sites/${agency.siteId}/installs`, {
    token: agency.token,
    body: { module_id: 'acme.faq' },
  });
  expect(installed.status).toBe(201);
  for (const body of questions) {
    const reply = await platform.request('POST', `/v1/m/acme.faq/questions?site_id=${agency.siteId}`, {
      token: agency.token,
      body,
    });
    expect(reply.status).toBe(201);
  }
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  for (const cleanup of cleanups.reverse()) await cleanup();
  await platform?.close();
});

/** `VITE_DRAMAC_URL=… VITE_DRAMAC_KEY=… vite build`, into a temporary directory. */
async function buildExample(example: string): Promise<string> {
  const outDir = await mkdtemp(path.join(tmpdir(), `dramac-${path.basename(example)}-`));
  cleanups.push(() => rm(outDir, { recursive: true, force: true }));
  const env = { VITE_DRAMAC_URL: platform.url, VITE_DRAMAC_KEY: agency.publishableKey };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env); // Vite reads `VITE_…` variables from the environment, as on the command line
  try {
    await build({ root: path.join(root, example), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return outDir;
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

/** Serves a built app from an origin of its own, which the site then allows; returns that origin. */
async function serve(dir: string): Promise<string> {
  const server: Server = createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url!, 'http://app').pathname);
    const file = path.join(dir, pathname === '/' ? 'index.html' : pathname);
    if (!file.startsWith(dir + path.sep)) return void res.writeHead(404).end();
    readFile(file).then(
      (content) => {
        res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
        res.end(content);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const allowed = await platform.request('POST', `/v1/sites/${agency.siteId}/origins`, {
    token: agency.token,
    body: { origin },
  });
  expect(allowed.status).toBe(201);
  return origin;
}

describe.each([
  ['React', 'examples/react-app'], // the @dramac/components/react wrappers
  ['Vue', 'examples/vue-app'], // the elements themselves
])('the %s example', (_name, example) => {
  it('builds with Vite, lists the site’s questions, and puts the chosen answer in the app’s own state', async () => {
    const origin = await serve(await buildExample(example));
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));
    page.on(
      'response',
      (response) => response.status() >= 400 && errors.push(`${response.status()} ${response.url()}`),
    );
    await page.goto(origin);

    // Playwright's CSS selectors reach into the element's (open) shadow root.
    const options = page.locator('dm-collection-list [role="option"]');
    await options.first().waitFor({ timeout: 10_000 });
    const shown = await options.allTextContents();
    expect(shown).toHaveLength(2); // the unpublished question is not for visitors
    for (const { question, answer } of questions.filter((q) => q.published)) {
      expect(shown.some((text) => text.includes(question) && text.includes(answer))).toBe(true);
    }
    // The typed client init() returned reaches the same API with the same key.
    await page.locator('h1', { hasText: 'Questions of Frameworks.example' }).waitFor({ timeout: 5_000 });
    expect(await page.textContent('#answer')).toContain('Pick a question.');

    // A click in the element's shadow DOM → `dm-select` → the framework's state → its own markup.
    for (const { question, answer } of [questions[1]!, questions[0]!]) {
      await options.filter({ hasText: question }).click();
      await page.locator('[data-testid="answer"]', { hasText: answer }).waitFor({ timeout: 5_000 });
      expect(await page.textContent('#answer h2')).toBe(question);
      expect(await options.filter({ hasText: question }).getAttribute('aria-selected')).toBe('true');
    }
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('the React example’s types', () => {
  // The root tsconfig.json leaves it out (JSX needs `"jsx": "react-jsx"`); its own tsconfig.json checks it.
  it('type-check with its own tsconfig.json', async () => {
    const run = promisify(execFile)('npx', ['tsc', '--noEmit', '-p', 'examples/react-app'], { cwd: root });
    await expect(run).resolves.toMatchObject({ stdout: '' });
  });
});
