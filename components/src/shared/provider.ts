import { ContextProvider } from '@lit/context';
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { connectionContext } from './connection.js';

/**
 * `<dm-provider api-base="…" key="pk_…">` gives every Dramac element inside it the API connection, so a
 * page with several widgets states it once. An element's own attributes still win; `init()` from
 * `@dramac/sdk` sets a page-wide default below both. On the platform's own pages, its `token` property (a
 * signed-in user's session or OAuth access token; never an attribute) signs in the app elements inside it.
 *
 * @slot - The Dramac elements (at any depth) that use this connection.
 */
export class DmProvider extends LitElement {
  static override properties: PropertyDeclarations = {
    apiBase: { attribute: 'api-base' },
    key: {},
    settings: { type: Object },
    fetch: { attribute: false },
    token: { attribute: false },
  };

  static override styles = css`
    :host {
      display: contents;
    }
  `;

  /** Where the Dramac API is, e.g. `https://api.dramac.example`. */
  declare apiBase: string | undefined;
  /** The site's publishable key (`pk_…`). */
  declare key: string | undefined;
  /** The installed module's settings (JSON in the attribute). */
  declare settings: Readonly<Record<string, unknown>> | undefined;
  /** Another `fetch` (tests, proxies); property only. */
  declare fetch: typeof globalThis.fetch | undefined;
  /** A signed-in user's bearer token for the app elements inside; property only, never an attribute. */
  declare token: string | undefined;

  private readonly provider = new ContextProvider(this, { context: connectionContext });

  /** `key` under another name, for React, where `key` is a reserved prop. */
  get publishableKey(): string | undefined {
    return this.key;
  }
  set publishableKey(value: string | undefined) {
    this.key = value;
  }

  protected override willUpdate(): void {
    // A new object each time, so subscribed elements re-render and rebuild their client.
    this.provider.setValue({
      apiBase: this.apiBase,
      key: this.key,
      token: this.token,
      settings: this.settings,
      fetch: this.fetch,
    });
  }

  protected override render() {
    return html`<slot></slot>`;
  }
}

// Registering twice (two copies of a bundle on one page) must not throw; without a registry (a server
// runtime without Lit's DOM shim) importing still succeeds. Lit's node build shims one, so SSR sees it.
if (globalThis.customElements && !customElements.get('dm-provider')) customElements.define('dm-provider', DmProvider);

declare global {
  interface HTMLElementTagNameMap {
    'dm-provider': DmProvider;
  }
}
