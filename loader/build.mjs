/**
 * Builds what the API serves for embedding (into dist/, git-ignored):
 *   loader.js       the bootstrap behind `<script src="…/v1/embed/pk_….js">`; the server puts the site's
 *                   configuration where `__DRAMAC_CONFIG__` stands
 *   lit-runtime.js  Lit, once for every module on a page: module bundles import it as `/v1/runtime/lit@3.js`
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

const common = { bundle: true, minify: true, write: true, logLevel: 'warning', legalComments: 'none' };
await Promise.all([
  build({
    ...common,
    entryPoints: [here('src/loader.ts')],
    outfile: here('dist/loader.js'),
    format: 'iife',
    target: 'es2019',
  }),
  build({
    ...common,
    entryPoints: [here('src/lit-runtime.ts')],
    outfile: here('dist/lit-runtime.js'),
    format: 'esm',
    target: 'es2021',
  }),
]);
