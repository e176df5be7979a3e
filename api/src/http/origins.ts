import type { Request, Response } from 'express';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The canonical form of a web origin (`https://www.example.com`, default port dropped), or an error
 * message. `http:` is accepted for loopback hosts only, so a site is never embedded over plain HTTP.
 */
export function normalizeOrigin(input: string): { origin: string } | { error: string } {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return { error: 'is not a URL; an origin looks like https://www.example.com' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { error: 'must start with https://' };
  // `*.localhost` is loopback too (RFC 6761), and browsers treat it as a secure context.
  if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname) && !url.hostname.endsWith('.localhost')) {
    return { error: 'must use https:// (http:// is allowed for localhost only)' };
  }
  if (url.username || url.password || url.pathname !== '/' || url.search || url.hash || input.endsWith('#')) {
    return { error: 'must be a scheme and host only, with no path, query or credentials' };
  }
  return { origin: url.origin };
}

/**
 * The request's Origin header, normalised; null without one. An opaque origin (sandboxed frames, some
 * redirects) stays the string `null`, which no site allows and which is not the platform's own.
 */
export function originHeader(req: Request): string | null {
  const header = req.get('origin');
  if (!header) return null;
  if (header === 'null') return header;
  const result = normalizeOrigin(header);
  return 'origin' in result ? result.origin : header;
}

/**
 * Where a browser request comes from. Browsers leave Origin out of same-origin GETs, so a request whose
 * Fetch Metadata says `same-origin` comes from the platform's own origin. Null for servers and curl.
 */
export function requestOrigin(req: Request, platformOrigin: string): string | null {
  if (req.get('origin')) return originHeader(req);
  return req.get('sec-fetch-site') === 'same-origin' ? platformOrigin : null;
}

/** Lets the browser read the response: only ever for an origin the site allows. */
export function allowOrigin(res: Response, origin: string): void {
  res.set('Access-Control-Allow-Origin', origin);
  // Retry-After: a widget told to wait (429) says for how long.
  res.set('Access-Control-Expose-Headers', 'X-Request-Id, Idempotent-Replayed, ETag, Retry-After');
  res.append('Vary', 'Origin');
}
