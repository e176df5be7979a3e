import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StartupError } from '../db/startup-error.js';
import { enterPublishableKey } from '../http/auth.js';
import { notModified } from '../http/etag.js';
import { frameOriginOf } from '../http/frames.js';
import type { Handlers } from '../http/operations.js';
import { notFound } from '../http/problem.js';
import { ANY_ORIGIN, JAVASCRIPT } from './registry.js';
import { etagOf, siteConfiguration } from './site-config.js';

const built = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../loader/dist');

/** The shared scripts served at /v1/runtime/{name}, by name, from the loader's build. */
const RUNTIME_FILES = { 'lit@3.js': 'lit-runtime.js', 'frame.js': 'frame.js', 'launcher.js': 'launcher.js' };
type RuntimeName = keyof typeof RUNTIME_FILES;

let assets:
  { loader: string; runtime: Record<RuntimeName, { content: Buffer; etag: string }>; litIntegrity: string } | undefined;

/** The loader's build (`npm run generate` makes it), read once; start-up checks it is there. */
export function embedAssets() {
  if (!assets) {
    const read = (file: string) => {
      try {
        return readFileSync(path.join(built, file));
      } catch {
        throw new StartupError(`loader/dist/${file} is missing: run \`npm run generate\` (npm start and npm test do).`);
      }
    };
    const runtime = Object.fromEntries(
      Object.entries(RUNTIME_FILES).map(([name, file]) => {
        const content = read(file);
        return [name, { content, etag: etagOf(content) }];
      }),
    ) as Record<RuntimeName, { content: Buffer; etag: string }>;
    assets = {
      loader: read('loader.js').toString('utf8'),
      runtime,
      litIntegrity: `sha384-${createHash('sha384').update(runtime['lit@3.js'].content).digest('base64')}`,
    };
  }
  return assets;
}

/** JSON that may stand inside a script: nothing in it can end the script or a line of it. */
const scriptSafe = (value: unknown) =>
  JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');

/** The iframe embed's page for one widget: the loader and the element, nothing inline. */
const framePage = (embedScript: string, frameScript: string, tag: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <script async src="${embedScript}"></script>
    <script defer src="${frameScript}"></script>
  </head>
  <body>
    <${tag}></${tag}>
  </body>
</html>
`;

export const embedHandlers: Pick<Handlers, 'getEmbedScript' | 'getRuntimeModule' | 'getEmbedFrame'> = {
  async getEmbedScript({ tx, params, publicUrl, frameUrl, request }) {
    const { loader, litIntegrity } = embedAssets();
    const key = params.file.slice(0, -'.js'.length);
    const siteId = await enterPublishableKey(tx, key);
    if (!siteId) throw notFound('publishable key');
    const { theme, modules } = await siteConfiguration(tx, siteId, publicUrl);
    const config = {
      api: publicUrl,
      key,
      runtime: { url: `${publicUrl}/v1/runtime/lit@3.js`, integrity: litIntegrity },
      frame: frameOriginOf(frameUrl, siteId),
      theme,
      modules: modules.map(({ id, elements, settings }) => ({ id, elements, settings })),
    };
    // Floating widgets' light button comes only to the sites that have one (it is not the loader's to carry).
    const launchers = modules.flatMap((module) =>
      module.elements.flatMap((element) =>
        element.launcher ? [{ tag: element.tag, label: element.launcher.label }] : [],
      ),
    );
    const launch = launchers.length
      ? `\nimport(${scriptSafe(`${publicUrl}/v1/runtime/launcher.js`)}).then((m) => m.default(${scriptSafe(launchers)}));`
      : '';
    const script = Buffer.from(loader.replace('__DRAMAC_CONFIG__', () => scriptSafe(config)) + launch);
    const etag = etagOf(script);
    // Short-lived: a changed setting or version reaches pages within a minute; the bundles it names are
    // immutable.
    const headers = { ...ANY_ORIGIN, 'Cache-Control': 'public, max-age=60', ETag: etag };
    if (notModified(request, etag)) return { status: 304, headers };
    return { status: 200, headers, file: { type: JAVASCRIPT, content: script } };
  },

  async getRuntimeModule({ params, request }) {
    const { content, etag } = embedAssets().runtime[params.file];
    // Revalidated, not cached for a day: the embed script names the runtime with its integrity hash, and an
    // older copy kept after a platform upgrade would fail that check and break every widget on the page.
    const headers = { ...ANY_ORIGIN, 'Cache-Control': 'no-cache', ETag: etag };
    if (notModified(request, etag)) return { status: 304, headers };
    return { status: 200, headers, file: { type: JAVASCRIPT, content } };
  },

  /**
   * Served from FRAME_URL only — another origin than the API's, so the modules' code this page runs reaches
   * nothing of the platform's — and embeddable only by the site's allowed origins.
   */
  async getEmbedFrame({ tx, params, query, publicUrl, frameUrl, request }) {
    const key = params.file.slice(0, -'.html'.length);
    const siteId = await enterPublishableKey(tx, key);
    if (!siteId) throw notFound('publishable key');
    // Each site's frames come from its own origin: on any other host, this page does not exist.
    const origin = frameOriginOf(frameUrl, siteId);
    if (!origin || request.get('host') !== new URL(origin).host) {
      throw notFound(`frame here: this site's frames are served from ${origin ?? 'FRAME_URL (not set)'}`);
    }
    const { modules } = await siteConfiguration(tx, siteId, publicUrl);
    const tag = query.element;
    if (!modules.some((module) => module.elements.some((element) => element.tag === tag))) {
      throw notFound(`widget <${tag}> on this site`);
    }
    const ancestors = (await tx('site_origins').where({ site_id: siteId }).pluck('origin')) as string[];
    const page = framePage(`${origin}/v1/embed/${key}.js`, `${origin}/v1/runtime/frame.js`, tag);
    const headers = {
      'Content-Security-Policy': [
        "default-src 'none'",
        `script-src ${origin} ${publicUrl}`,
        `connect-src ${publicUrl}`,
        'img-src https: data:',
        'font-src https:',
        "base-uri 'none'",
        "form-action 'none'",
        `frame-ancestors ${ancestors.join(' ') || "'none'"}`,
      ].join('; '),
      'Cache-Control': 'no-cache',
    };
    return { status: 200, headers, file: { type: 'text/html; charset=utf-8', content: Buffer.from(page) } };
  },
};
