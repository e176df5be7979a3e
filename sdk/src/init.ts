import { createDramacClient, type DramacClient } from './client.js';

export interface InitOptions {
  /** Where the Dramac API is, e.g. `https://api.dramac.example`. */
  baseUrl: string;
  /**
   * The site's publishable key (`pk_…`), which every Dramac element on the page then uses. On a server, a
   * secret key (`sk_…`) or session token (`ses_…`) works too: it is sent as a bearer token and never handed
   * to elements, which would put it in a URL.
   */
  key?: string;
  /** Another `fetch` (tests, proxies, runtimes without a global one). */
  fetch?: typeof globalThis.fetch;
}

/** The connection elements fall back to when neither their attributes nor a `<dm-provider>` give one. */
export interface DefaultConnection {
  readonly baseUrl: string;
  /** Publishable keys only. */
  readonly key?: string;
  readonly fetch?: typeof globalThis.fetch;
}

// Module state, set only by `init`: importing the SDK changes nothing (server-side rendering imports it too).
let current: DefaultConnection | undefined;
const listeners = new Set<(connection: DefaultConnection) => void>();

// Only a publishable key may go to elements (and so into URLs); anything else is a bearer credential.
const publishable = /^pk_/;

/**
 * Sets the page-wide default connection for every Dramac element (elements already on the page reload
 * with it) and returns a typed client for the same API and key.
 */
export function init(options: InitOptions): DramacClient {
  const { baseUrl, key, fetch } = options;
  if (!baseUrl) throw new TypeError('init: baseUrl is required');
  const secret = key !== undefined && !publishable.test(key);
  current = Object.freeze({ baseUrl, key: secret ? undefined : key, fetch });
  for (const notify of listeners) notify(current);
  return createDramacClient(secret ? { baseUrl, token: key, fetch } : { baseUrl, publishableKey: key, fetch });
}

/** The connection the last `init` set, if any. */
export function getDefaultConnection(): DefaultConnection | undefined {
  return current;
}

/** Calls `listener` after each `init`; returns the function that stops it (elements call it when removed). */
export function onDefaultConnectionChange(listener: (connection: DefaultConnection) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
