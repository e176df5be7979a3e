import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import express, { Router } from 'express';
import type { OpenApiDocument } from './spec.js';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const demoDir = path.resolve(here, '../../../examples/plain-html');
const studioDir = path.resolve(here, '../../../studio');
const storybookDir = path.resolve(here, '../../../storybook/dist');
const scalarBundle = require.resolve('@scalar/api-reference/browser/standalone.js');
const manifestSchema = require.resolve('@dramac/openapi/dramac.module.schema.json');

// Pages get a strict policy; the API reference needs inline styles (its UI framework sets them).
const STRICT_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'";
// Its scripts come from /docs/ only: the same origin also serves published modules' bundles, which the
// reference has no business running. (A path needs a full origin; this one is the request's own.)
const docsCsp = (origin: string) =>
  `default-src 'self'; script-src ${origin}/docs/; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; object-src 'none'`;

const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Dramac API reference</title>
  </head>
  <body>
    <div id="app"></div>
    <script src="/docs/scalar.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>`;

/** The reference's set-up: the platform's document first, then each module's generated one. */
const docsInit = (sources: DocumentSource[]) => `Scalar.createApiReference('#app', {
  sources: ${JSON.stringify([{ title: 'Dramac Platform API', url: '/openapi.json' }, ...sources])},
  withDefaultFonts: false,
  telemetry: false,
  hideClientButton: true,
  // Nothing that calls out to Scalar's hosted services.
  showDeveloperTools: 'never',
  agent: { disabled: true },
});`;

/**
 * The static Storybook build (`npm run build:storybook`, part of `npm run generate`) at /studio/storybook/.
 * Its pages carry inline scripts: each page's policy allows exactly those, by hash, and nothing else inline
 * (its styles are set inline by its UI framework, as the reference's are).
 */
function storybook(): Router {
  const router = Router();
  const policies = new Map<string, string>();
  const policyOf = (page: string) => {
    let policy = policies.get(page);
    if (!policy) {
      const html = fs.readFileSync(path.join(storybookDir, page), 'utf8');
      const hashes = [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
        ([, code]) => `'sha256-${createHash('sha256').update(code!).digest('base64')}'`,
      );
      policy = `default-src 'self'; script-src 'self' ${hashes.join(' ')}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; object-src 'none'; frame-ancestors 'self'`;
      policies.set(page, policy);
    }
    return policy;
  };
  router.get(['/', '/index.html', '/iframe.html'], (req, res, next) => {
    if (req.originalUrl === '/studio/storybook') return res.redirect(301, '/studio/storybook/');
    const page = req.path === '/' ? 'index.html' : req.path.slice(1);
    if (!fs.existsSync(path.join(storybookDir, page))) return next();
    res.set('Content-Security-Policy', policyOf(page)).sendFile(path.join(storybookDir, page), { maxAge: 0 });
  });
  router.use(express.static(storybookDir, { index: false, maxAge: '1h' }));
  return router;
}

export interface DocumentSource {
  title: string;
  url: string;
}

/**
 * The human-facing pages: the API reference at /docs (with every module's generated API), the spec, the
 * module manifest's JSON Schema for editors, the agency studio at /studio, and (with demo data) the demo
 * site at /.
 */
export function pages(options: {
  spec: OpenApiDocument;
  publicUrl: string;
  /** See Config.frameUrl: the studio shows the iframe snippet with it. */
  frameUrl: string | null;
  demoKey: string | null;
  moduleSources: () => Promise<DocumentSource[]>;
}): Router {
  const router = Router();
  // Browsers ask for it on every page that names no icon (Storybook's preview frame): no icon, and no 404.
  router.get('/favicon.ico', (_req, res) => res.status(204).set('Cache-Control', 'public, max-age=86400').end());
  router.get('/openapi.json', (_req, res) => {
    res.json(options.spec);
  });
  router.get('/schemas/dramac.module.json', (_req, res) => {
    res.type('application/schema+json').sendFile(manifestSchema, { maxAge: '1h' });
  });
  router.get('/docs', (req, res) => {
    res
      .set('Content-Security-Policy', docsCsp(`${req.protocol}://${req.get('host')}`))
      .type('html')
      .send(DOCS_HTML);
  });
  router.get('/docs/init.js', async (_req, res) => {
    res
      .set('Cache-Control', 'public, max-age=60')
      .type('js')
      .send(docsInit(await options.moduleSources()));
  });
  router.get('/docs/scalar.js', (_req, res) => {
    res.sendFile(scalarBundle, { maxAge: '1h' });
  });

  // The studio calls the API from this origin only, with the signed-in user's session.
  const studioPage = fs
    .readFileSync(path.join(studioDir, 'index.html'), 'utf8')
    .replaceAll('%DRAMAC_FRAME_URL%', options.frameUrl ?? '');
  // Its only frames are the previews of third parties' elements, in the iframe embed's origins.
  const studioFrames = options.frameUrl ? `; frame-src ${options.frameUrl}` : '';
  router.get('/studio', (_req, res) => {
    res
      .set('Content-Security-Policy', `${STRICT_CSP}; connect-src 'self'; frame-ancestors 'none'${studioFrames}`)
      .type('html')
      .send(studioPage);
  });
  router.get('/studio/studio.css', (_req, res) => res.sendFile(path.join(studioDir, 'studio.css'), { maxAge: 0 }));
  router.get('/studio/studio.js', (_req, res) => res.sendFile(path.join(studioDir, 'dist/studio.js'), { maxAge: 0 }));
  router.use('/studio/storybook', storybook());

  const { demoKey } = options;
  if (!demoKey) {
    router.get('/', (_req, res) => res.redirect('/docs'));
    return router;
  }
  const demoPage = fs
    .readFileSync(path.join(demoDir, 'index.html'), 'utf8')
    .replaceAll('%DRAMAC_KEY%', demoKey)
    .replaceAll('%DRAMAC_API%', options.publicUrl);
  router.get('/', (_req, res) => {
    res
      .set('Content-Security-Policy', `${STRICT_CSP}; connect-src 'self' ${options.publicUrl}`)
      .type('html')
      .send(demoPage);
  });
  router.use('/demo', express.static(demoDir, { index: false }));
  return router;
}
