/**
 * `npm run bench:embed`: what the one-line embed costs the plain HTML example page (examples/embed-snippet) in
 * headless Chromium, against the real platform with the example module (examples/faq-module) published and
 * installed — the same set-up as api/test/embed.test.ts, through its helpers.
 *
 * 1. Bytes for the first widget on a page: the embed script (loader + the site's configuration), the shared Lit
 *    runtime and the module's bundle, as the browser fetched them (CDP: body bytes on the wire, and with
 *    headers), and gzip -9 of the same bodies (what a CDN or compression middleware would send; the platform
 *    does not compress responses today). Budget: ≤ 20 KB gzipped in all.
 * 2. Time from navigation start to the widget's first render (its shadow root shows a question), median and
 *    p90 over BENCH_RUNS fresh browser contexts (cold cache), and for a second load in the same context (warm).
 * 3. Cumulative Layout Shift of the page with the snippet and of the same page without it (the placeholder and
 *    its fallback left in place), collected once the widget rendered + 500 ms. The widget must add none.
 *
 * The baseline is the same page without the snippet, measured in the same run, interleaved with the widget's
 * runs. A benchmark, not a test: budget misses print FAIL, only crashes exit non-zero.
 *
 * Environment (all optional):
 *   BENCH_RUNS     runs per variant (default 15)
 *   DATABASE_URL   a PostgreSQL server to run the platform on (a scratch database); embedded PGlite otherwise
 *   CHROMIUM_PATH  the browser (default /usr/bin/chromium, the system's; never a downloaded one)
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { launchChromium } from '../api/test/support/browser.js';
import { populateAgency } from '../api/test/support/fixtures.js';
import { faqModule, published } from '../api/test/support/modules.js';
import { startTestPlatform, type TestPlatform } from '../api/test/support/platform.js';
import { exitCleanlyOnDeadlineOrSignal } from './deadline.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 15));
const BUDGET = 20 * 1024;
/** How long after the widget rendered (or, without it, after the load event) layout shifts are still counted. */
const SETTLE_MS = 500;
const QUESTION = 'Do you bake on Sundays?';
/** Everything — start-up, all runs, shutdown — must end well within this. */
const DEADLINE_MS = 170_000;

const site = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../examples/embed-snippet');

const started = Date.now();
function progress(message: string): void {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
}

// ---------------------------------------------------------------------------------------------------------
// In the page: what it measures, installed before any of the page's own scripts run

/**
 * Runs in every page as the browser's own script (addInitScript; a page's CSP does not apply to it). A string,
 * not a function: what tsx compiles a function into may name helpers the page does not have.
 *  - layout shifts (buffered, without those following input) and first contentful paint;
 *  - the widget's first render: every `<acme-faq>` shadow root is watched as it is attached (a
 *    MutationObserver on it), and the moment it first shows the question is noted, with the frame after it.
 */
const IN_PAGE = `(() => {
  const bench = { cls: 0, shifts: 0, fcp: null, rendered: null, frame: null };
  Object.defineProperty(window, '__dramacBench', { value: bench });
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.hadRecentInput) continue;
        bench.cls += entry.value;
        bench.shifts += 1;
      }
    }).observe({ type: 'layout-shift', buffered: true });
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) if (entry.name === 'first-contentful-paint') bench.fcp = entry.startTime;
    }).observe({ type: 'paint', buffered: true });
  } catch {}
  const seen = (root) => {
    if (bench.rendered !== null || !(root.textContent || '').includes(${JSON.stringify(QUESTION)})) return false;
    bench.rendered = performance.now();
    requestAnimationFrame(() => (bench.frame = performance.now()));
    return true;
  };
  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attachShadow.call(this, init);
    if (this.localName === 'acme-faq') {
      const watch = new MutationObserver(() => seen(root) && watch.disconnect());
      watch.observe(root, { childList: true, subtree: true, characterData: true });
    }
    return root;
  };
})();`;

interface InPage {
  cls: number;
  shifts: number;
  fcp: number | null;
  rendered: number | null;
  frame: number | null;
  load: number;
  /** The placeholder's height once measured (the widget's, where it rendered; its fallback's otherwise). */
  height: number;
  /** When each of our resources had arrived (Resource Timing `responseEnd`), by kind. */
  arrived: Partial<Record<Kind, number>>;
}

// ---------------------------------------------------------------------------------------------------------
// What the browser fetched (CDP)

type Kind = 'embed' | 'runtime' | 'bundle' | 'data' | 'host';

function kindOf(url: string, hostOrigin: string): Kind | null {
  const { pathname, origin } = new URL(url);
  if (origin === hostOrigin) return 'host';
  if (pathname.startsWith('/v1/embed/')) return 'embed';
  if (pathname.startsWith('/v1/runtime/')) return 'runtime';
  if (pathname.startsWith('/v1/bundles/')) return 'bundle';
  if (pathname.startsWith('/v1/m/')) return 'data';
  return null;
}

interface Fetched {
  url: string;
  kind: Kind | null;
  status?: number;
  /** Served from the browser's cache: nothing crossed the network. */
  cached: boolean;
  /** Bytes on the wire in all (headers and body), as loadingFinished reports them. */
  wire: number;
  /** Of those, the response body as it came over the wire (encoded: compressed, if it were). */
  body: number;
  /** The body once decoded. */
  decoded: number;
}

/** Records every request of a page, from before its navigation; `done()` gives them once the page is measured. */
async function watchNetwork(page: Page, hostOrigin: string): Promise<{ done(): Fetched[]; session: CDPSession }> {
  const session = await page.context().newCDPSession(page);
  const requests = new Map<string, Fetched>();
  const headers = new Map<string, number>();
  session.on('Network.requestWillBeSent', (event) => {
    if (event.request.url.startsWith('data:')) return;
    requests.set(event.requestId, {
      url: event.request.url,
      kind: kindOf(event.request.url, hostOrigin),
      cached: false,
      wire: 0,
      body: 0,
      decoded: 0,
    });
  });
  session.on('Network.requestServedFromCache', (event) => {
    const request = requests.get(event.requestId);
    if (request) request.cached = true;
  });
  session.on('Network.responseReceived', (event) => {
    const request = requests.get(event.requestId);
    if (!request) return;
    request.status = event.response.status;
    if (event.response.fromDiskCache || event.response.fromPrefetchCache) request.cached = true;
    // The bytes received so far: the status line and headers.
    headers.set(event.requestId, event.response.encodedDataLength);
  });
  session.on('Network.dataReceived', (event) => {
    const request = requests.get(event.requestId);
    if (request) request.decoded += event.dataLength;
  });
  session.on('Network.loadingFinished', (event) => {
    const request = requests.get(event.requestId);
    if (!request) return;
    request.wire = request.cached ? 0 : event.encodedDataLength;
    request.body = request.cached ? 0 : Math.max(0, event.encodedDataLength - (headers.get(event.requestId) ?? 0));
  });
  await session.send('Network.enable');
  return { session, done: () => [...requests.values()] };
}

// ---------------------------------------------------------------------------------------------------------
// One visit

interface Visit {
  inPage: InPage;
  fetched: Fetched[];
  errors: string[];
}

async function visit(context: BrowserContext, url: string, widget: boolean): Promise<Visit> {
  const page = await context.newPage();
  await page.addInitScript(IN_PAGE);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') errors.push(message.text());
  });
  const network = await watchNetwork(page, new URL(url).origin);
  await page.goto(url, { waitUntil: 'load' });
  if (widget) {
    await page.waitForFunction(
      () => (window as unknown as { __dramacBench: InPage }).__dramacBench.frame !== null,
      undefined,
      { timeout: 10_000, polling: 50 },
    );
  }
  await page.waitForTimeout(SETTLE_MS);
  const inPage = await page.evaluate(() => {
    const bench = (window as unknown as { __dramacBench: InPage }).__dramacBench;
    const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
    const arrived: Record<string, number> = {};
    for (const entry of performance.getEntriesByType('resource') as PerformanceResourceTiming[]) {
      const { pathname } = new URL(entry.name);
      const kind = pathname.startsWith('/v1/embed/')
        ? 'embed'
        : pathname.startsWith('/v1/runtime/')
          ? 'runtime'
          : pathname.startsWith('/v1/bundles/')
            ? 'bundle'
            : pathname.startsWith('/v1/m/')
              ? 'data'
              : null;
      if (kind && !(kind in arrived)) arrived[kind] = entry.responseEnd;
    }
    const height = document.querySelector('acme-faq')?.getBoundingClientRect().height ?? 0;
    return { ...bench, load: navigation?.loadEventStart ?? 0, height, arrived };
  });
  const fetched = network.done();
  await network.session.detach().catch(() => {});
  await page.close();
  return { inPage, fetched, errors };
}

// ---------------------------------------------------------------------------------------------------------
// The host page: the example's files from an origin of their own, under a strict CSP

/**
 * `widget`: the example as it is. `baseline`: without the snippet, the placeholder left with its fallback (the
 * page before, or without, Dramac). `control`: a check of the instrument, not of the example — the widget with
 * the space reservation taken out of the CSS and a paragraph below it, which must show layout shift.
 */
type Variant = 'widget' | 'baseline' | 'control';
const RESERVATION = /\n\s*min-height: 16rem;/;

function hostPage(variant: Variant, snippet: string): string {
  let html = readFileSync(path.join(site, 'index.html'), 'utf8');
  const line = /<script async src="[^"]*"><\/script>/;
  if (!line.test(html)) throw new Error('examples/embed-snippet/index.html no longer has the one-line snippet');
  html = html.replace(line, variant === 'baseline' ? '' : snippet);
  if (variant === 'control') {
    if (!html.includes('</acme-faq>')) throw new Error('examples/embed-snippet/index.html has no <acme-faq>');
    html = html
      .replace('href="site.css"', 'href="site.css?variant=control"')
      .replace('</acme-faq>', '</acme-faq>\n      <p>The page goes on below the widget.</p>');
  }
  return html;
}

function hostCss(variant: Variant): string {
  const css = readFileSync(path.join(site, 'site.css'), 'utf8');
  if (!RESERVATION.test(css)) throw new Error('examples/embed-snippet/site.css no longer reserves 16rem for acme-faq');
  return variant === 'control' ? css.replace(RESERVATION, '') : css;
}

const variantOf = (url: URL): Variant => {
  const variant = url.searchParams.get('variant');
  return variant === 'baseline' || variant === 'control' ? variant : 'widget';
};

async function serveHost(platformUrl: string, snippet: () => string): Promise<{ server: Server; origin: string }> {
  const csp = `default-src 'none'; script-src 'self' ${platformUrl}; connect-src ${platformUrl}; style-src 'self'; img-src 'self'; base-uri 'none'`;
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://host');
    const file = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    if (file === 'index.html') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': csp,
        'cache-control': 'no-store',
      });
      res.end(hostPage(variantOf(url), snippet()));
    } else if (file === 'favicon.ico') {
      res.writeHead(204).end();
    } else if (file === 'site.css') {
      res.writeHead(200, { 'content-type': 'text/css' });
      res.end(hostCss(variantOf(url)));
    } else if (file === 'site.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(readFileSync(path.join(site, file)));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

// ---------------------------------------------------------------------------------------------------------
// The platform: an agency, its site allowing the host origin, the example module installed with two questions

async function preparePlatform(platform: TestPlatform, hostOrigin: string): Promise<string> {
  const agency = await populateAgency(platform, 'Bakery');
  const expect = (reply: { status: number; text: string }, status: number, what: string) => {
    if (reply.status !== status) throw new Error(`${what}: ${reply.status} ${reply.text}`);
  };
  expect(
    await platform.request('POST', `/v1/sites/${agency.siteId}/origins`, {
      token: agency.token,
      body: { origin: hostOrigin },
    }),
    201,
    'allow the host origin',
  );
  const { v1 } = await faqModule();
  await published(platform, agency.token, v1);
  expect(
    await platform.request('POST', `/v1/sites/${agency.siteId}/installs`, {
      token: agency.token,
      body: { module_id: 'acme.faq', settings: { 'acme-faq': { title: 'Bakery questions' } } },
    }),
    201,
    'install acme.faq',
  );
  for (const [question, answer] of [
    [QUESTION, 'Yes, from 8 until noon.'],
    ['Do you have gluten-free bread?', 'Every Friday.'],
    ['Can I order a cake?', 'Three days ahead, in the shop or by phone.'],
  ]) {
    expect(
      await platform.request('POST', `/v1/m/acme.faq/questions?site_id=${agency.siteId}`, {
        token: agency.token,
        body: { question, answer, published: true },
      }),
      201,
      'add a question',
    );
  }
  return agency.publishableKey;
}

// ---------------------------------------------------------------------------------------------------------
// Numbers

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = (sorted.length - 1) * q;
  const low = Math.floor(index);
  const high = Math.ceil(index);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (index - low);
}
const median = (values: number[]) => quantile(values, 0.5);
const p90 = (values: number[]) => quantile(values, 0.9);
const present = (values: (number | null | undefined)[]) => values.filter((v): v is number => typeof v === 'number');

const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;
const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : 'n/a');
const signed = (value: number, digits = 1) =>
  Number.isFinite(value) ? `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}` : '';
const times = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '';

function table(title: string, rows: string[][]): void {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  const line = (row: string[]) =>
    row
      .map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!)))
      .join('   ')
      .trimEnd();
  console.log();
  console.log(title);
  console.log(line(rows[0]!));
  console.log(widths.map((w) => '-'.repeat(w)).join('   '));
  for (const row of rows.slice(1)) console.log(line(row));
}

const sum = (fetched: Fetched[], kinds: Kind[], field: 'wire' | 'body' | 'decoded') =>
  fetched.filter((f) => f.kind && kinds.includes(f.kind)).reduce((total, f) => total + f[field], 0);
const count = (fetched: Fetched[], kinds: Kind[]) =>
  fetched.filter((f) => f.kind && kinds.includes(f.kind) && !f.cached).length;

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  let platform: TestPlatform | undefined;
  let browser: Browser | undefined;
  let host: Server | undefined;
  let cleanedUp: Promise<void> | undefined;
  const cleanUp = () =>
    (cleanedUp ??= (async () => {
      await browser?.close().catch(() => {});
      await new Promise<void>((resolve) => (host ? host.close(() => resolve()) : resolve()));
      await platform?.close().catch(() => {});
    })());
  const disarm = exitCleanlyOnDeadlineOrSignal(DEADLINE_MS, cleanUp);

  try {
    progress(
      `starting the platform (${process.env.DATABASE_URL ? 'PostgreSQL, a scratch database' : 'embedded PGlite'})`,
    );
    platform = await startTestPlatform({ browser: true });
    let snippet = '';
    const served = await serveHost(platform.url, () => snippet);
    host = served.server;
    const hostOrigin = served.origin;
    progress('publishing and installing examples/faq-module, three questions');
    const key = await preparePlatform(platform, hostOrigin);
    snippet = `<script async src="${platform.url}/v1/embed/${key}.js"></script>`;
    browser = await launchChromium();
    progress(`Chromium ${browser.version()}; ${RUNS} runs per variant (plus one warm-up each, not counted)`);

    const baselineUrl = `${hostOrigin}/?variant=baseline`;
    const widgetUrl = `${hostOrigin}/`;
    const baseline: Visit[] = [];
    const cold: Visit[] = [];
    const warm: Visit[] = [];
    for (let run = -1; run < RUNS; run++) {
      // Interleaved, so that whatever else the machine does weighs on both variants alike.
      const plain = await browser.newContext();
      const withoutWidget = await visit(plain, baselineUrl, false);
      await plain.close();
      const context = await browser.newContext();
      const first = await visit(context, widgetUrl, true);
      const second = await visit(context, widgetUrl, true);
      await context.close();
      for (const { errors } of [withoutWidget, first, second]) {
        if (errors.length > 0) throw new Error(`the page reported problems:\n${errors.join('\n')}`);
      }
      if (run < 0) continue;
      baseline.push(withoutWidget);
      cold.push(first);
      warm.push(second);
      if ((run + 1) % 5 === 0 || run + 1 === RUNS) {
        progress(
          `  ${run + 1}/${RUNS}: widget first render, median so far: cold ${ms(median(cold.map((v) => v.inPage.rendered!)))} ms, warm ${ms(median(warm.map((v) => v.inPage.rendered!)))} ms`,
        );
      }
    }

    // The instrument check: one cold visit of the control variant.
    const controlContext = await browser.newContext();
    const control = await visit(controlContext, `${hostOrigin}/?variant=control`, true);
    await controlContext.close();

    // -- bytes --------------------------------------------------------------------------------------------
    const sample = cold[0]!.fetched;
    const firstWidget: Kind[] = ['embed', 'runtime', 'bundle'];
    for (const kind of firstWidget) {
      const requests = sample.filter((f) => f.kind === kind);
      if (requests.length !== 1 || requests[0]!.status !== 200) {
        throw new Error(`expected one 200 for the ${kind}, got ${JSON.stringify(requests)}`);
      }
    }
    const steady = cold.every((v) =>
      firstWidget.every((k) => sum(v.fetched, [k], 'body') === sum(sample, [k], 'body')),
    );
    /** The bodies themselves, fetched again here, to gzip: the same bytes the browser decoded (checked). */
    const gzipped = new Map<Kind, number>();
    for (const kind of firstWidget) {
      const { url, decoded } = sample.find((f) => f.kind === kind)!;
      const content = Buffer.from(await (await fetch(url)).arrayBuffer());
      if (content.length !== decoded) {
        throw new Error(`${kind}: the browser decoded ${decoded} bytes, a fetch gives ${content.length}`);
      }
      gzipped.set(kind, gzipSync(content, { level: 9 }).length);
    }
    const LABELS: Record<Kind, string> = {
      embed: 'embed script (loader + site config)',
      runtime: 'shared Lit runtime',
      bundle: 'acme-faq module bundle',
      data: "the widget's data (questions API)",
      host: 'host page itself (HTML, CSS, JS)',
    };
    const byteRow = (label: string, kinds: Kind[], fetched: Fetched[], gzip: number | null) => [
      label,
      String(count(fetched, kinds)),
      String(sum(fetched, kinds, 'decoded')),
      String(sum(fetched, kinds, 'body')),
      String(sum(fetched, kinds, 'wire')),
      gzip === null ? '' : String(gzip),
    ];
    const gzipTotal = firstWidget.reduce((total, kind) => total + gzipped.get(kind)!, 0);
    const wireBodies = sum(sample, firstWidget, 'body');
    const baseSample = baseline[0]!.fetched;
    const hostGzip = (fetched: Fetched[]) =>
      fetched
        .filter((f) => f.kind === 'host')
        .reduce((total, f) => {
          const name = new URL(f.url).pathname.slice(1) || 'index.html';
          if (name === 'favicon.ico') return total;
          const content =
            name === 'index.html'
              ? hostPage('baseline', snippet)
              : name === 'site.css'
                ? hostCss('baseline')
                : readFileSync(path.join(site, name), 'utf8');
          return total + gzipSync(content, { level: 9 }).length;
        }, 0);
    const baseGzip = hostGzip(baseSample);
    table(`Bytes, first visit (cold cache), from the browser's own network log (CDP), in bytes`, [
      ['', 'requests', 'decoded', 'body on the wire', 'wire incl. headers', 'gzip -9 (local)'],
      ...firstWidget.map((kind) => byteRow(LABELS[kind], [kind], sample, gzipped.get(kind)!)),
      byteRow('first widget: loader + Lit + module', firstWidget, sample, gzipTotal),
      byteRow(`${LABELS.data}, not in the budget`, ['data'], sample, null),
      byteRow(`baseline: ${LABELS.host}`, ['host'], baseSample, baseGzip),
      [
        'first widget / baseline page',
        '',
        times(sum(sample, firstWidget, 'decoded'), sum(baseSample, ['host'], 'decoded')),
        times(wireBodies, sum(baseSample, ['host'], 'body')),
        times(sum(sample, firstWidget, 'wire'), sum(baseSample, ['host'], 'wire')),
        times(gzipTotal, baseGzip),
      ],
      byteRow('second visit (warm): the same three, all from cache', firstWidget, warm[0]!.fetched, null),
    ]);
    if (!steady) console.log('(note: the bytes differed between runs; the table shows the first measured run)');
    console.log();
    console.log(
      `Budget, loader + shared Lit runtime + one module ≤ ${kb(BUDGET)} gzipped: ${kb(gzipTotal)} gzip -9 — ${gzipTotal <= BUDGET ? 'PASS' : 'FAIL'} (${((gzipTotal / BUDGET) * 100).toFixed(0)} % of it)`,
    );
    console.log(
      `As served (the bodies on the wire, compressed as the platform sends them): ${kb(wireBodies)} — ${wireBodies <= BUDGET ? 'PASS' : 'FAIL'}`,
    );

    // -- time and layout shift ----------------------------------------------------------------------------
    const of = (visits: Visit[], pick: (v: InPage) => number | null | undefined) =>
      present(visits.map((v) => pick(v.inPage)));
    const baseFcp = median(of(baseline, (v) => v.fcp));
    const timeRow = (
      label: string,
      pick: (v: InPage) => number | null | undefined,
      stat: (values: number[]) => number,
      against?: number,
    ) => {
      const none = against ?? stat(of(baseline, pick));
      const c = stat(of(cold, pick));
      const w = stat(of(warm, pick));
      return [
        label,
        against === undefined ? ms(none) : `(${ms(none)})`,
        ms(c),
        ms(w),
        Number.isFinite(none) ? signed(c - none) : '',
        Number.isFinite(none) ? times(c, none) : '',
      ];
    };
    const clsRow = (label: string, stat: (values: number[]) => number) => {
      const [none, c, w] = [baseline, cold, warm].map((visits) => stat(of(visits, (v) => v.cls)));
      return [label, none!.toFixed(4), c!.toFixed(4), w!.toFixed(4), signed(c! - none!, 4), ''];
    };
    table(
      `Time from navigation start (ms) and layout shift, ${RUNS} runs each; cold = fresh browser context, warm = second load in it`,
      [
        ['', 'no widget (baseline)', 'widget, cold', 'widget, warm', 'cold − baseline', 'cold / baseline'],
        timeRow('first contentful paint, median', (v) => v.fcp, median),
        timeRow('load event, median', (v) => v.load, median),
        timeRow('  embed script received, median', (v) => v.arrived.embed, median),
        timeRow('  Lit runtime received, median', (v) => v.arrived.runtime, median),
        timeRow('  module bundle received, median', (v) => v.arrived.bundle, median),
        timeRow('  questions received, median', (v) => v.arrived.data, median),
        timeRow("widget's first render, median (vs page's FCP)", (v) => v.rendered, median, baseFcp),
        timeRow("widget's first render, p90 (vs page's FCP)", (v) => v.rendered, p90, p90(of(baseline, (v) => v.fcp))),
        timeRow('  the frame after it, median (vs page’s FCP)', (v) => v.frame, median, baseFcp),
        [
          'placeholder height (px), median',
          ...[baseline, cold, warm].map((visits) => median(of(visits, (v) => v.height)).toFixed(0)),
          signed(median(of(cold, (v) => v.height)) - median(of(baseline, (v) => v.height)), 0),
          '',
        ],
        clsRow('Cumulative Layout Shift, median', median),
        clsRow('Cumulative Layout Shift, max', (values) => Math.max(...values)),
      ],
    );
    const clsAdded = Math.max(...of([...cold, ...warm], (v) => v.cls)) - Math.max(...of(baseline, (v) => v.cls));
    const shifts = [...cold, ...warm].reduce((total, v) => total + v.inPage.shifts, 0);
    console.log();
    console.log(
      `CLS added by the widget = 0 (worst widget run − worst baseline run, ${shifts} layout-shift entries in all widget runs): ${signed(clsAdded, 4)} — ${clsAdded <= 0 ? 'PASS' : 'FAIL'}`,
    );
    console.log(
      `  instrument check (not the example): without the 16rem reservation and with a paragraph below the widget, the same observer measures CLS ${control.inPage.cls.toFixed(4)} (${control.inPage.shifts} entries)${control.inPage.shifts === 0 ? ' — it saw no shift, so the PASS above proves little' : ''}`,
    );
    console.log(
      `Browser: headless Chromium ${browser.version()}, loopback, 1280×720; platform on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'} with response validation (the test helper's set-up).`,
    );
  } finally {
    disarm();
    await cleanUp();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
