/**
 * Builds the agency studio's panel (into dist/, git-ignored): one script, because the page's CSP allows
 * scripts from the platform's own origin only. It bundles Lit, the typed client and the first-party elements
 * the preview shows.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (file) => fileURLToPath(new URL(file, import.meta.url));

await build({
  entryPoints: [here('src/studio-app.ts')],
  outfile: here('dist/studio.js'),
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2021',
  logLevel: 'warning',
  legalComments: 'none',
});
