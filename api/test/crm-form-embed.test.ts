import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { crmSite, publishCrm, type CrmSite } from './support/crm.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

/**
 * The contact form end to end: the plain HTML example page (examples/embed-snippet) served from its own
 * origin under a strict Content-Security-Policy with the one-line snippet, the platform on another origin
 * with the CRM published and installed, a visitor in the system Chromium — and the contact found through
 * the API afterwards.
 */
const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/embed-snippet');

let platform: TestPlatform;
let browser: Browser;
let host: Server;
let hostOrigin: string;
let site: CrmSite;

beforeAll(async () => {
  platform = await startTestPlatform({ browser: true });
  await publishCrm(platform);
  site = await crmSite(platform, 'Bakery');
  const snippet = `<script async src="${platform.url}/v1/embed/${site.publishableKey}.js"></script>`;
  host = createServer((req, res) => {
    const file = new URL(req.url!, 'http://host').pathname.slice(1) || 'index.html';
    if (file === 'index.html') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `default-src 'none'; script-src 'self' ${platform.url}; connect-src ${platform.url}; style-src 'self'; img-src 'self'; base-uri 'none'`,
      });
      const page = readFileSync(path.join(example, 'index.html'), 'utf8');
      res.end(page.replace(/<script async src="[^"]*"><\/script>/, snippet));
    } else if (file === 'favicon.ico') {
      res.writeHead(204).end();
    } else if (['site.css', 'site.js'].includes(file)) {
      res.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
      res.end(readFileSync(path.join(example, file)));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  hostOrigin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
  expect((await site.call('POST', `/v1/sites/${site.siteId}/origins`, { origin: hostOrigin })).status).toBe(201);
  const settings = await site.call('PATCH', `/v1/sites/${site.siteId}/installs/crm`, {
    settings: {
      'dm-contact-form': {
        title: 'Order a cake',
        fields: [
          { name: 'first_name', required: true },
          { name: 'last_name' },
          { name: 'email', required: true },
          { name: 'message', label: 'Your cake', required: true },
        ],
        consent: { enabled: true, text: 'The bakery may store my details to answer me.' },
        tags: ['website'],
      },
    },
  });
  expect(settings.status, settings.text).toBe(200);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (host ? host.close(() => resolve()) : resolve()));
  await platform?.close();
});

/** The site's contacts that `q` finds, through the API as the agency's owner. */
async function contacts(q: string) {
  const reply = await site.crm('GET', `/contacts?q=${encodeURIComponent(q)}`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data as Record<string, unknown>[];
}

/** As long as a person takes at the least: the API drops forms sent faster (2 s). */
const PERSON_MS = 2_200;

describe('the contact form on the plain HTML example page, through the one-line embed', () => {
  it('takes a visitor’s message, and the contact is then found through the API', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const complaints: string[] = [];
    page.on('pageerror', (error) => complaints.push(error.message));
    page.on('console', (message) => message.type() === 'error' && complaints.push(message.text()));
    await page.goto(`${hostOrigin}/?utm_source=flyer&utm_campaign=summer#order`, {
      referer: 'https://www.search.example/',
    });

    // The loader upgraded the placeholder with the install's settings; the FAQ (not installed) keeps its fallback.
    const form = page.locator('dm-contact-form');
    await form.locator('form[part~="form"]').waitFor({ timeout: 15_000 });
    expect(await form.locator('[part~="title"]').innerText()).toBe('Order a cake');
    expect(await page.locator('acme-faq .fallback').isVisible()).toBe(true);
    // The honeypot: a clipped pixel, hidden from assistive technology, out of the tab order.
    const trap = form.locator('[aria-hidden="true"]:has(input[name="website"])');
    const box = (await trap.boundingBox())!;
    expect(box.width * box.height).toBeLessThanOrEqual(1);
    expect(await form.locator('input[name="website"]').getAttribute('tabindex')).toBe('-1');

    // Sent empty: the browser's own messages, no request.
    await form.locator('[part~="submit"]').click();
    await form.locator('#e-email').waitFor();
    expect(await contacts('bakery')).toEqual([]);

    await form.getByLabel('First name').fill('Ada');
    await form.getByLabel('Last name').fill('Lovelace <3');
    await form.getByLabel('Email').fill('Ada@Example.com');
    await form.getByLabel('Your cake').fill('Three tiers, <b>chocolate</b>?');
    await form.getByLabel('The bakery may store my details').check();
    // Markup is refused in the browser already, in words a person understands.
    await form.locator('[part~="submit"]').click();
    expect(await form.locator('#e-message').innerText()).toMatch(/plain text/);
    await form.getByLabel('Your cake').fill('Three tiers, chocolate, for Saturday.');
    await page.waitForTimeout(PERSON_MS);
    await form.locator('[part~="submit"]').click();
    const status = form.locator('[part~="status"]');
    await form.locator('[part~="another"]').waitFor({ timeout: 10_000 });
    expect(await status.innerText()).toBe('Thank you! We will get back to you soon.');

    const [contact] = await contacts('ada@example.com');
    expect(contact).toMatchObject({
      first_name: 'Ada',
      last_name: 'Lovelace <3',
      emails: ['ada@example.com'],
      source: 'form',
      tags: ['website'],
      consent: {
        granted: true,
        text: 'The bakery may store my details to answer me.',
        page_url: `${hostOrigin}/?utm_source=flyer&utm_campaign=summer`,
      },
    });
    const timeline = await site.crm('GET', `/contacts/${contact!.id as string}/timeline`);
    expect(timeline.body.data[0]).toMatchObject({
      type: 'form.submitted',
      data: {
        fields: { message: 'Three tiers, chocolate, for Saturday.' },
        utm: { source: 'flyer', campaign: 'summer' },
        referrer: 'https://www.search.example/',
      },
    });

    // A bot filling the hidden field is thanked the same way, and leaves nothing behind.
    await form.locator('[part~="another"]').click();
    await form.getByLabel('First name').fill('Bot');
    await form.getByLabel('Email').fill('bot@spam.example');
    await form.getByLabel('Your cake').fill('Cheap pills');
    await form.getByLabel('The bakery may store my details').check();
    await form.locator('input[name="website"]').evaluate((input: HTMLInputElement) => {
      input.value = 'https://spam.example';
    });
    await page.waitForTimeout(PERSON_MS);
    await form.locator('[part~="submit"]').click();
    await form.locator('[part~="another"]').waitFor({ timeout: 10_000 });
    expect(await status.innerText()).toBe('Thank you! We will get back to you soon.');
    expect(await contacts('spam.example')).toEqual([]);
    expect(await contacts('ada')).toHaveLength(1);

    expect(complaints).toEqual([]);
    await context.close();
  });

  it('works in the iframe embed too, where the frame is no page of the site to record', async () => {
    const frameOrigin = platform.url.replace('localhost', `${site.siteId.replaceAll('-', '')}.frames.localhost`);
    const context = await browser.newContext();
    const page = await context.newPage();
    const complaints: string[] = [];
    page.on('pageerror', (error) => complaints.push(error.message));
    await page.goto(`${frameOrigin}/v1/frame/${site.publishableKey}.html?element=dm-contact-form`);
    const form = page.locator('dm-contact-form');
    await form.locator('form[part~="form"]').waitFor({ timeout: 15_000 });
    await form.getByLabel('First name').fill('Grace');
    await form.getByLabel('Email').fill('grace@example.com');
    await form.getByLabel('Your cake').fill('A small one.');
    await form.getByLabel('The bakery may store my details').check();
    await page.waitForTimeout(PERSON_MS);
    await form.locator('[part~="submit"]').click();
    await form.locator('[part~="another"]').waitFor({ timeout: 10_000 });
    const [contact] = await contacts('grace@example.com');
    expect(contact).toMatchObject({ first_name: 'Grace', consent: { granted: true, page_url: null } });
    expect(complaints).toEqual([]);
    await context.close();
  });
});
