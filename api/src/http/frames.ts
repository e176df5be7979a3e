import type { RequestHandler } from 'express';
import { notFound } from './problem.js';

/**
 * The iframe embed's origins: FRAME_URL is a pattern, `https://*.frames.example.com`, and each site gets its
 * own origin (`*` → its id). A site's frame runs only that site's modules, its publishable key accepts only
 * that origin besides the site's own, and no two sites' frames share storage. See
 * docs/decisions/0008-embedding.md.
 */
export function frameOriginOf(frameUrl: string | null, siteId: string | null): string | null {
  return frameUrl && siteId ? frameUrl.replace('*', siteId.replaceAll('-', '')) : null;
}

/** What the frame hosts serve: the frame pages and the scripts they load, nothing of the API besides. */
const FRAME_PATHS = /^\/v1\/(frame|embed|runtime|bundles)\//;

export function frameHostsServeFramesOnly(frameUrl: string): RequestHandler {
  const suffix = new URL(frameUrl).host.slice(1); // `.frames.example.com[:port]`
  return (req, _res, next) => {
    const host = req.get('host') ?? '';
    if (host.endsWith(suffix) && !FRAME_PATHS.test(req.path)) {
      throw notFound('page here: this host serves the iframe embed only');
    }
    next();
  };
}
