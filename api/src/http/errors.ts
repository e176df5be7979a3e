import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { BODY_LIMIT, PUBLISH_BODY_LIMIT } from './limits.js';
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
    new Problem(
      413,
      'payload_too_large',
      'Payload too large',
      `The body is larger than this API accepts (${BODY_LIMIT}; ${PUBLISH_BODY_LIMIT} for publishing a module).`,
    ),
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
  // invalid_datetime_format, datetime_field_overflow: a date or time from the request (a cursor) is impossible.
  '22007': () => new Problem(400, 'invalid_cursor', 'Bad request', 'The cursor is not one this API returned.'),
  '22008': () => new Problem(400, 'invalid_cursor', 'Bad request', 'The cursor is not one this API returned.'),
  // character_not_in_repertoire: a string with a NUL character, which a text column cannot hold.
  '22021': () =>
    new Problem(
      400,
      'validation_failed',
      'Bad request',
      'A string contains a NUL character (\\u0000), which is not allowed.',
    ),
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
  // No database connection came free in time: the server is overloaded, not the request wrong.
  if ((error as Error)?.name === 'KnexTimeoutError') {
    return new Problem(503, 'database_busy', 'Service unavailable', 'The database is busy; retry shortly.', undefined, {
      'Retry-After': '1',
    });
  }
  // A row-level security check refused a write into rows the tenant cannot see: for it, they do not exist.
  // (Other privilege errors are bugs, and stay 500s.)
  if (candidate.code === '42501' && /row-level security/.test(String((error as Error).message))) {
    return new Problem(404, 'not_found', 'Not found', 'A resource this request refers to does not exist.');
  }
  const validation = error as ValidatorError;
  const known = typeof validation.status === 'number' ? VALIDATOR_CODES[validation.status] : undefined;
  if (known && Array.isArray(validation.errors)) {
    // The validator says `/params/x` and `/headers/x`; the spec's Problem documents `/path/x` and `/header/x`.
    // Some of its paths are dotted (`.query.limit`): those become pointers; a pointer's own dots (a key such
    // as `acme.faq.questions.read`) stay.
    const errors = validation.errors.map(({ path, message }) => ({
      path: (path.startsWith('.') ? path.replace(/\./g, '/') : path)
        .replace(/^\/params\//, '/path/')
        .replace(/^\/headers\//, '/header/'),
      message,
    }));
    const detail =
      validation.status === 415
        ? 'Send the body as application/json.'
        : errors.map((e) => `${e.path} ${e.message}`).join('; ') || validation.message;
    return new Problem(validation.status, known[0], known[1], detail, errors);
  }
  return clientError(error);
}

/** Other 4xx errors raised beneath the handlers (the router, body-parser's decompression): the client's fault. */
function clientError(error: unknown): Problem | null {
  const { status, expose, code } = (error ?? {}) as { status?: unknown; expose?: unknown; code?: unknown };
  if (typeof status !== 'number' || status < 400 || status > 499) return null;
  // The router could not percent-decode a path segment (`/v1/sites/%E0%A4%A`).
  if (error instanceof URIError)
    return new Problem(400, 'malformed_url', 'Bad request', 'The URL is not validly percent-encoded.');
  // A body that does not inflate as its Content-Encoding says (zlib's Z_DATA_ERROR …).
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new Problem(400, 'malformed_body', 'Bad request', 'The body is not encoded as its Content-Encoding says.');
  }
  // Any other error http-errors marks as safe to show.
  if (expose === true)
    return new Problem(
      status,
      'bad_request',
      STATUS_CODES[status] ?? 'Bad request',
      'The request cannot be processed.',
    );
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
  res
    .status(problem.status)
    .type('application/problem+json')
    .json(problemBody(problem, String(req.id)));
};
