/**
 * `<acme-faq>`: the Acme FAQ module's element. It lists the site's questions from the module's declarative
 * collection (`GET /v1/m/acme.faq/questions` with the site's publishable key) as a disclosure list.
 *
 *   <acme-faq api-base="https://api.example.com" key="pk_…" settings='{"category":"billing"}'></acme-faq>
 *
 * Everything is rendered through Lit templates (text is escaped), styles are constructable stylesheets (no
 * inline `style`, so it runs under a strict CSP), and it can be themed with `--dm-color-primary`,
 * `--dm-font-family`, `--dm-radius` and the parts `list`, `item`, `question`, `answer` (and `feedback`).
 */
import { LitElement, css, html, nothing, type ComplexAttributeConverter, type PropertyValues } from 'lit';

// Replaced at build time (esbuild `define`); the fallbacks keep the source usable unbundled.
declare const __FAQ_VERSION__: string | undefined;
declare const __FAQ_FEEDBACK__: boolean | undefined;

/** The module version this bundle was built for. */
export const FAQ_VERSION: string = typeof __FAQ_VERSION__ === 'string' ? __FAQ_VERSION__ : 'dev';
/** Whether this version ships the `feedback` collection ("was this helpful?"). */
const FEEDBACK_SUPPORTED: boolean = typeof __FAQ_FEEDBACK__ === 'boolean' ? __FAQ_FEEDBACK__ : false;

const MODULE_ID = 'acme.faq';

/** The element's settings, as the manifest's settings schema describes them (with its defaults). */
export interface FaqSettings {
  title: string;
  category: string;
  expand_first: boolean;
  max_items: number;
  show_feedback: boolean;
}

const DEFAULTS: FaqSettings = {
  title: 'Frequently asked questions',
  category: '',
  expand_first: false,
  max_items: 20,
  show_feedback: true,
};

interface Question {
  id: string;
  question: string;
  answer: string;
}

type LoadState = 'loading' | 'empty' | 'error' | 'ready';
type Vote = 'sending' | 'sent';

const STRINGS = {
  en: {
    loading: 'Loading questions…',
    empty: 'No questions yet.',
    error: 'The questions can’t be shown right now.',
    helpful: 'Was this helpful?',
    yes: 'Yes',
    no: 'No',
    thanks: 'Thanks for your feedback.',
  },
  de: {
    loading: 'Fragen werden geladen …',
    empty: 'Noch keine Fragen.',
    error: 'Die Fragen können gerade nicht angezeigt werden.',
    helpful: 'War das hilfreich?',
    yes: 'Ja',
    no: 'Nein',
    thanks: 'Danke für Ihr Feedback.',
  },
};

/** `settings` from an attribute: JSON, or nothing (never throws on a bad attribute). */
const settingsConverter: ComplexAttributeConverter<Partial<FaqSettings>> = {
  fromAttribute(value) {
    if (!value) return {};
    try {
      const parsed: unknown = JSON.parse(value);
      return isRecord(parsed) ? (parsed as Partial<FaqSettings>) : {};
    } catch {
      return {};
    }
  },
  toAttribute(value) {
    return JSON.stringify(value);
  },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The settings with defaults filled in and anything of the wrong type ignored. */
export function normalizeSettings(input: unknown): FaqSettings {
  const raw = isRecord(input) ? input : {};
  const str = (v: unknown, d: string) => (typeof v === 'string' ? v : d);
  const bool = (v: unknown, d: boolean) => (typeof v === 'boolean' ? v : d);
  const max = typeof raw.max_items === 'number' && Number.isFinite(raw.max_items) ? Math.trunc(raw.max_items) : 20;
  return {
    title: str(raw.title, DEFAULTS.title),
    category: str(raw.category, DEFAULTS.category).trim(),
    expand_first: bool(raw.expand_first, DEFAULTS.expand_first),
    max_items: Math.min(100, Math.max(1, max)),
    show_feedback: bool(raw.show_feedback, DEFAULTS.show_feedback),
  };
}

/** The list request: `${apiBase}/v1/m/acme.faq/questions?key=…&sort=position[&filter[category]=…]&limit=…`. */
export function questionsUrl(apiBase: string, key: string, settings: FaqSettings): string {
  const query = new URLSearchParams({ key, sort: 'position' });
  if (settings.category) query.set('filter[category]', settings.category);
  query.set('limit', String(settings.max_items));
  return `${apiBase.replace(/\/+$/, '')}/v1/m/${MODULE_ID}/questions?${query}`;
}

function parseQuestions(body: unknown): Question[] {
  if (!isRecord(body) || !Array.isArray(body.data)) throw new Error('unexpected response shape');
  return body.data.flatMap((item: unknown) =>
    isRecord(item) &&
    typeof item.id === 'string' &&
    typeof item.question === 'string' &&
    typeof item.answer === 'string'
      ? [{ id: item.id, question: item.question, answer: item.answer }]
      : [],
  );
}

export class AcmeFaq extends LitElement {
  static override properties = {
    settings: { type: Object, converter: settingsConverter },
    apiBase: { type: String, attribute: 'api-base' },
    publishableKey: { type: String, attribute: 'key' },
    _state: { state: true },
    _questions: { state: true },
    _votes: { state: true },
  };

  static override styles = css`
    :host {
      display: block;
      font-family: var(--dm-font-family, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
      color: inherit;
      line-height: 1.5;
    }
    :host([hidden]) {
      display: none;
    }
    h2 {
      margin: 0 0 0.75em;
      font-size: 1.375em;
      line-height: 1.25;
    }
    .status {
      margin: 0;
      opacity: 0.75;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: 0.5em;
    }
    li {
      border: 1px solid rgba(127, 127, 127, 0.35);
      border: 1px solid color-mix(in srgb, currentColor 18%, transparent);
      border-radius: var(--dm-radius, 8px);
      overflow: hidden;
    }
    summary {
      cursor: pointer;
      padding: 0.75em 1em;
      font-weight: 600;
      color: var(--dm-color-primary, #0b5fff);
    }
    summary:focus-visible {
      outline: 2px solid var(--dm-color-primary, #0b5fff);
      outline-offset: -2px;
      border-radius: var(--dm-radius, 8px);
    }
    .answer {
      padding: 0 1em 0.75em;
      white-space: pre-line;
      overflow-wrap: anywhere;
    }
    .feedback {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.5em;
      padding: 0 1em 0.75em;
      font-size: 0.875em;
    }
    .feedback p {
      margin: 0;
    }
    button {
      font: inherit;
      cursor: pointer;
      padding: 0.25em 0.75em;
      border: 1px solid var(--dm-color-primary, #0b5fff);
      border-radius: var(--dm-radius, 8px);
      background: transparent;
      color: var(--dm-color-primary, #0b5fff);
    }
    button:disabled {
      cursor: default;
      opacity: 0.6;
    }
  `;

  /** The install's settings for this element (`settings["acme-faq"]`), or JSON in the `settings` attribute. */
  declare settings: Partial<FaqSettings>;
  /** The API's origin (and path prefix, if any); empty means the page's own origin. */
  declare apiBase: string;
  /** The site's publishable key (`pk_…`), from the `key` attribute. */
  declare publishableKey: string;

  declare private _state: LoadState;
  declare private _questions: Question[];
  declare private _votes: ReadonlyMap<string, Vote>;

  #abort: AbortController | undefined;
  #requested: string | undefined;

  constructor() {
    super();
    this.settings = {};
    this.apiBase = '';
    this.publishableKey = '';
    this._state = 'loading';
    this._questions = [];
    this._votes = new Map();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Reconnected after a load was cancelled: ask again.
    if (this.hasUpdated && this.#requested === undefined) this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.#abort) {
      this.#abort.abort();
      this.#abort = undefined;
      this.#requested = undefined;
    }
  }

  protected override willUpdate(_changed: PropertyValues<this>): void {
    const settings = normalizeSettings(this.settings);
    const url = questionsUrl(this.apiBase ?? '', this.publishableKey ?? '', settings);
    if (url !== this.#requested) void this.#load(url);
  }

  async #load(url: string): Promise<void> {
    this.#requested = url;
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    this._state = 'loading';
    try {
      if (!this.publishableKey) throw new Error('the `key` attribute (a publishable key) is missing');
      const response = await fetch(url, { signal: abort.signal, headers: { accept: 'application/json' } });
      if (!response.ok) throw new Error(`GET questions answered ${response.status}`);
      const questions = parseQuestions(await response.json());
      if (abort.signal.aborted) return;
      this._questions = questions;
      this._votes = new Map();
      this._state = questions.length ? 'ready' : 'empty';
    } catch (error) {
      if (abort.signal.aborted) return;
      this._questions = [];
      this._state = 'error';
      console.warn(`<acme-faq>: could not load the questions (${error instanceof Error ? error.message : error})`);
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
    }
  }

  async #vote(question: Question, helpful: boolean): Promise<void> {
    if (this._votes.has(question.id)) return;
    this._votes = new Map(this._votes).set(question.id, 'sending');
    const query = new URLSearchParams({ key: this.publishableKey });
    const url = `${(this.apiBase ?? '').replace(/\/+$/, '')}/v1/m/${MODULE_ID}/feedback?${query}`;
    let sent = false;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ question_id: question.id, helpful }),
      });
      if (!response.ok) throw new Error(`POST feedback answered ${response.status}`);
      sent = true;
    } catch (error) {
      console.warn(`<acme-faq>: could not send the feedback (${error instanceof Error ? error.message : error})`);
    }
    const votes = new Map(this._votes);
    if (sent) votes.set(question.id, 'sent');
    else votes.delete(question.id);
    this._votes = votes;
  }

  #strings() {
    const lang = (this.closest('[lang]')?.getAttribute('lang') ?? 'en').toLowerCase();
    return lang === 'de' || lang.startsWith('de-') ? STRINGS.de : STRINGS.en;
  }

  protected override render() {
    const settings = normalizeSettings(this.settings);
    const t = this.#strings();
    return html`
      ${settings.title ? html`<h2 part="title">${settings.title}</h2>` : nothing} ${this.#body(settings, t)}
    `;
  }

  #body(settings: FaqSettings, t: (typeof STRINGS)['en']) {
    switch (this._state) {
      case 'loading':
        return html`<p class="status" role="status">${t.loading}</p>`;
      case 'empty':
        return html`<p class="status">${t.empty}</p>`;
      case 'error':
        return html`<p class="status">${t.error}</p>`;
      case 'ready': {
        const feedback = FEEDBACK_SUPPORTED && settings.show_feedback && Boolean(this.publishableKey);
        return html`<ul part="list">
          ${this._questions.map(
            (q, i) =>
              html`<li part="item">
                <details ?open=${settings.expand_first && i === 0}>
                  <summary part="question">${q.question}</summary>
                  <div class="answer" part="answer">${q.answer}</div>
                  ${feedback ? this.#feedback(q, t) : nothing}
                </details>
              </li>`,
          )}
        </ul>`;
      }
    }
  }

  #feedback(question: Question, t: (typeof STRINGS)['en']) {
    const vote = this._votes.get(question.id);
    if (vote === 'sent') {
      return html`<div class="feedback" part="feedback"><p role="status">${t.thanks}</p></div>`;
    }
    const busy = vote === 'sending';
    return html`<div class="feedback" part="feedback" role="group" aria-label=${t.helpful}>
      <p>${t.helpful}</p>
      <button type="button" ?disabled=${busy} @click=${() => this.#vote(question, true)}>${t.yes}</button>
      <button type="button" ?disabled=${busy} @click=${() => this.#vote(question, false)}>${t.no}</button>
    </div>`;
  }
}

if (!customElements.get('acme-faq')) customElements.define('acme-faq', AcmeFaq);

declare global {
  interface HTMLElementTagNameMap {
    'acme-faq': AcmeFaq;
  }
}
