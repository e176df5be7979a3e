/**
 * `<starter-tasks>`: the app template's element, a screen for a client's signed-in users. It lists the site's
 * tasks from the module's collection with the user's token, adds tasks and ticks them off; what the user may do
 * is what their role's module permissions allow (`starter.tasks.tasks.read` / `.write`), checked by the API.
 *
 *   <starter-tasks api-base="https://api.example.com" site-id="…"></starter-tasks>   (then set `.token`)
 *
 * Apps are never put on a page by the loader: the host app signs the user in and hands the element their
 * token (a session or an OAuth access token).
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';

const MODULE_ID = 'starter.tasks';

export interface Task {
  id: string;
  title: string;
  done: boolean;
}

type State =
  { kind: 'signed-out' } | { kind: 'loading' } | { kind: 'error'; message: string } | { kind: 'ready'; tasks: Task[] };

export class StarterTasks extends LitElement {
  static override properties = {
    apiBase: { attribute: 'api-base' },
    siteId: { attribute: 'site-id' },
    token: { attribute: false },
    settings: { type: Object },
    fetch: { attribute: false },
    state: { state: true },
    refusal: { state: true },
  };

  declare apiBase: string;
  declare siteId: string;
  declare token: string | undefined;
  declare settings: { title?: string };
  declare fetch: typeof globalThis.fetch;
  declare state: State;
  /** Why the last change was refused (a permission the user lacks, a title too long). */
  declare refusal: string;

  constructor() {
    super();
    this.apiBase = '';
    this.siteId = '';
    this.token = undefined;
    this.settings = {};
    this.fetch = (...args) => globalThis.fetch(...args);
    this.state = { kind: 'signed-out' };
    this.refusal = '';
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('token') || changed.has('siteId') || changed.has('apiBase') || changed.has('fetch')) {
      void this.load();
    }
  }

  /** One call to the module's API as the user; a refusal's own words (problem+json `detail`) when it fails. */
  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.fetch(`${this.apiBase}/v1/m/${MODULE_ID}/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json().catch(() => ({}))) as T & { detail?: string; title?: string };
    if (!response.ok) throw new Error(answer.detail ?? answer.title ?? `The API answered ${response.status}.`);
    return answer;
  }

  private async load(): Promise<void> {
    if (!this.token) {
      this.state = { kind: 'signed-out' };
      return;
    }
    this.state = { kind: 'loading' };
    try {
      const list = await this.call<{ data: Task[] }>('GET', `tasks?site_id=${this.siteId}&sort=created_at&limit=100`);
      this.state = { kind: 'ready', tasks: list.data };
    } catch (error) {
      this.state = { kind: 'error', message: (error as Error).message };
    }
  }

  private async change(work: () => Promise<unknown>): Promise<void> {
    this.refusal = '';
    try {
      await work();
      await this.load();
    } catch (error) {
      this.refusal = (error as Error).message;
    }
  }

  private add(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const title = String(new FormData(form).get('title') ?? '').trim();
    if (!title) return Promise.resolve();
    return this.change(async () => {
      await this.call('POST', `tasks?site_id=${this.siteId}`, { title });
      form.reset();
    });
  }

  private toggle(task: Task): Promise<void> {
    // A record is found by its id alone: its site is its own.
    return this.change(() => this.call('PATCH', `tasks/${task.id}`, { done: !task.done }));
  }

  override render() {
    const title = this.settings.title ?? 'Tasks';
    return html`<section part="panel" aria-label=${title}>
      ${title ? html`<h2 part="title">${title}</h2>` : nothing} ${this.renderBody()}
    </section>`;
  }

  private renderBody() {
    switch (this.state.kind) {
      case 'signed-out':
        return html`<p part="status">Sign in to see the tasks.</p>`;
      case 'loading':
        return html`<p part="status" role="status">Loading tasks…</p>`;
      case 'error':
        return html`<p part="status error" role="alert">${this.state.message}</p>`;
      case 'ready':
        return html`${
            this.state.tasks.length === 0
              ? html`<p part="status empty">No tasks yet.</p>`
              : html`<ul part="list">
                  ${this.state.tasks.map(
                    (task) =>
                      html`<li part="task">
                        <label>
                          <input type="checkbox" .checked=${task.done} @change=${() => this.toggle(task)} />
                          <span class=${task.done ? 'done' : ''}>${task.title}</span>
                        </label>
                      </li>`,
                  )}
                </ul>`
          }
          <form part="add" @submit=${this.add}>
            <label for="title">New task</label>
            <input id="title" name="title" maxlength="200" required />
            <button type="submit">Add</button>
          </form>
          ${this.refusal ? html`<p part="refusal" role="alert">${this.refusal}</p>` : nothing}`;
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
      margin: 0 0 1rem;
      padding: 0;
    }
    [part~='task'] label {
      display: flex;
      gap: 0.5rem;
      padding: 0.25rem 0;
    }
    .done {
      text-decoration: line-through;
    }
    [part~='add'] {
      display: flex;
      gap: 0.5rem;
      align-items: center;
    }
    input,
    button {
      font: inherit;
      color: inherit;
      background: var(--_surface);
      border: 1px solid var(--_border);
      border-radius: 4px;
      padding: 0.25rem 0.5rem;
    }
    [part~='error'],
    [part~='refusal'] {
      color: var(--_error);
    }
  `;
}

if (!customElements.get('starter-tasks')) customElements.define('starter-tasks', StarterTasks);

declare global {
  interface HTMLElementTagNameMap {
    'starter-tasks': StarterTasks;
  }
}
