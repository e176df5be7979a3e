import type { ErrorRequestHandler } from 'express';
import { Problem, problemBody } from './problem.js';

interface ValidatorError {
  status: number;
  message: string;
  errors?: { path: string; message: string }[];
}

/** body-parser's failures, by their `type`. */
const BODY_ERRORS: Record<string, () => Problem> = {
  'entity.parse.failed': () => new Problem(400, 'malformed_json', 'Bad request', 'The body is not valid JSON.'),
  'entity.too.large': () =>
    new Problem(413, 'payload_too_large', 'Payload too large', 'The body is larger than the 100 kB this API accepts.'),
  'encoding.unsupported': () =>
    new Problem(415, 'unsupported_media_type', 'Unsupported media type', 'Send an uncompressed body.'),
  'charset.unsupported': () =>
    new Problem(415, 'unsupported_media_type', 'Unsupported media type', 'Send the body as UTF-8.'),
};

/** Database errors that mean the request, not the server, is at fault (Postgres SQLSTATE codes). */
const DATABASE_ERRORS: Record<string, () => Problem> = {
  // unique_violation: a concurrent request created the same thing first.
  '23505': () => new Problem(409, 'already_exists', 'Conflict', 'That already exists.'),
  // foreign_key_violation: the thing referred to is gone (or belongs to another tenant).
  '23503': () => new Problem(404, 'not_found', 'Not found', 'A resource this request refers to does not exist.'),
  // insufficient_privilege, raised by a row-level security check: invisible rows do not exist.
  '42501': () => new Problem(404, 'not_found', 'Not found', 'A resource this request refers to does not exist.'),
};

const VALIDATOR_CODES: Record<number, [string, string]> = {
  400: ['validation_failed', 'Bad request'],
  404: ['route_not_found', 'Not found'],
  405: ['method_not_allowed', 'Method not allowed'],
  406: ['not_acceptable', 'Not acceptable'],
  413: ['payload_too_large', 'Payload too large'],
  415: ['unsupported_media_type', 'Unsupported media type'],
};

function toProblem(error: unknown): Problem | null {
  if (error instanceof Problem) return error;
  const candidate = error as { type?: string; code?: string; status?: number };
  if (candidate.type && BODY_ERRORS[candidate.type]) return BODY_ERRORS[candidate.type]!();
  if (typeof candidate.code === 'string' && DATABASE_ERRORS[candidate.code]) return DATABASE_ERRORS[candidate.code]!();
  const validation = error as ValidatorError;
  const known = typeof validation.status === 'number' ? VALIDATOR_CODES[validation.status] : undefined;
  if (known && Array.isArray(validation.errors)) {
    const errors = validation.errors.map(({ path, message }) => ({ path: path.replace(/\./g, '/'), message }));
    const detail = errors.map((e) => `${e.path} ${e.message}`).join('; ') || validation.message;
    return new Problem(validation.status, known[0], known[1], detail, errors);
  }
  return null;
}

/** Every error becomes problem+json; unexpected ones are logged in full and answered without details. */
export const errorHandler: ErrorRequestHandler = (error, req, res, next) => {
  if (res.headersSent) return next(error);
  let problem = toProblem(error);
  if (!problem) {
    req.log.error({ err: error }, 'request failed');
    problem = new Problem(500, 'internal_error', 'Internal server error', 'Something went wrong on our side.');
  }
  res.set(problem.headers);
  res.status(problem.status).type('application/problem+json').json(problemBody(problem, String(req.id)));
};
