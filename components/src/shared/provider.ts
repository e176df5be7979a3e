import { ContextProvider } from '@lit/context';
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { connectionContext } from './connection.js';

/**
 * `<dm-provider api-base="…" key="pk_…">` gives every Dramac element inside it the API connection, so a
 * page with several widgets states it once. An element's own attributes still win.
 */
export class DmProvider extends LitElement {
  static override properties: PropertyDeclarations = {
    apiBase: { attribute: 'api-base' },
    key: {},
    settings: { type: Object },
    fetch: { attribute: false },
  };

  static override styles = css`
    :host {
      display: contents;
    }
  `;

  declare apiBase: string | undefined;
  declare key: string | undefined;
  declare settings: Readonly<Record<string, unknown>> | undefined;
  declare fetch: typeof globalThis.fetch | undefined;

  private readonly provider = new ContextProvider(this, { context: connectionContext });

  protected override willUpdate(): void {
    // A new object each time, so subscribed elements re-render and rebuild their client.
    this.provider.setValue({ apiBase: this.apiBase, key: this.key, settings: this.settings, fetch: this.fetch });
  }

  protected override render() {
    return html`<slot></slot>`;
  }
}

// Registering twice (two copies of a bundle on one page) must not throw.
if (!customElements.get('dm-provider')) customElements.define('dm-provider', DmProvider);

declare global {
  interface HTMLElementTagNameMap {
    'dm-provider': DmProvider;
  }
}
