/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Where the Dramac API is, e.g. `http://localhost:3000`. */
  readonly VITE_DRAMAC_URL?: string;
  /** The site's publishable key (`pk_…`); this app's origin must be one of the site's allowed origins. */
  readonly VITE_DRAMAC_KEY?: string;
}

// Single-file components, for the TypeScript compiler (Vite compiles them; tsc does not look inside).
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
