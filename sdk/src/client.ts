import createClient, { type Client } from 'openapi-fetch';
import type { paths } from '@dramac/openapi/types';

export type { components, operations, paths } from '@dramac/openapi/types';

export interface DramacClientOptions {
  /** Where the Dramac API is, e.g. `https://api.dramac.example`. */
  baseUrl: string;
  /**
   * A bearer credential, sent as `Authorization: Bearer …`: a session token (`ses_…`) or an OAuth access token
   * for a signed-in user (app elements on the platform's own pages), or a secret key (`sk_…`) for servers.
   */
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
    async onRequest({ request }) {
      if (options.token) request.headers.set('Authorization', `Bearer ${options.token}`);
      if (!options.publishableKey) return request;
      // Publishable keys travel in the query string, where a CORS preflight can see them.
      const url = new URL(request.url);
      url.searchParams.set('key', options.publishableKey);
      // The body is copied as bytes: a request made from another carries it as a stream, which browsers send
      // only over HTTP/2 (Chromium fails an HTTP/1.1 POST so: ERR_ALPN_NEGOTIATION_FAILED).
      const bodyless = request.method === 'GET' || request.method === 'HEAD';
      return new Request(url, {
        method: request.method,
        headers: request.headers,
        body: bodyless ? undefined : await request.arrayBuffer(),
        signal: request.signal,
        credentials: request.credentials,
        cache: request.cache,
        redirect: request.redirect,
      });
    },
  });
  return client;
}
