/**
 * Builds a module template into its `POST /v1/modules` body: the manifest, and each element's entry bundled
 * with esbuild (`src/<tag>.ts` → `<tag>.js`, one minified ES module importing Lit from the platform's shared
 * runtime). A module without elements ships an empty `index.js`: a version always has a bundle.
 *
 *   npx tsx examples/templates/build.ts widget   # → examples/templates/widget/dist/publish.json
 *
 * From a test: `const body = await buildTemplate('widget')`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { SHARED_LIT, type ModuleManifest, type ModulePublishBody } from '../faq-module/build.js';

export const TEMPLATES = ['widget', 'app'] as const;
export type Template = (typeof TEMPLATES)[number];

export const templateDir = (template: Template) => path.join(path.dirname(fileURLToPath(import.meta.url)), template);

export async function readTemplateManifest(template: Template): Promise<ModuleManifest> {
  return JSON.parse(await readFile(path.join(templateDir(template), 'dramac.module.json'), 'utf8')) as ModuleManifest;
}

async function bundle(template: Template, entry: string): Promise<string> {
  const result = await build({
    entryPoints: [path.join(templateDir(template), 'src', entry.replace(/\.js$/, '.ts'))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'shared-lit',
        setup: (build) => build.onResolve({ filter: /^lit(\/.*)?$/ }, () => ({ path: SHARED_LIT, external: true })),
      },
    ],
  });
  const [output] = result.outputFiles;
  if (!output || result.outputFiles.length !== 1) throw new Error(`esbuild made no single file of ${entry}`);
  return Buffer.from(output.contents).toString('base64');
}

export async function buildTemplate(template: Template): Promise<ModulePublishBody> {
  const manifest = await readTemplateManifest(template);
  const entries = (manifest.elements ?? []).map((element) => element.entry);
  const files = Object.fromEntries(
    entries.length > 0
      ? await Promise.all(entries.map(async (entry) => [entry, await bundle(template, entry)] as const))
      : [['index.js', Buffer.from('export {};\n').toString('base64')] as const],
  );
  return { manifest, files };
}

async function main(template: string | undefined): Promise<void> {
  if (!TEMPLATES.includes(template as Template)) {
    console.error(`usage: npx tsx examples/templates/build.ts <${TEMPLATES.join('|')}>`);
    process.exit(2);
  }
  const body = await buildTemplate(template as Template);
  const dist = path.join(templateDir(template as Template), 'dist');
  await mkdir(dist, { recursive: true });
  await writeFile(path.join(dist, 'publish.json'), `${JSON.stringify(body)}\n`);
  console.log(
    `${body.manifest.id}@${body.manifest.version}: ${Object.keys(body.files).join(', ')} → ${dist}/publish.json`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv[2]);
}
