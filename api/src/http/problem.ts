/** An error that becomes an RFC 9457 problem+json response with a stable machine-readable code. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail?: string,
    readonly errors?: { path: string; message: string }[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

/** A name as one token of a JSON pointer (RFC 6901), the way `errors[].path` names fields. */
export const pointerToken = (name: string | number) => String(name).replace(/~/g, '~0').replace(/\//g, '~1');

export const badRequest = (code: string, detail: string, errors?: { path: string; message: string }[]) =>
  new Problem(400, code, 'Bad request', detail, errors);

/** One invalid field of the body, named the way the validator names them. */
export const invalidField = (field: string, message: string) =>
  badRequest('validation_failed', `${field} ${message}`, [{ path: `/body/${field}`, message }]);

export const unauthorized = (detail: string) =>
  new Problem(401, 'unauthorized', 'Unauthorized', detail, undefined, { 'WWW-Authenticate': 'Bearer' });

export const forbidden = (code: string, detail: string) => new Problem(403, code, 'Forbidden', detail);

export const notFound = (what: string) => new Problem(404, 'not_found', 'Not found', `No such ${what}.`);

export const conflict = (code: string, detail: string) => new Problem(409, code, 'Conflict', detail);

export function problemBody(problem: Problem, requestId: string | undefined) {
  return {
    type: `urn:dramac:problem:${problem.code}`,
    title: problem.title,
    status: problem.status,
    code: problem.code,
    ...(problem.detail ? { detail: problem.detail } : {}),
    ...(problem.errors ? { errors: problem.errors } : {}),
    ...(requestId ? { request_id: requestId } : {}),
  };
}
