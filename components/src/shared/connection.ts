import { createContext } from '@lit/context';

/** How an element reaches the Dramac API: set on the element itself or provided by a `<dm-provider>`. */
export interface DramacConnection {
  /** Where the API is, e.g. `https://api.dramac.example`. */
  apiBase?: string;
  /** The site's publishable key (`pk_…`), for elements a site's visitors use. */
  key?: string;
  /**
   * A signed-in user's bearer token (a session token `ses_…` or an OAuth access token), for app elements
   * only. Sent as `Authorization: Bearer …`; never an attribute, never in a URL, never logged.
   */
  token?: string;
  /** The installed module's settings, as the loader or the page passes them. */
  settings?: Readonly<Record<string, unknown>>;
  /** Another `fetch` (tests, proxies); the global one otherwise. */
  fetch?: typeof globalThis.fetch;
}

export const connectionContext = createContext<DramacConnection | undefined>(Symbol('dramac-connection'));
