/**
 * `<starter-notice>`: the widget template's element. It shows the site's newest active notice, read from the
 * module's declarative collection with the site's publishable key, as a bar a visitor may close.
 *
 *   <starter-notice api-base="https://api.example.com" key="pk_…" settings='{"tone":"warning"}'></starter-notice>
 *
 * The loader sets `api-base`, `key` and `settings` (the install's settings for this tag) on a client's page.
 * Text goes through Lit templates only (escaped), styles are a constructable stylesheet (no inline style, so it
 * runs under a strict CSP), and the site's theme tokens (`--dm-color-*`, `--dm-radius`) restyle it.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';

const MODULE_ID = 'starter.notice';

/** As the manifest's settings schema describes them, with its defaults. */
export interface NoticeSettings {
  tone: 'info' | 'success' | 'warning';
  dismissible: boolean;
}

const DEFAULTS: NoticeSettings = { tone: 'info', dismissible: true };

const STRINGS = {
  en: { loading: 'Loading the notice…', error: 'The notice can’t be shown right now.', close: 'Close the notice' },
  de: {
    loading: 'Hinweis wird geladen …',
    error: 'Der Hinweis kann gerade nicht angezeigt werden.',
    close: 'Hinweis schließen',
  },
};

type State = { kind: 'loading' } | { kind: 'none' } | { kind: 'error' } | { kind: 'ready'; message: string };

export class StarterNotice extends LitElement {
  static override properties = {
    apiBase: { attribute: 'api-base' },
    key: {},
    settings: { type: Object },
    fetch: { attribute: false },
    state: { state: true },
    dismissed: { state: true },
  };

  declare apiBase: string;
  declare key: string;
  declare settings: Partial<NoticeSettings>;
  /** How it calls the API: `fetch` unless a story or test gives another. */
  declare fetch: typeof globalThis.fetch;
  declare state: State;
  declare dismissed: boolean;

  constructor() {
    super();
    this.apiBase = '';
    this.key = '';
    this.settings = {};
    this.fetch = (...args) => globalThis.fetch(...args);
    this.state = { kind: 'loading' };
    this.dismissed = false;
  }

  private get strings() {
    return this.closest('[lang]')?.getAttribute('lang')?.startsWith('de') ? STRINGS.de : STRINGS.en;
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('apiBase') || changed.has('key') || changed.has('fetch')) void this.load();
  }

  private async load(): Promise<void> {
    this.state = { kind: 'loading' };
    const query = new URLSearchParams({ key: this.key, sort: '-created_at', limit: '1' });
    try {
      const response = await this.fetch(`${this.apiBase}/v1/m/${MODULE_ID}/notices?${query}`);
      if (!response.ok) throw new Error(`the API answered ${response.status}`);
      const body = (await response.json()) as { data: { message: string }[] };
      const [newest] = body.data;
      this.state = newest ? { kind: 'ready', message: newest.message } : { kind: 'none' };
    } catch (error) {
      this.state = { kind: 'error' };
      console.warn(`<starter-notice>: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  override render() {
    const settings = { ...DEFAULTS, ...this.settings };
    const strings = this.strings;
    if (this.dismissed || this.state.kind === 'none') return nothing;
    if (this.state.kind === 'loading') return html`<p part="status" role="status">${strings.loading}</p>`;
    if (this.state.kind === 'error') return html`<p part="status error">${strings.error}</p>`;
    return html`<div part="notice" class=${settings.tone} role="region" aria-label=${this.state.message}>
      <p part="message">${this.state.message}</p>
      ${
        settings.dismissible
          ? html`<button part="close" type="button" aria-label=${strings.close} @click=${() => (this.dismissed = true)}>
              ×
            </button>`
          : nothing
      }
    </div>`;
  }

  static override styles = css`
    :host {
      display: block;
      font-family: var(--dm-font-family, system-ui, sans-serif);
      --_text: var(--dm-color-text, #1d2330);
      --_surface: var(--dm-color-surface, #ffffff);
    }
    :host([theme='dark']) {
      --_text: var(--dm-color-text, #eef1f6);
      --_surface: var(--dm-color-surface, #1d2330);
    }
    [part~='notice'] {
      display: flex;
      align-items: center;
      gap: 0.75rem;
      padding: 0.5rem 1rem;
      border-radius: var(--dm-radius, 6px);
      border-left: 4px solid var(--_accent);
      background: var(--_surface);
      color: var(--_text);
    }
    .info {
      --_accent: var(--dm-color-primary, #2454d6);
    }
    .success {
      --_accent: #1a7f37;
    }
    .warning {
      --_accent: #9a6700;
    }
    [part~='message'] {
      flex: 1;
      margin: 0;
    }
    [part~='close'] {
      font: inherit;
      font-size: 1.25rem;
      line-height: 1;
      min-width: 2rem;
      min-height: 2rem;
      background: none;
      border: 0;
      color: inherit;
      cursor: pointer;
    }
    [part~='status'] {
      margin: 0;
      padding: 0.5rem 1rem;
      background: var(--_surface);
      color: var(--_text);
    }
  `;
}

if (!customElements.get('starter-notice')) customElements.define('starter-notice', StarterNotice);

declare global {
  interface HTMLElementTagNameMap {
    'starter-notice': StarterNotice;
  }
}
