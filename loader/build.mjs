/**
 * Builds what the API serves for embedding (into dist/, git-ignored):
 *   loader.js       the bootstrap behind `<script src="…/v1/embed/pk_….js">`; the server puts the site's
 *                   configuration where `__DRAMAC_CONFIG__` stands
 *   lit-runtime.js  Lit, once for every module on a page: module bundles import it as `/v1/runtime/lit@3.js`
 *   frame.js        the iframe embed's page script: it tells the host page its height, and applies a studio
 *                   preview's settings and theme
 *   launcher.js     floating widgets' light button, imported by the embed script of sites that have one
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

const common = { bundle: true, minify: true, write: true, logLevel: 'warning', legalComments: 'none' };
const script = (name) => ({ ...common, entryPoints: [here(`src/${name}.ts`)], outfile: here(`dist/${name}.js`) });
await Promise.all([
  build({ ...script('loader'), format: 'iife', target: 'es2019' }),
  build({ ...script('frame'), format: 'iife', target: 'es2019' }),
  build({ ...script('lit-runtime'), format: 'esm', target: 'es2021' }),
  build({ ...script('launcher'), format: 'esm', target: 'es2021' }),
]);
