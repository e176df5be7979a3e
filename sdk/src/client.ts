import createClient, { type Client } from 'openapi-fetch';
import type { paths } from '@dramac/openapi/types';

export type { components, operations, paths } from '@dramac/openapi/types';

export interface DramacClientOptions {
  /** Where the Dramac API is, e.g. `https://api.dramac.example`. */
  baseUrl: string;
  /** A session token (`ses_…`) or secret key (`sk_…`), for servers and signed-in users. */
  token?: string;
  /** A site's publishable key (`pk_…`), for browsers on the site's allowed origins. */
  publishableKey?: string;
  /** Another `fetch` (tests, proxies, runtimes without a global one). */
  fetch?: typeof globalThis.fetch;
}

export type DramacClient = Client<paths>;

/**
 * A typed client for the Dramac API: paths, parameters, bodies and responses all come from the
 * OpenAPI documents, so a wrong call fails to compile.
 */
export function createDramacClient(options: DramacClientOptions): DramacClient {
  const client = createClient<paths>({ baseUrl: options.baseUrl, fetch: options.fetch });
  client.use({
    onRequest({ request }) {
      if (options.token) request.headers.set('Authorization', `Bearer ${options.token}`);
      if (!options.publishableKey) return request;
      // Publishable keys travel in the query string, where a CORS preflight can see them.
      const url = new URL(request.url);
      url.searchParams.set('key', options.publishableKey);
      return new Request(url, request);
    },
  });
  return client;
}
