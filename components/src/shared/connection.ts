import { createContext } from '@lit/context';

/** How an element reaches the Dramac API: set on the element itself or provided by a `<dm-provider>`. */
export interface DramacConnection {
  /** Where the API is, e.g. `https://api.dramac.example`. */
  apiBase?: string;
  /** The site's publishable key (`pk_…`). */
  key?: string;
  /** The installed module's settings, as the loader or the page passes them. */
  settings?: Readonly<Record<string, unknown>>;
  /** Another `fetch` (tests, proxies); the global one otherwise. */
  fetch?: typeof globalThis.fetch;
}

export const connectionContext = createContext<DramacConnection | undefined>(Symbol('dramac-connection'));
