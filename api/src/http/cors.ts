import type { ErrorRequestHandler, RequestHandler } from 'express';
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
const publicOperationsOf = (operations: OperationInfo[]) =>
  operations.filter((operation) => operation.security.some((r) => 'publishableKey' in r));

export function preflight(knex: Knex, operations: OperationInfo[], frameOrigin: string | null): RequestHandler {
  const publicOperations = publicOperationsOf(operations);
  return async (req, res) => {
    const methods = publicOperations.filter((operation) => operation.pattern.test(req.path)).map((o) => o.method);
    const origin = originHeader(req); // preflights are always cross-origin, so they carry one
    const key = typeof req.query.key === 'string' ? req.query.key : null;
    const allowed = methods.length > 0 && origin && key ? await publishableKeyOrigins(knex, key, frameOrigin) : [];
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

/**
 * Lets a site's page read the problem a public call got (a validation error, say), when its origin is
 * one the key's site allows: without it the browser hides the body, and a widget could not tell
 * `validation_failed` from a network failure.
 */
export function corsOnErrors(knex: Knex, operations: OperationInfo[], frameOrigin: string | null): ErrorRequestHandler {
  const publicOperations = publicOperationsOf(operations);
  return async (error, req, res, next) => {
    const origin = originHeader(req);
    if (origin && res.locals.allowedOrigin === origin) {
      allowOrigin(res, origin);
      return next(error);
    }
    // Refused before the dispatcher checked the key (by the validator, say): look the key up. Not when
    // the database itself is what failed.
    const key = req.query.key;
    const isPublic = publicOperations.some((operation) => operation.pattern.test(req.path));
    if (origin && typeof key === 'string' && isPublic && (error as Error)?.name !== 'KnexTimeoutError') {
      const allowed = await publishableKeyOrigins(knex, key, frameOrigin).catch((): string[] => []);
      if (allowed.includes(origin)) allowOrigin(res, origin);
    }
    next(error);
  };
}
