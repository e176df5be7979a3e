/**
 * Builds a first-party module's `POST /v1/modules` body: its manifest (api/src/modules/<id>/dramac.module.json),
 * each element bundled with esbuild from `components/src/<id>/<tag without dm->.ts`, and its OpenAPI document
 * (`openapi/dist/<id>.json`, made by `npm run generate`).
 *
 *   import { buildFirstPartyModule } from '../scripts/first-party-module.js';
 *   const body = await buildFirstPartyModule('booking'); // { manifest, files: { 'dm-booking.js', 'booking.openapi.json' } }
 *
 * As a script (`npx tsx scripts/first-party-module.ts booking`, after `npm run generate`) it writes
 * `dist/<id>-module/`: the bundles and the request body (`publish.json`) for curl, and prints their sizes.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import type { components } from '@dramac/openapi/types';

export type ModulePublishBody = components['schemas']['ModulePublish'];
export type ModuleManifest = components['schemas']['ModuleManifest'];

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * Where every module bundle takes Lit from: the platform's shared runtime (loader/src/lit-runtime.ts,
 * `export * from 'lit'`), one copy per page however many modules it shows. `@lit/reactive-element`, which
 * `@lit/task` imports, is part of what `lit` re-exports, so it comes from there too.
 */
export const SHARED_LIT = '/v1/runtime/lit@3.js';

const sharedLit: Plugin = {
  name: 'shared-lit',
  setup: (build) => {
    build.onResolve({ filter: /^(lit|@lit\/reactive-element)$/ }, () => ({ path: SHARED_LIT, external: true }));
    // A deep import (`lit/directives/…`, `lit-html/…`) would carry a second copy of Lit's internals.
    build.onResolve({ filter: /^(lit|lit-html|lit-element|@lit\/reactive-element)\// }, (args) => ({
      errors: [{ text: `${args.path}: not in the shared Lit runtime; import from 'lit' only (from ${args.importer})` }],
    }));
  },
};

export async function readManifest(moduleId: string): Promise<ModuleManifest> {
  return JSON.parse(await readFile(path.join(ROOT, 'api/src/modules', moduleId, 'dramac.module.json'), 'utf8'));
}

/**
 * Bundles one element: an ES module for ES2022, minified, importing Lit from the shared runtime. `define`
 * replaces identifiers at build time (esbuild's `define`: the FAQ example compiles its version in).
 */
export async function bundleElement(source: string, define: Record<string, string> = {}): Promise<Uint8Array> {
  const result = await build({
    entryPoints: [source],
    absWorkingDir: ROOT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
    legalComments: 'none',
    plugins: [sharedLit],
    define,
  });
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1) throw new Error('esbuild produced no single output file');
  return output.contents;
}

/** The `POST /v1/modules` body: the manifest, and each element's bundle and the OpenAPI document, in base64. */
export async function buildFirstPartyModule(moduleId: string): Promise<ModulePublishBody> {
  const manifest = await readManifest(moduleId);
  const openapiPath = path.join(ROOT, 'openapi/dist', `${moduleId}.json`);
  const openapi = await readFile(openapiPath).catch((error: unknown) => {
    throw new Error(`${path.relative(ROOT, openapiPath)} is missing: run \`npm run generate\` first`, { cause: error });
  });
  const files: Record<string, string> = {};
  for (const element of manifest.elements ?? []) {
    const source = path.join(ROOT, 'components/src', moduleId, `${element.tag.replace(/^dm-/, '')}.ts`);
    files[element.entry] = Buffer.from(await bundleElement(source)).toString('base64');
  }
  if (!manifest.api?.document) throw new Error(`the ${moduleId} manifest names no api.document`);
  files[manifest.api.document] = openapi.toString('base64');
  return { manifest, files };
}

async function main(moduleId: string | undefined): Promise<void> {
  if (!moduleId) throw new Error('usage: npx tsx scripts/first-party-module.ts <module id>');
  const dist = path.join(ROOT, 'dist', `${moduleId}-module`);
  const body = await buildFirstPartyModule(moduleId);
  await mkdir(dist, { recursive: true });
  for (const element of body.manifest.elements ?? []) {
    const bundle = Buffer.from(body.files[element.entry] ?? '', 'base64');
    await writeFile(path.join(dist, element.entry), bundle);
    const sha256 = createHash('sha256').update(bundle).digest('hex');
    const gzip = gzipSync(bundle, { level: 9 }).length;
    console.log(
      `${body.manifest.id}@${body.manifest.version}: dist/${moduleId}-module/${element.entry} ${bundle.length} B ` +
        `(${gzip} B gzip), sha256 ${sha256.slice(0, 16)}…`,
    );
  }
  await writeFile(path.join(dist, 'publish.json'), `${JSON.stringify(body)}\n`);
  console.log(`dist/${moduleId}-module/publish.json`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv[2]);
}
