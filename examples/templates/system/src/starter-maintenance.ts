/**
 * `<starter-maintenance>`: the system template's element, a screen for the platform operator's staff. It lists
 * the maintenance windows still to come, soonest first, from the module's collection with the user's token;
 * who may see them is what their role's module permission allows (`starter.maintenance.windows.read`).
 *
 *   <starter-maintenance api-base="https://api.example.com" site-id="…"></starter-maintenance>   (then set `.token`)
 *
 * A system module is installed on the operator's own sites only, and its elements are never put on a page by
 * the loader: the operator's console signs the user in and hands the element their token.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';

const MODULE_ID = 'starter.maintenance';

export interface MaintenanceWindow {
  id: string;
  title: string;
  /** UTC, ISO 8601. */
  starts_at: string;
  ends_at: string;
}

type State =
  | { kind: 'signed-out' }
  | { kind: 'loading' }
  | { kind: 'error'; message: string }
  | { kind: 'ready'; windows: MaintenanceWindow[] };

const when = new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeStyle: 'short' });

export class StarterMaintenance extends LitElement {
  static override properties = {
    apiBase: { attribute: 'api-base' },
    siteId: { attribute: 'site-id' },
    token: { attribute: false },
    settings: { type: Object },
    fetch: { attribute: false },
    now: { attribute: false },
    state: { state: true },
  };

  declare apiBase: string;
  declare siteId: string;
  declare token: string | undefined;
  declare settings: { title?: string };
  declare fetch: typeof globalThis.fetch;
  /** What time it is: windows that ended by then are left out (a story or test sets it). */
  declare now: () => number;
  declare state: State;

  constructor() {
    super();
    this.apiBase = '';
    this.siteId = '';
    this.token = undefined;
    this.settings = {};
    this.fetch = (...args) => globalThis.fetch(...args);
    this.now = () => Date.now();
    this.state = { kind: 'signed-out' };
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('token') || changed.has('siteId') || changed.has('apiBase') || changed.has('fetch')) {
      void this.load();
    }
  }

  private async load(): Promise<void> {
    if (!this.token) {
      this.state = { kind: 'signed-out' };
      return;
    }
    this.state = { kind: 'loading' };
    const query = new URLSearchParams({ site_id: this.siteId, sort: 'starts_at', limit: '100' });
    try {
      const response = await this.fetch(`${this.apiBase}/v1/m/${MODULE_ID}/windows?${query}`, {
        headers: { authorization: `Bearer ${this.token}` },
      });
      const answer = (await response.json().catch(() => ({}))) as { data?: MaintenanceWindow[]; detail?: string };
      if (!response.ok) throw new Error(answer.detail ?? `The API answered ${response.status}.`);
      const now = this.now();
      this.state = {
        kind: 'ready',
        windows: (answer.data ?? []).filter((planned) => Date.parse(planned.ends_at) > now),
      };
    } catch (error) {
      this.state = { kind: 'error', message: (error as Error).message };
    }
  }

  override render() {
    const title = this.settings.title ?? 'Planned maintenance';
    return html`<section part="panel" aria-label=${title}>
      ${title ? html`<h2 part="title">${title}</h2>` : nothing} ${this.renderBody()}
    </section>`;
  }

  private renderBody() {
    switch (this.state.kind) {
      case 'signed-out':
        return html`<p part="status">Sign in to see the planned maintenance.</p>`;
      case 'loading':
        return html`<p part="status" role="status">Loading the maintenance windows…</p>`;
      case 'error':
        return html`<p part="status error" role="alert">${this.state.message}</p>`;
      case 'ready':
        if (this.state.windows.length === 0) return html`<p part="status empty">No maintenance is planned.</p>`;
        return html`<ul part="list">
          ${this.state.windows.map(
            (planned) =>
              html`<li part="window">
                <span part="window-title">${planned.title}</span>
                <span part="window-time">
                  <time datetime=${planned.starts_at}>${when.format(new Date(planned.starts_at))}</time> –
                  <time datetime=${planned.ends_at}>${when.format(new Date(planned.ends_at))}</time>
                </span>
              </li>`,
          )}
        </ul>`;
    }
  }

  static override styles = css`
    :host {
      display: block;
      font-family: var(--dm-font-family, system-ui, sans-serif);
      --_text: var(--dm-color-text, #1d2330);
      --_surface: var(--dm-color-surface, #ffffff);
      --_border: var(--dm-color-border, #767c88);
      --_error: var(--dm-color-error, #b42318);
    }
    :host([theme='dark']) {
      --_text: var(--dm-color-text, #eef1f6);
      --_surface: var(--dm-color-surface, #1d2330);
      --_border: var(--dm-color-border, #a3aab6);
      --_error: var(--dm-color-error, #ffb4a8);
    }
    [part~='panel'] {
      padding: 1rem;
      border: 1px solid var(--_border);
      border-radius: var(--dm-radius, 8px);
      background: var(--_surface);
      color: var(--_text);
    }
    [part~='title'] {
      margin: 0 0 0.75rem;
      font-size: 1.1rem;
    }
    [part~='list'] {
      list-style: none;
      margin: 0;
      padding: 0;
    }
    [part~='window'] {
      display: flex;
      flex-wrap: wrap;
      justify-content: space-between;
      gap: 0.25rem 1rem;
      padding: 0.5rem 0;
      border-bottom: 1px solid var(--_border);
    }
    [part~='window-title'] {
      font-weight: 600;
    }
    [part~='status'] {
      margin: 0;
    }
    [part~='error'] {
      color: var(--_error);
    }
  `;
}

if (!customElements.get('starter-maintenance')) customElements.define('starter-maintenance', StarterMaintenance);

declare global {
  interface HTMLElementTagNameMap {
    'starter-maintenance': StarterMaintenance;
  }
}
