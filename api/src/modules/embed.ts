import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StartupError } from '../db/startup-error.js';
import { enterPublishableKey } from '../http/auth.js';
import { notModified } from '../http/etag.js';
import type { Handlers } from '../http/operations.js';
import { notFound } from '../http/problem.js';
import { etagOf, siteConfiguration } from './site-config.js';

const JAVASCRIPT = 'text/javascript; charset=utf-8';
const built = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../loader/dist');

let assets: { loader: string; runtime: Buffer; runtimeTag: string; runtimeIntegrity: string } | undefined;

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
    const runtime = read('lit-runtime.js');
    assets = {
      loader: read('loader.js').toString('utf8'),
      runtime,
      runtimeTag: etagOf(runtime),
      runtimeIntegrity: `sha384-${createHash('sha384').update(runtime).digest('base64')}`,
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

// Public files any page loads (classic or module scripts); nothing in them is the caller's.
const anyOrigin = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' };

export const embedHandlers: Pick<Handlers, 'getEmbedScript' | 'getRuntimeModule'> = {
  async getEmbedScript({ tx, params, publicUrl, request }) {
    const { loader, runtimeIntegrity } = embedAssets();
    const key = params.file.slice(0, -'.js'.length);
    const siteId = await enterPublishableKey(tx, key);
    if (!siteId) throw notFound('publishable key');
    const { theme, modules } = await siteConfiguration(tx, siteId, publicUrl);
    const config = {
      api: publicUrl,
      key,
      runtime: { url: `${publicUrl}/v1/runtime/lit@3.js`, integrity: runtimeIntegrity },
      theme,
      modules: modules.map(({ id, elements, settings }) => ({ id, elements, settings })),
    };
    const script = Buffer.from(loader.replace('__DRAMAC_CONFIG__', () => scriptSafe(config)));
    const etag = etagOf(script);
    // Short-lived: a changed setting or version reaches pages within a minute; the bundles it names are
    // immutable.
    const headers = { ...anyOrigin, 'Cache-Control': 'public, max-age=60', ETag: etag };
    if (notModified(request, etag)) return { status: 304, headers };
    return { status: 200, headers, file: { type: JAVASCRIPT, content: script } };
  },

  async getRuntimeModule({ request }) {
    const { runtime, runtimeTag } = embedAssets();
    const headers = { ...anyOrigin, 'Cache-Control': 'public, max-age=86400', ETag: runtimeTag };
    if (notModified(request, runtimeTag)) return { status: 304, headers };
    return { status: 200, headers, file: { type: JAVASCRIPT, content: runtime } };
  },
};
