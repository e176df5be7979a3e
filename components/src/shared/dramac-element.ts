import { ContextConsumer } from '@lit/context';
import { Task } from '@lit/task';
import { LitElement, html, type PropertyDeclarations } from 'lit';
import { createDramacClient, getDefaultConnection, onDefaultConnectionChange, type DramacClient } from '@dramac/sdk';
import { connectionContext, type DramacConnection } from './connection.js';
import { dispatchDramacEvent, type DramacEventMap } from './events.js';
import { localeOf, onDocumentLangChange, sharedMessages, type Locale, type MessageCatalogue } from './i18n.js';
import { stateStyles, themeStyles } from './theme.js';

/** Who an element is for: a site's `visitors` (publishable key) or signed-in `users` (their bearer token). */
export type Audience = 'visitors' | 'users';

/**
 * Thrown by an app element's data loading while no user is signed in (no `token`): it shows its sign-in state,
 * which is no failure, so nothing is logged and no `dm-error` is dispatched.
 */
export class SignInRequired extends Error {
  constructor() {
    super('sign-in required: set the token property of the element or of its <dm-provider>');
    this.name = 'SignInRequired';
  }
}

/**
 * The base of every Dramac element: where the API is, a typed client for it, data loading with calm
 * loading / empty / error states, theme tokens, localised strings and `dm-` events.
 *
 * Attributes: `api-base`, `key` (publishable), `theme` (`light` | `dark`), `lang`. Properties: the same plus
 * `settings`, `fetch` and `token`. Anything not set on the element comes from the nearest `<dm-provider>`, and
 * then from the page-wide default of `init()` in `@dramac/sdk` (which never hands out a token).
 *
 * An element's `audience` says which credential its client sends: elements for a site's visitors send the
 * publishable key (in the query string, where a CORS preflight sees it) and never a token; app elements, for
 * signed-in users, send the user's token as `Authorization: Bearer …` and never the key.
 *
 * Parts (data elements): `loading`, `empty`, `error`. Slots with the same names replace their text.
 *
 * @attr lang - The language of the element's texts (`en`, `de`); the nearest ancestor's `lang` otherwise.
 * @fires dm-error - Data could not be loaded; the element shows its fallback. `detail`: `{ message }`.
 * @csspart loading - The loading state (`role="status"`).
 * @csspart empty - The state shown when there is no data.
 * @csspart error - The fallback shown when data could not be loaded.
 * @slot loading - Replaces the loading text.
 * @slot empty - Replaces the empty text.
 * @slot error - Replaces the error text.
 * @cssprop --dm-color-primary - Accent colour (focus rings, chosen items).
 * @cssprop --dm-color-text - Text colour.
 * @cssprop --dm-color-muted - Colour of secondary text and states.
 * @cssprop --dm-color-surface - Background colour.
 * @cssprop --dm-color-border - Border colour.
 * @cssprop --dm-radius - Corner radius.
 * @cssprop --dm-space - Base spacing.
 * @cssprop --dm-font-family - Font family.
 * @cssprop --dm-font-size - Base font size.
 */
export class DramacElement extends LitElement {
  static override properties: PropertyDeclarations = {
    apiBase: { attribute: 'api-base' },
    key: {},
    settings: { type: Object },
    fetch: { attribute: false },
    // A credential: a property only, so it never shows in the DOM (nor in a copied snippet).
    token: { attribute: false },
    theme: { reflect: true },
  };

  /** Who the element is for: `visitors` (the publishable key) or signed-in `users` (their token). */
  static audience: Audience = 'visitors';

  static override styles = [themeStyles, stateStyles];

  // `declare` keeps TypeScript from emitting class fields that would shadow Lit's reactive accessors.
  /** Where the Dramac API is, e.g. `https://api.dramac.example`. */
  declare apiBase: string | undefined;
  /** The site's publishable key (`pk_…`). */
  declare key: string | undefined;
  /** The installed module's settings (JSON in the attribute). */
  declare settings: Readonly<Record<string, unknown>> | undefined;
  /** Another `fetch` (tests, proxies); property only. */
  declare fetch: typeof globalThis.fetch | undefined;
  /**
   * A signed-in user's bearer token (a session token `ses_…` from `POST /v1/sessions`, or an OAuth access
   * token), for app elements; property only, never an attribute. Visitor elements ignore it.
   */
  declare token: string | undefined;
  /** `light` or `dark`; the visitor's `prefers-color-scheme` otherwise. */
  declare theme: 'light' | 'dark' | undefined;

  private readonly provided = new ContextConsumer(this, { context: connectionContext, subscribe: true });
  private cachedClient?: {
    apiBase: string;
    credential?: string;
    fetch?: typeof globalThis.fetch;
    client: DramacClient;
  };
  private stopWatchingDocumentLang?: () => void;
  private stopWatchingDefault?: () => void;

  /** `key` under another name, for React, where `key` is a reserved prop. */
  get publishableKey(): string | undefined {
    return this.key;
  }
  set publishableKey(value: string | undefined) {
    this.key = value;
  }

  /** The element's own connection settings, completed by its provider's, then by `init()`'s default. */
  get connection(): DramacConnection {
    const provided = this.provided.value;
    const fallback = getDefaultConnection();
    const apiBase = this.apiBase ?? provided?.apiBase ?? fallback?.baseUrl;
    return {
      apiBase,
      key: this.key ?? provided?.key ?? fallback?.key,
      // The provider's token goes only where the provider sends it: never to another `api-base`.
      token: this.token ?? (provided?.token && apiBase === provided.apiBase ? provided.token : undefined),
      settings: { ...provided?.settings, ...this.settings },
      fetch: this.fetch ?? provided?.fetch ?? fallback?.fetch,
    };
  }

  /** The element's class's audience (see `audience`). */
  protected get audience(): Audience {
    return (this.constructor as typeof DramacElement).audience;
  }

  /**
   * A typed API client for the current connection (the same one until the connection changes), sending the
   * credential of the element's audience; none for an app element without a signed-in user.
   */
  protected get client(): DramacClient | undefined {
    const { apiBase, key, token, fetch } = this.connection;
    const forUsers = this.audience === 'users';
    const credential = forUsers ? token : key;
    if (!apiBase || (forUsers && !token)) return undefined;
    const cached = this.cachedClient;
    if (cached?.apiBase === apiBase && cached.credential === credential && cached.fetch === fetch) {
      return cached.client;
    }
    const client = createDramacClient(
      forUsers ? { baseUrl: apiBase, token, fetch } : { baseUrl: apiBase, publishableKey: key, fetch },
    );
    this.cachedClient = { apiBase, credential, fetch, client };
    return client;
  }

  /** The locale of this element's (or its nearest ancestor's) `lang`; `en` otherwise. */
  get locale(): Locale {
    return localeOf(this);
  }

  protected messages<Messages>(catalogue: MessageCatalogue<Messages>): Messages {
    return catalogue[this.locale];
  }

  protected emit<K extends keyof DramacEventMap>(type: K, detail: DramacEventMap[K]): boolean {
    return dispatchDramacEvent(this, type, detail);
  }

  /**
   * Loads data whenever `args` or the connection change. A failure logs one console warning, dispatches
   * `dm-error` and leaves the element on its quiet fallback: a widget never breaks its page.
   */
  protected loadData<const Args extends readonly unknown[], Result>(
    args: () => Args,
    load: (args: Args, client: DramacClient, signal: AbortSignal) => Promise<Result>,
  ): Task<[DramacClient | undefined, ...Args], Result> {
    return new Task(this, {
      args: () => [this.client, ...args()] as [DramacClient | undefined, ...Args],
      task: async ([client, ...rest], { signal }) => {
        try {
          if (!client && this.audience === 'users' && !this.connection.token) throw new SignInRequired();
          if (!client)
            throw new Error('no API connection: set api-base, wrap the element in <dm-provider> or call init()');
          return await load(rest as unknown as Args, client, signal);
        } catch (error) {
          // A newer run superseded this one, or nobody is signed in yet: nothing anyone needs to hear about.
          if (!signal.aborted && !(error instanceof SignInRequired)) this.reportLoadError(error);
          throw error;
        }
      },
    });
  }

  /** Renders a task's state: `loading`, `error` or `empty` parts, or the element's own view of the data. */
  protected renderData<Args extends readonly unknown[], Result>(
    task: Task<Args, Result>,
    complete: (value: Result) => unknown,
    isEmpty: (value: Result) => boolean = () => false,
  ): unknown {
    const text = this.messages(sharedMessages);
    const loading = () =>
      html`<div part="loading" role="status" aria-live="polite"><slot name="loading">${text.loading}</slot></div>`;
    return task.render({
      initial: loading,
      pending: loading,
      error: () => html`<div part="error" role="status"><slot name="error">${text.error}</slot></div>`,
      complete: (value) =>
        isEmpty(value)
          ? html`<div part="empty" role="status"><slot name="empty">${text.empty}</slot></div>`
          : complete(value),
    });
  }

  private reportLoadError(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    console.warn(`[dramac] <${this.localName}> could not load its data: ${message}`);
    this.emit('dm-error', { message });
  }

  // `lang` stays the native property; observing the attribute is enough to re-render on a switch.
  static override get observedAttributes(): string[] {
    return [...super.observedAttributes, 'lang'];
  }

  override attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    super.attributeChangedCallback(name, old, value);
    if (name === 'lang' && old !== value) this.requestUpdate();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.stopWatchingDocumentLang = onDocumentLangChange(() => this.requestUpdate());
    // A later `init()` re-renders the element, and its data task reloads if the connection changed.
    this.stopWatchingDefault = onDefaultConnectionChange(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stopWatchingDocumentLang?.();
    this.stopWatchingDefault?.();
  }
}
