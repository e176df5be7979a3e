import type { RequestHandler } from 'express';
import { badRequest, pointerToken } from './problem.js';

/** Deeper than any body of the spec; what is deeper is refused before anything walks it. */
const MAX_DEPTH = 32;

/**
 * Refuses, with a 400 naming the place, JSON bodies nested deeper than MAX_DEPTH and strings holding a NUL
 * character (no Postgres text can). Walked without recursion, so no body can exhaust the stack.
 */
export const bodyShape: RequestHandler = (req, _res, next) => {
  const pending: { value: unknown; path: string; depth: number }[] = [{ value: req.body, path: '/body', depth: 0 }];
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { value, path, depth } = item;
    if (typeof value === 'string' && value.includes('\0')) {
      throw badRequest('validation_failed', `${path} contains a NUL character (\\u0000), which is not allowed.`, [
        { path, message: 'must not contain a NUL character' },
      ]);
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_DEPTH) {
      throw badRequest('validation_failed', `The body is nested more than ${MAX_DEPTH} levels deep.`, [
        { path, message: `must not be nested more than ${MAX_DEPTH} levels deep` },
      ]);
    }
    for (const [key, inner] of Object.entries(value)) {
      if (key.includes('\0')) {
        throw badRequest('validation_failed', `${path} has a key with a NUL character, which is not allowed.`, [
          { path, message: 'must not have a key with a NUL character' },
        ]);
      }
      pending.push({ value: inner, path: `${path}/${pointerToken(key)}`, depth: depth + 1 });
    }
  }
  next();
};
