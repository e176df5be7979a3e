/**
 * Builds the Acme FAQ example module: bundles `<acme-faq>` with esbuild and pairs each version's bundle
 * with its manifest as a `POST /v1/modules` body.
 *
 *   import { buildFaqModule } from '../../examples/faq-module/build.js';
 *   const { v1, v2 } = await buildFaqModule(); // publish v1, install, then publish v2 and upgrade
 *
 * As a script (`npx tsx examples/faq-module/build.ts`) it writes `dist/` beside this file: each version's
 * bundle (`dist/v1/acme-faq.js`, `dist/v2/acme-faq.js`) and the request bodies (`publish-v1.json`,
 * `publish-v2.json`) for curl.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleElement, type ModuleManifest, type ModulePublishBody } from '../../scripts/first-party-module.js';

export type { ModuleManifest, ModulePublishBody };

/** The example module's id. */
export const FAQ_MODULE_ID = 'acme.faq';
/** This directory (the manifests, `src/` and `dist/` live here). */
export const FAQ_MODULE_DIR = path.dirname(fileURLToPath(import.meta.url));

const ENTRY = 'acme-faq.js';

/** Reads one version's manifest: `dramac.module.json` (1.0.0) or `dramac.module.v2.json` (2.0.0). */
export async function readFaqManifest(version: 1 | 2): Promise<ModuleManifest> {
  const file = version === 1 ? 'dramac.module.json' : 'dramac.module.v2.json';
  return JSON.parse(await readFile(path.join(FAQ_MODULE_DIR, file), 'utf8')) as ModuleManifest;
}

/**
 * Bundles `src/acme-faq.ts` for one manifest, as first-party elements are bundled (Lit from the shared
 * runtime). The manifest's version is compiled in (so each version's bundle has its own content hash), and the
 * "was this helpful?" buttons only when the manifest declares the `feedback` collection they write to.
 */
export async function bundleFaqElement(manifest: ModuleManifest): Promise<Uint8Array> {
  return bundleElement(path.join(FAQ_MODULE_DIR, 'src', 'acme-faq.ts'), {
    __FAQ_VERSION__: JSON.stringify(manifest.version),
    __FAQ_FEEDBACK__: JSON.stringify(Boolean(manifest.collections?.feedback)),
  });
}

async function publishBody(version: 1 | 2): Promise<ModulePublishBody> {
  const manifest = await readFaqManifest(version);
  const bundle = await bundleFaqElement(manifest);
  return { manifest, files: { [ENTRY]: Buffer.from(bundle).toString('base64') } };
}

/** Both versions' `POST /v1/modules` bodies: `{ manifest, files: { 'acme-faq.js': <base64> } }`. */
export async function buildFaqModule(): Promise<{ v1: ModulePublishBody; v2: ModulePublishBody }> {
  const [v1, v2] = await Promise.all([publishBody(1), publishBody(2)]);
  return { v1, v2 };
}

async function main(): Promise<void> {
  const dist = path.join(FAQ_MODULE_DIR, 'dist');
  const bodies = await buildFaqModule();
  for (const [name, body] of Object.entries(bodies)) {
    const bundle = Buffer.from(body.files[ENTRY] ?? '', 'base64');
    await mkdir(path.join(dist, name), { recursive: true });
    await writeFile(path.join(dist, name, ENTRY), bundle);
    await writeFile(path.join(dist, `publish-${name}.json`), `${JSON.stringify(body)}\n`);
    const sha256 = createHash('sha256').update(bundle).digest('hex');
    const gzip = gzipSync(bundle, { level: 9 }).length;
    console.log(
      `${body.manifest.id}@${body.manifest.version}: dist/${name}/${ENTRY} ${bundle.length} B (${gzip} B gzip), ` +
        `sha256 ${sha256.slice(0, 16)}…; dist/publish-${name}.json`,
    );
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
