/**
 * A stand-in for the CRM's form endpoint at the fetch level, shared by the stories and the tests: the
 * element's real client builds real requests, and these answer them as the API would.
 */
import type { components } from '@dramac/sdk';

type Problem = components['schemas']['Problem'];
export type ContactFormReceipt = components['schemas']['CrmFormReceipt'];

export const fixtureApiBase = 'https://api.dramac.test';
export const fixtureKey = 'pk_test_contact_form';

export interface ContactFormScenario {
  /** How the submission is answered: received (default), refused for a field, rate-limited, failing, or never. */
  answer?: 'received' | 'invalid' | 'rate_limited' | 'error' | 'pending';
  /** With `invalid`: the field named in the 400 and the API's message about it. */
  invalidField?: { path: string; message: string };
  /** With `rate_limited`: the `Retry-After` seconds. */
  retryAfter?: number;
}

function problem(status: number, code: string, extra: Partial<Problem> = {}, headers: HeadersInit = {}): Response {
  const body: Problem = { type: `urn:dramac:problem:${code}`, title: code, status, code, ...extra };
  return Response.json(body, { status, headers: { 'content-type': 'application/problem+json', ...headers } });
}

/** Answers `<dm-contact-form>`'s requests in a scenario. */
export function contactFormResponder(scenario: ContactFormScenario = {}) {
  return async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (request.method !== 'POST' || url.pathname !== '/v1/crm/form-submissions') return problem(404, 'not_found');
    switch (scenario.answer) {
      case 'pending':
        return new Promise((_, reject) =>
          request.signal.addEventListener('abort', () => reject(request.signal.reason)),
        );
      case 'invalid': {
        const error = scenario.invalidField ?? { path: '/body/fields/email', message: 'must match format "email"' };
        return problem(400, 'validation_failed', { detail: 'Bad request', errors: [error] });
      }
      case 'rate_limited': {
        const seconds = scenario.retryAfter ?? 120;
        return problem(
          429,
          'rate_limited',
          { detail: `Too many attempts; retry in ${seconds} s.` },
          {
            'Retry-After': String(seconds),
          },
        );
      }
      case 'error':
        return problem(500, 'internal_error');
      default: {
        const receipt: ContactFormReceipt = { received: true, received_at: new Date().toISOString() };
        return Response.json(receipt, { status: 202 });
      }
    }
  };
}

/** A `fetch` answering the contact form's requests in a scenario (stories pass it as `.fetch`). */
export function contactFormFetch(scenario: ContactFormScenario = {}): typeof globalThis.fetch {
  const respond = contactFormResponder(scenario);
  return async (input, init) => respond(new Request(input, init));
}
