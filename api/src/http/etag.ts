import type { Request } from 'express';

/**
 * Whether the request's `If-None-Match` names this entity tag: any of a list, weakly compared (a proxy
 * that compresses may mark a tag `W/`), or `*`.
 */
export function notModified(request: Request, etag: string): boolean {
  const header = request.get('if-none-match');
  if (!header) return false;
  return header.split(',').some((tag) => {
    const candidate = tag.trim().replace(/^W\//, '');
    return candidate === '*' || candidate === etag;
  });
}
