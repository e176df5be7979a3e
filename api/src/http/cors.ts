import type { RequestHandler } from 'express';
import type { Knex } from 'knex';
import { publishableKeyOrigins } from './auth.js';
import { allowOrigin, originHeader } from './origins.js';
import { forbidden } from './problem.js';
import type { OperationInfo } from './spec.js';

const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Answers CORS preflights for the public endpoints, and only for the origins the key's site allows.
 * The key travels in the query string precisely so that a preflight (which carries no credentials)
 * can be answered per site. Other endpoints are never readable cross-origin, so their preflights fail.
 */
export function preflight(knex: Knex, operations: OperationInfo[]): RequestHandler {
  const publicOperations = operations.filter((operation) => operation.security.some((r) => 'publishableKey' in r));
  return async (req, res) => {
    const methods = publicOperations.filter((operation) => operation.pattern.test(req.path)).map((o) => o.method);
    const origin = originHeader(req); // preflights are always cross-origin, so they carry one
    const key = typeof req.query.key === 'string' ? req.query.key : null;
    const allowed = methods.length > 0 && origin && key ? await publishableKeyOrigins(knex, key) : [];
    if (!origin || !allowed.includes(origin)) {
      throw forbidden(
        'origin_not_allowed',
        "Cross-origin requests are allowed to public endpoints, from the site's allowed origins only.",
      );
    }
    allowOrigin(res, origin);
    res.set({
      'Access-Control-Allow-Methods': methods.map((m) => m.toUpperCase()).join(', '),
      'Access-Control-Allow-Headers': 'Content-Type, Idempotency-Key',
      'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
    });
    res.status(204).end();
  };
}
