import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, get as httpGet, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from './support/browser.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { faqModule, published, variant } from './support/modules.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

/**
 * The one-line embed, end to end: the plain HTML example (examples/embed-snippet) served from its own origin
 * under a strict Content-Security-Policy, the platform on another, the example module published and
 * installed, driven in the system Chromium.
 */
const site = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples/embed-snippet');

let platform: TestPlatform;
let agency: PopulatedAgency;
let browser: Browser;
let host: Server;
let hostOrigin: string;
let snippet: string;
/** A second site of the agency, whose FAQ floats: a launcher until a visitor opens it. */
const floating = { siteId: '', publishableKey: '' };
/** The agency's site's own frame origin: FRAME_URL's `*` is the site's id. */
const frameUrl = () => platform.url.replace('localhost', `${agency.siteId.replaceAll('-', '')}.frames.localhost`);

/** What the host page's server answers: the example's files, the snippet pointing at this platform. */
interface Variant {
  csp: (platformOrigin: string) => string;
  /** The only placeholder, far below the fold, instead of the one at the top. */
  below?: boolean;
  /** The snippet twice, as a careless page builder might leave it, after a queue stub the page calls. */
  twice?: boolean;
  /** The widget in an iframe instead of a placeholder (the loader still on the page, to size the frame). */
  frame?: boolean;
  /** The site whose widget floats (a launcher), and no placeholder on the page. */
  launcher?: boolean;
}
const variants: Record<string, Variant> = {
  strict: {
    csp: (api) =>
      `default-src 'none'; script-src 'self' ${api}; connect-src ${api}; style-src 'self'; img-src 'self'; base-uri 'none'`,
  },
  // No host list at all: only what carries the nonce, and what it loads (`strict-dynamic`).
  nonce: {
    csp: () =>
      `default-src 'none'; script-src 'nonce-r4nd0m' 'strict-dynamic'; connect-src *; style-src 'self'; img-src 'self'`,
  },
  below: {
    csp: (api) => `default-src 'self'; script-src 'self' ${api}; connect-src ${api}; style-src 'self'`,
    below: true,
  },
  twice: {
    csp: (api) => `default-src 'self'; script-src 'self' ${api}; connect-src ${api}; style-src 'self'`,
    twice: true,
  },
  launcher: {
    csp: (api) => `default-src 'self'; script-src 'self' ${api}; connect-src ${api}; style-src 'self'`,
    launcher: true,
  },
  frame: {
    csp: (api) =>
      `default-src 'self'; script-src 'self' ${api}; frame-src ${api.replace('localhost', '*.frames.localhost')}; style-src 'self'`,
    frame: true,
  },
};

function page(variant: Variant): string {
  let html = readFileSync(path.join(site, 'index.html'), 'utf8').replace(
    /<script async src="[^"]*"><\/script>/,
    variant.twice ? `<script src="queue.js"></script>\n${snippet}\n${snippet}` : snippet,
  );
  if (variant === variants.nonce) {
    html = html.replace(/<script /g, '<script nonce="r4nd0m" ');
  }
  if (variant.launcher) {
    html = html
      .replace(agency.publishableKey, floating.publishableKey)
      .replace(/<acme-faq>[\s\S]*<\/acme-faq>/, '<div class="spacer"></div><p id="below">The page goes on.</p>');
  }
  if (variant.frame) {
    const src = `${frameUrl()}/v1/frame/${agency.publishableKey}.html?element=acme-faq`;
    html = html.replace(
      /<acme-faq>[\s\S]*<\/acme-faq>/,
      `<iframe src="${src}" title="Questions" width="100%"></iframe>`,
    );
  }
  if (variant.below) {
    html = html
      .replace(/<acme-faq>[\s\S]*<\/acme-faq>/, '')
      .replace(
        '</main>',
        '</main><div class="spacer"></div><section id="far"><div data-dramac="acme-faq"></div></section>',
      );
  }
  return html;
}

beforeAll(async () => {
  platform = await startTestPlatform({ browser: true });
  agency = await populateAgency(platform, 'Bakery');
  host = createServer((req, res) => {
    const url = new URL(req.url!, 'http://host');
    const file = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    if (file === 'index.html') {
      const variant = variants[url.searchParams.get('variant') ?? 'strict']!;
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': variant.csp(platform.url),
      });
      res.end(page(variant));
    } else if (file === 'queue.js') {
      // The stub a page may put before the snippet, and a call it makes before the loader has arrived.
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(
        'window.dramac = window.dramac || function () { (dramac.q = dramac.q || []).push(arguments); };\n' +
          "dramac('on', 'faq:opened', function (detail) { document.body.setAttribute('data-heard', detail); });",
      );
    } else if (file === 'favicon.ico') {
      res.writeHead(204).end();
    } else if (['site.css', 'site.js'].includes(file)) {
      res.writeHead(200, { 'content-type': file.endsWith('.css') ? 'text/css' : 'text/javascript' });
      res.end(readFileSync(path.join(site, file)));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  hostOrigin = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
  const allowed = await platform.request('POST', `/v1/sites/${agency.siteId}/origins`, {
    token: agency.token,
    body: { origin: hostOrigin },
  });
  expect(allowed.status).toBe(201);
  snippet = `<script async src="${platform.url}/v1/embed/${agency.publishableKey}.js"></script>`;

  const { v1 } = await faqModule();
  await published(platform, agency.token, v1);
  const installed = await platform.request('POST', `/v1/sites/${agency.siteId}/installs`, {
    token: agency.token,
    body: { module_id: 'acme.faq', settings: { 'acme-faq': { title: 'Bakery questions' } } },
  });
  expect(installed.status).toBe(201);
  for (const [question, published] of [
    ['Do you bake on Sundays?', true],
    ['Secret recipe?', false],
  ] as const) {
    const reply = await platform.request('POST', `/v1/m/acme.faq/questions?site_id=${agency.siteId}`, {
      token: agency.token,
      body: { question, answer: `About: ${question}`, published },
    });
    expect(reply.status).toBe(201);
  }
  const created = async (path: string, body: unknown) => {
    const reply = await platform.request('POST', path, { token: agency.token, body });
    expect(reply.status, reply.text).toBe(201);
    return reply.body;
  };
  floating.siteId = (await created('/v1/sites', { client_id: agency.clientId, name: 'help.bakery.example' })).id;
  await created(`/v1/sites/${floating.siteId}/origins`, { origin: hostOrigin });
  floating.publishableKey = (
    await created('/v1/keys', { type: 'publishable', name: 'help', site_id: floating.siteId })
  ).secret;
  await published(
    platform,
    agency.token,
    variant(v1, (manifest) => {
      manifest.version = '3.0.0';
      manifest.elements![0]!.launcher = { label: 'Questions?' };
    }),
  );
  await created(`/v1/sites/${floating.siteId}/installs`, { module_id: 'acme.faq', version: '3.0.0' });
  await created(`/v1/m/acme.faq/questions?site_id=${floating.siteId}`, {
    question: 'Do you bake on Sundays?',
    answer: 'From eight.',
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (host ? host.close(() => resolve()) : resolve()));
  await platform?.close();
});

interface Visit {
  page: Page;
  warnings: string[];
  errors: string[];
  requests: string[];
}

/** Opens the host page; `block` makes requests matching it fail, as a broken network would. */
async function visit(variant = 'strict', block?: RegExp): Promise<Visit> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const visit: Visit = { page, warnings: [], errors: [], requests: [] };
  page.on('console', (message) => {
    if (message.type() === 'warning') visit.warnings.push(message.text());
    if (message.type() === 'error') visit.errors.push(message.text());
  });
  page.on('pageerror', (error) => visit.errors.push(error.message));
  page.on('request', (request) => visit.requests.push(request.url()));
  if (block) await page.route(block, (route) => route.abort());
  await page.goto(`${hostOrigin}/?variant=${variant}`);
  return visit;
}

const rendered = (page: Page, selector = 'acme-faq') =>
  page.waitForFunction(
    (css) => document.querySelector(css)?.shadowRoot?.textContent?.includes('Do you bake on Sundays?'),
    selector,
    { timeout: 10_000 },
  );

describe('the one-line snippet on a plain HTML page', () => {
  it('shows the installed widget with the site’s data, under a strict CSP, without errors', async () => {
    const { page, errors } = await visit();
    await rendered(page);
    const text = await page.evaluate(() => document.querySelector('acme-faq')!.shadowRoot!.textContent!);
    expect(text).toContain('Bakery questions');
    expect(text).not.toContain('Secret recipe?');
    expect(await page.textContent('#page-script')).toBe("The page's own script ran.");
    expect(await page.getAttribute('acme-faq', 'data-dramac-id')).toBe('dm-1');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('upgrades placeholders added after load, and imports the shared Lit runtime once', async () => {
    const { page, requests, errors } = await visit();
    await rendered(page);
    await page.evaluate(() => {
      const section = document.createElement('section');
      section.id = 'late';
      section.innerHTML = '<div data-dramac="acme-faq"></div>';
      document.querySelector('main')!.append(section);
    });
    await rendered(page, '#late acme-faq');
    expect(await page.getAttribute('#late acme-faq', 'data-dramac-id')).toBe('dm-2');
    expect(requests.filter((url) => url.includes('/v1/runtime/lit@3.js'))).toHaveLength(1);
    expect(requests.filter((url) => url.includes('/v1/bundles/'))).toHaveLength(1);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('takes from a stand-in only what configures a widget, never a handler or another API', async () => {
    const { page, errors } = await visit();
    await rendered(page);
    await page.evaluate(() => {
      const stand = document.createElement('div');
      for (const [name, value] of Object.entries({
        'data-dramac': 'acme-faq',
        'data-onfocus': 'window.__hijacked = true',
        'data-autofocus': '',
        'data-tabindex': '0',
        'data-api-base': 'https://evil.example',
        'data-lang': 'de',
        id: 'sanitized',
      })) {
        stand.setAttribute(name, value);
      }
      document.querySelector('main')!.append(stand);
    });
    await page.waitForFunction(() => document.querySelector('acme-faq[data-dramac-id="dm-2"]'));
    await page.waitForTimeout(300);
    const upgraded = await page.evaluate(() => {
      const element = document.querySelector('acme-faq[data-dramac-id="dm-2"]')!;
      return {
        attributes: element.getAttributeNames().sort(),
        apiBase: element.getAttribute('api-base'),
        hijacked: (window as unknown as { __hijacked?: boolean }).__hijacked ?? false,
      };
    });
    expect(upgraded).toEqual({
      attributes: ['api-base', 'data-dramac-id', 'key', 'lang'],
      apiBase: platform.url,
      hijacked: false,
    });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('works under a nonce-only policy, passing the snippet’s nonce on', async () => {
    const { page, errors } = await visit('nonce');
    await rendered(page);
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('loads a widget below the fold only as it nears the viewport', async () => {
    const { page, requests } = await visit('below');
    await page.waitForFunction(() => document.querySelector('#far acme-faq')?.hasAttribute('data-dramac-id'));
    await page.waitForTimeout(300);
    const bundles = () => requests.filter((url) => url.includes('/v1/bundles/')).length;
    expect(bundles()).toBe(0);
    await page.evaluate(() => document.querySelector('#far')!.scrollIntoView());
    await rendered(page, '#far acme-faq');
    expect(bundles()).toBe(1);
    await page.context().close();
  });

  it('leaves the page working, and the placeholder’s fallback in place, when the widget cannot load', async () => {
    const { page, warnings, errors } = await visit('strict', /\/v1\/bundles\//);
    await page.waitForFunction(() => document.querySelector('acme-faq')?.hasAttribute('data-dramac-id'));
    await page.waitForTimeout(500);
    expect(await page.textContent('acme-faq .fallback')).toBe('Our questions and answers are on their way.');
    expect(await page.textContent('#page-script')).toBe("The page's own script ran.");
    expect(warnings.filter((text) => text.startsWith('Dramac:'))).toEqual(['Dramac: <acme-faq> failed to load']);
    // The browser's own note of the failed request aside, nothing of ours complains.
    expect(errors.filter((text) => !text.includes('net::ERR_FAILED'))).toEqual([]);
    await page.context().close();
  });

  it('runs once however many copies of the snippet a page has, and keeps calls queued before it loaded', async () => {
    const { page, errors } = await visit('twice');
    await rendered(page);
    const state = await page.evaluate(() => ({
      ids: [...document.querySelectorAll('[data-dramac-id]')].map((element) => element.getAttribute('data-dramac-id')),
      globals: Object.keys(window).filter((name) => name.toLowerCase().includes('dramac')),
    }));
    expect(state.ids).toEqual(['dm-1']);
    expect(state.globals).toEqual(['dramac']);
    // The call queued before the loader arrived now hears the elements' events.
    await page.evaluate(() => document.dispatchEvent(new CustomEvent('dm-faq-opened', { detail: 'first question' })));
    expect(await page.getAttribute('body', 'data-heard')).toBe('first question');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('stops watching the page after dramac("destroy"), for SPAs tearing down', async () => {
    const { page } = await visit();
    await rendered(page);
    await page.evaluate(() => {
      (window as unknown as { dramac: (command: string) => void }).dramac('destroy');
      const late = document.createElement('div');
      late.setAttribute('data-dramac', 'acme-faq');
      late.id = 'after-destroy';
      document.body.append(late);
    });
    await page.waitForTimeout(300);
    expect(await page.locator('#after-destroy').evaluate((element) => element.localName)).toBe('div');
    await page.context().close();
  });

  it('hoists the theme’s tokens and fonts to the document (a shadow root would ignore @font-face)', async () => {
    const theme = {
      tokens: { '--dm-color-primary': '#aa3300' },
      fonts: [{ family: 'Bakery Sans', src: 'https://fonts.example/bakery.woff2', weight: '400 700' }],
    };
    const put = await platform.request('PUT', `/v1/sites/${agency.siteId}/theme`, { token: agency.token, body: theme });
    expect(put.status).toBe(200);
    const { page } = await visit();
    await rendered(page);
    const applied = await page.evaluate(() => ({
      primary: getComputedStyle(document.documentElement).getPropertyValue('--dm-color-primary').trim(),
      fonts: document.adoptedStyleSheets.flatMap((sheet) =>
        [...sheet.cssRules].filter((rule) => rule instanceof CSSFontFaceRule).map((rule) => rule.cssText),
      ),
    }));
    expect(applied.primary).toBe('#aa3300');
    expect(applied.fonts).toHaveLength(1);
    expect(applied.fonts[0]).toContain('Bakery Sans');
    await page.context().close();
    // The font cannot load here (no network): the other cases go without it.
    await platform.request('PUT', `/v1/sites/${agency.siteId}/theme`, { token: agency.token, body: { tokens: {} } });
  });

  it('sets no cookie and stores nothing', async () => {
    const { page } = await visit();
    await rendered(page);
    expect(await page.context().cookies()).toEqual([]);
    expect(await page.evaluate(() => [localStorage.length, sessionStorage.length])).toEqual([0, 0]);
    await page.context().close();
  });
});

/** A GET as a browser on FRAME_URL sends it (fetch may not set Host; node:http may). */
function asFrameHost(
  path: string,
  host = new URL(frameUrl()).host,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpGet(`${platform.url.replace('localhost', '127.0.0.1')}${path}`, { headers: { host } });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    request.on('error', reject);
  });
}

describe('a floating widget', () => {
  it('shows a light launcher, loads the module on first use, in a modal that gives focus and scroll back', async () => {
    const { page, requests, errors } = await visit('launcher');
    const launcher = page.locator('[data-dramac-launcher="acme-faq"]').locator('button[part="launcher"]');
    await launcher.waitFor();
    expect(await launcher.textContent()).toBe('Questions?');
    await page.waitForTimeout(300);
    expect(requests.filter((url) => url.includes('/v1/bundles/'))).toEqual([]);

    expect(await page.evaluate(() => (window.scrollTo(0, 40), window.scrollY))).toBe(40);
    await launcher.click();
    await rendered(page, '[data-dramac-launcher] acme-faq');
    expect(requests.filter((url) => url.includes('/v1/bundles/'))).toHaveLength(1);
    // The page behind is inert while the dialog is open, and does not scroll.
    const open = await page.evaluate(() => ({
      modal: document.querySelector('[data-dramac-launcher]')!.shadowRoot!.querySelector('dialog')!.matches(':modal'),
      overflow: document.documentElement.style.overflow,
      focus: document.querySelector('[data-dramac-launcher]')!.shadowRoot!.activeElement?.className,
    }));
    expect(open).toEqual({ modal: true, overflow: 'hidden', focus: 'close' });

    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.documentElement.style.overflow === '');
    const after = await page.evaluate(() => ({
      focused: document.activeElement?.getAttribute('data-dramac-launcher'),
      inner: document.activeElement?.shadowRoot?.activeElement?.getAttribute('part'),
      scroll: window.scrollY,
    }));
    expect(after).toEqual({ focused: 'acme-faq', inner: 'launcher', scroll: 40 });
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('comes only to the sites that have one', async () => {
    const plain = await platform.request('GET', `/v1/embed/${agency.publishableKey}.js`);
    expect(plain.text).not.toContain('launcher.js');
    const floats = await platform.request('GET', `/v1/embed/${floating.publishableKey}.js`);
    expect(floats.text).toContain('/v1/runtime/launcher.js');
    expect(floats.text).toContain('"label":"Questions?"');
  });
});

describe('the iframe embed', () => {
  it('shows the widget in a frame of its own origin, sized to its content by the loader', async () => {
    const { page, errors } = await visit('frame');
    const frame = page.frameLocator('iframe');
    await frame.locator('acme-faq').waitFor();
    await page.waitForFunction(
      () => (document.querySelector('iframe') as HTMLIFrameElement).style.height !== '',
      undefined,
      { timeout: 10_000 },
    );
    const heights = await page.evaluate(() => {
      const iframe = document.querySelector('iframe') as HTMLIFrameElement;
      return { frame: iframe.getBoundingClientRect().height, content: iframe.contentDocument === null };
    });
    // Cross-origin: the host page cannot look inside; it only learns the height the frame posts.
    expect(heights.content).toBe(true);
    expect(heights.frame).toBeGreaterThan(150);
    const text = await frame.locator('acme-faq').evaluate((element) => element.shadowRoot?.textContent ?? '');
    expect(text).toContain('Do you bake on Sundays?');
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it('does not show in a page of an origin the site does not allow', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const src = `${frameUrl()}/v1/frame/${agency.publishableKey}.html?element=acme-faq`;
    await page.goto(`${platform.url}/healthz`); // some page of another origin than the site's
    await page.evaluate((url) => {
      const frame = document.createElement('iframe');
      frame.src = url;
      document.body.append(frame);
    }, src);
    await page.waitForTimeout(1_000);
    const rendered = await Promise.all(
      page.frames().map((frame) =>
        frame
          .locator('acme-faq')
          .count()
          .catch(() => 0),
      ),
    );
    expect(rendered.reduce((a, b) => a + b, 0)).toBe(0);
    await context.close();
  });

  it('is served from FRAME_URL only, and only into the site’s allowed origins', async () => {
    const onApiOrigin = await fetch(`${platform.url}/v1/frame/${agency.publishableKey}.html?element=acme-faq`);
    expect(onApiOrigin.status).toBe(404);
    const framed = await fetch(`${platform.url}/v1/frame/x.html`);
    expect(framed.status).toBe(400);
    const page = await asFrameHost(`/v1/frame/${agency.publishableKey}.html?element=acme-faq`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain(`frame-ancestors https://bakery.example ${hostOrigin}`);
    expect(page.body).toContain('<acme-faq></acme-faq>');
    const notInstalled = await asFrameHost(`/v1/frame/${agency.publishableKey}.html?element=acme-other`);
    expect(notInstalled.status).toBe(404);
  });

  it('gives each site a frame origin of its own, which serves frames only and is that site’s key’s alone', async () => {
    const otherSite = new URL(frameUrl()).host.replace(
      agency.siteId.replaceAll('-', ''),
      floating.siteId.replaceAll('-', ''),
    );
    // This site's frame page is not served from another site's frame host.
    expect((await asFrameHost(`/v1/frame/${agency.publishableKey}.html?element=acme-faq`, otherSite)).status).toBe(404);
    // A frame host is no door into the API or the platform's pages.
    expect((await asFrameHost('/v1/sites')).status).toBe(404);
    expect((await asFrameHost('/docs')).status).toBe(404);
    // A key accepts its own site's frame origin, and not another site's.
    const fromOwn = await platform.request('GET', `/v1/public/site?key=${agency.publishableKey}`, {
      headers: { origin: frameUrl() },
    });
    expect(fromOwn.status).toBe(200);
    const fromOther = await platform.request('GET', `/v1/public/site?key=${agency.publishableKey}`, {
      headers: { origin: `http://${otherSite}` },
    });
    expect(fromOther.status).toBe(403);
  });
});

describe('the embed script', () => {
  it('carries the site’s configuration, revalidates with an ETag, and is refused for unknown keys', async () => {
    const path = `/v1/embed/${agency.publishableKey}.js`;
    const reply = await platform.request('GET', path);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(reply.text).toContain('"tag":"acme-faq"');
    expect(reply.text).toContain('"title":"Bakery questions"');
    expect(reply.text).not.toContain('__DRAMAC_CONFIG__');
    // What pages download goes compressed (the client here asks for gzip, deflate or brotli).
    expect(reply.headers.get('content-encoding')).toMatch(/^(gzip|br|deflate)$/);
    expect(reply.text).toContain('"runtime":{"url":"http://localhost:');
    const again = await platform.request('GET', path, { headers: { 'if-none-match': reply.headers.get('etag')! } });
    expect(again.status).toBe(304);
    const unknown = await platform.request('GET', '/v1/embed/pk_unknownunknownunknown.js');
    expect(unknown.status).toBe(404);
  });

  it('keeps what a site owner types from ending the script', async () => {
    const settings = { 'acme-faq': { title: '</script><script>alert(1)</script>\u2028' } };
    const update = await platform.request('PATCH', `/v1/sites/${agency.siteId}/installs/acme.faq`, {
      token: agency.token,
      body: { settings },
    });
    expect(update.status).toBe(200);
    const reply = await platform.request('GET', `/v1/embed/${agency.publishableKey}.js`);
    expect(reply.text).not.toContain('</script>');
    expect(reply.text).not.toContain('\u2028');
    expect(reply.text).toContain('\\u003c/script>');
  });
});

describe('byte budgets', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

  it('keeps the loader and the shared runtime within their size-limit budgets', async () => {
    const { stdout } = await promisify(execFile)('npx', ['size-limit', '--json'], { cwd: root });
    const results = JSON.parse(stdout) as { name: string; passed: boolean; size: number; sizeLimit: number }[];
    expect(results.map((result) => result.name)).toContain(
      "loader: the embed bootstrap, before the site's configuration is written into it",
    );
    for (const result of results) expect(result.size, result.name).toBeLessThanOrEqual(result.sizeLimit);
  });

  it('keeps the first widget on a page within 20 KB gzipped: loader, Lit runtime and the module', async () => {
    const { v1 } = await faqModule();
    const gzipped = (content: Buffer | string) => gzipSync(content, { level: 9 }).length;
    const loader = await platform.request('GET', `/v1/embed/${agency.publishableKey}.js`);
    const runtime = readFileSync(path.join(root, 'loader/dist/lit-runtime.js'));
    const module = Buffer.from(v1.files['acme-faq.js']!, 'base64');
    const total = gzipped(loader.text) + gzipped(runtime) + gzipped(module);
    expect(total).toBeLessThanOrEqual(20 * 1024);
  });
});
