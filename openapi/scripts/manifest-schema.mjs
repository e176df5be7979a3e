/**
 * Writes dist/dramac.module.schema.json: the manifest's schema from the bundled contract, as a standalone
 * draft 2020-12 JSON Schema that editors can use through a manifest's `$schema`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { URL } from 'node:url';

const dist = new URL('../dist/', import.meta.url);
const spec = JSON.parse(readFileSync(new URL('platform.json', dist), 'utf8'));
const components = spec.components.schemas;
const PREFIX = '#/components/schemas/';

/** Copies `schema`, pointing its `$ref`s at `$defs` and noting which components it needs. */
function rewrite(schema, needed) {
  if (Array.isArray(schema)) return schema.map((item) => rewrite(item, needed));
  if (schema === null || typeof schema !== 'object') return schema;
  const copy = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string' && value.startsWith(PREFIX)) {
      const name = value.slice(PREFIX.length);
      needed.add(name);
      copy.$ref = `#/$defs/${name}`;
    } else copy[key] = rewrite(value, needed);
  }
  return copy;
}

const needed = new Set();
const root = rewrite(components.ModuleManifest, needed);
const defs = {};
// Walk the components the manifest references, and theirs, until none is new.
for (const name of needed) {
  if (!components[name]) throw new Error(`ModuleManifest references a missing schema: ${name}`);
  defs[name] = rewrite(components[name], needed);
}

const schema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://dramac.dev/schemas/dramac.module.json',
  title: 'Dramac module manifest (dramac.module.json)',
  ...root,
  $defs: Object.fromEntries(Object.entries(defs).sort(([a], [b]) => a.localeCompare(b))),
};
writeFileSync(new URL('dramac.module.schema.json', dist), `${JSON.stringify(schema, null, 2)}\n`);
