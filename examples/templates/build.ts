/**
 * Builds a module template into its `POST /v1/modules` body: the manifest, and each element's entry bundled
 * (`src/<tag>.ts` → `<tag>.js`) by the first-party modules' `bundleElement`: one minified ES module importing
 * Lit from the platform's shared runtime, a deep `lit/…` import refused. An integration has no element (its
 * `src/` is the vendor's back end, which stays with the vendor): it ships no files.
 *
 *   npx tsx examples/templates/build.ts widget   # → examples/templates/widget/dist/publish.json
 *
 * From a test: `const body = await buildTemplate('widget')`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleElement, type ModuleManifest, type ModulePublishBody } from '../../scripts/first-party-module.js';

export const TEMPLATES = ['widget', 'app', 'integration', 'system'] as const;
export type Template = (typeof TEMPLATES)[number];

export const templateDir = (template: Template) => path.join(path.dirname(fileURLToPath(import.meta.url)), template);

export async function readTemplateManifest(template: Template): Promise<ModuleManifest> {
  return JSON.parse(await readFile(path.join(templateDir(template), 'dramac.module.json'), 'utf8')) as ModuleManifest;
}

/** One element's entry (`<tag>.js`), bundled from `src/<tag>.ts` as first-party elements are. */
async function bundle(template: Template, entry: string): Promise<string> {
  const source = path.join(templateDir(template), 'src', entry.replace(/\.js$/, '.ts'));
  return Buffer.from(await bundleElement(source)).toString('base64');
}

export async function buildTemplate(template: Template): Promise<ModulePublishBody> {
  const manifest = await readTemplateManifest(template);
  const entries = (manifest.elements ?? []).map((element) => element.entry);
  const files = await Promise.all(entries.map(async (entry) => [entry, await bundle(template, entry)] as const));
  return { manifest, files: Object.fromEntries(files) };
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
