/**
 * `<studio-app>`: the agency configurator at `/studio`. An agency user signs in, picks a client, a site and
 * one of the site's installed modules, edits the element's settings and the site's theme beside a live
 * preview that reads the site's real data, and saves through the public API (validated like any write). It
 * then shows the embed snippet three ways and whether the site allows the page it will be pasted on.
 *
 * The settings form comes from the module's own settings JSON Schema (`settingControls`), the theme form
 * from the shared theme tokens: nothing here lists a module's settings by hand.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { createDramacClient, type DramacClient, type components } from '@dramac/sdk';
import { THEME_TOKENS, settingControls, type SettingControl, type SettingsSchema } from '@dramac/components';
import componentsPackage from '@dramac/components/package.json' with { type: 'json' };
import elementsManifest from '@dramac/components/custom-elements.json' with { type: 'json' };
import { npmEntries, originCheck, snippets, KEY_PLACEHOLDER } from './snippets.js';

type Client = components['schemas']['Client'];
type Site = components['schemas']['Site'];
type Install = components['schemas']['Install'];
type ModuleVersion = components['schemas']['ModuleVersion'];
type SiteOrigin = components['schemas']['SiteOrigin'];
type Problem = components['schemas']['Problem'];
type Theme = components['schemas']['Theme'];
type ManifestElement = NonNullable<ModuleVersion['manifest']['elements']>[number];

const NPM_ENTRIES = npmEntries(componentsPackage.exports, elementsManifest);

/** A refusal the panel shows: the problem's words and, for a validation failure, each field's. */
interface Failure {
  message: string;
  fields: { path: string; message: string }[];
  /** The API's status, where the API refused. */
  status?: number;
}

function failureOf(problem: Partial<Problem> | undefined, status: number): Failure {
  return {
    message: problem?.detail ?? problem?.title ?? `The API answered ${status}.`,
    fields: problem?.errors ?? [],
    status,
  };
}

/** The data of an openapi-fetch answer, or a Failure thrown with the API's own explanation. */
async function dataOf<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (data === undefined || error !== undefined) throw failureOf(error as Partial<Problem>, response.status);
  return data;
}

const asFailure = (error: unknown): Failure =>
  typeof error === 'object' && error !== null && 'fields' in error
    ? (error as Failure)
    : { message: error instanceof Error ? error.message : String(error), fields: [] };

export class StudioApp extends LitElement {
  static override properties = {
    token: { state: true },
    clients: { state: true },
    clientId: { state: true },
    sites: { state: true },
    siteId: { state: true },
    installs: { state: true },
    versions: { state: true },
    moduleId: { state: true },
    tag: { state: true },
    settings: { state: true },
    tokens: { state: true },
    origins: { state: true },
    previewKey: { state: true },
    embedKey: { state: true },
    pasteAddress: { state: true },
    busy: { state: true },
    failure: { state: true },
    notice: { state: true },
  };

  declare token: string | null;
  declare clients: Client[];
  declare clientId: string;
  declare sites: Site[];
  declare siteId: string;
  declare installs: Install[];
  /** Each installed module's version, with its manifest (and so its elements' settings schemas). */
  declare versions: Record<string, ModuleVersion>;
  declare moduleId: string;
  declare tag: string;
  /** The element's settings as edited (saved on Save). */
  declare settings: Record<string, unknown>;
  /** The site's theme tokens as edited. */
  declare tokens: Record<string, string>;
  declare origins: SiteOrigin[];
  /** A publishable key for the live preview, made when a site is opened and revoked when it is left. */
  declare previewKey: { id: string; secret: string } | null;
  /** A publishable key made for the snippet; until then the snippet shows a placeholder. */
  declare embedKey: string | null;
  declare pasteAddress: string;
  declare busy: boolean;
  declare failure: Failure | null;
  declare notice: string;

  constructor() {
    super();
    this.token = null;
    this.clients = [];
    this.clientId = '';
    this.sites = [];
    this.siteId = '';
    this.installs = [];
    this.versions = {};
    this.moduleId = '';
    this.tag = '';
    this.settings = {};
    this.tokens = {};
    this.origins = [];
    this.previewKey = null;
    this.embedKey = null;
    this.pasteAddress = '';
    this.busy = false;
    this.failure = null;
    this.notice = '';
  }

  private readonly apiBase = location.origin;
  private api: DramacClient = createDramacClient({ baseUrl: this.apiBase });
  /** The iframe embed's origin pattern (FRAME_URL), from the page's meta tag; empty where none is set. */
  private readonly frameUrl = document.querySelector<HTMLMetaElement>('meta[name="dramac-frame-url"]')?.content ?? '';

  private readonly leave = () => this.revokePreviewKey(true);
  /** The site's theme as loaded: saving replaces its tokens and keeps the rest (its fonts). */
  private theme: Theme = { tokens: {} };

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('pagehide', this.leave);
    addEventListener('message', this.fitFrame);
  }

  override disconnectedCallback(): void {
    removeEventListener('pagehide', this.leave);
    removeEventListener('message', this.fitFrame);
    super.disconnectedCallback();
  }

  /** Runs one step of work: a busy flag while it lasts, its refusal shown when it fails. */
  private async step(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.failure = null;
    this.notice = '';
    try {
      await work();
    } catch (error) {
      const failure = asFailure(error);
      // A session that ended (expired, or signed out elsewhere) while the studio was open: back to signing in,
      // saying so, rather than failing every step after it. Unsaved edits are lost with it.
      if (failure.status === 401 && this.token) {
        this.forgetSession();
        this.notice = 'Your session has ended. Sign in again to go on.';
      } else this.failure = failure;
    } finally {
      this.busy = false;
    }
  }

  private signIn(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    return this.step(async () => {
      const session = await dataOf(
        this.api.POST('/v1/sessions', {
          body: { email: String(form.get('email')), password: String(form.get('password')) },
        }),
      );
      if (!session.token) throw new Error('The API gave no session token.');
      this.token = session.token;
      this.api = createDramacClient({ baseUrl: this.apiBase, token: session.token });
      this.clients = (await dataOf(this.api.GET('/v1/clients', { params: { query: { limit: 100 } } }))).data;
      if (this.clients.length === 1) await this.openClient(this.clients[0]!.id);
    });
  }

  private signOut(): Promise<void> {
    return this.step(async () => {
      await this.closeSite();
      // Ending the session is the API's; the studio forgets it either way.
      await this.api.DELETE('/v1/sessions/current').catch(() => undefined);
      this.forgetSession();
      this.notice = 'Signed out.';
    });
  }

  /** Back to the sign-in form, holding nothing of the session. */
  private forgetSession(): void {
    this.token = null;
    this.api = createDramacClient({ baseUrl: this.apiBase });
    this.clients = [];
    this.clientId = '';
    this.sites = [];
    this.previewKey = null;
    this.clearSite();
  }

  private async openClient(clientId: string): Promise<void> {
    await this.closeSite();
    this.clientId = clientId;
    this.sites = clientId
      ? (await dataOf(this.api.GET('/v1/sites', { params: { query: { client_id: clientId, limit: 100 } } }))).data
      : [];
    if (this.sites.length === 1) await this.openSite(this.sites[0]!.id);
  }

  private async closeSite(): Promise<void> {
    await this.revokePreviewKey(false);
    this.clearSite();
  }

  private clearSite(): void {
    this.siteId = '';
    this.installs = [];
    this.versions = {};
    this.moduleId = '';
    this.tag = '';
    this.origins = [];
    this.embedKey = null;
  }

  private async openSite(siteId: string): Promise<void> {
    await this.closeSite();
    if (!siteId) return;
    const params = { path: { siteId } };
    const [installs, theme, origins] = await Promise.all([
      dataOf(this.api.GET('/v1/sites/{siteId}/installs', { params: { ...params, query: { limit: 100 } } })),
      dataOf(this.api.GET('/v1/sites/{siteId}/theme', { params })),
      dataOf(this.api.GET('/v1/sites/{siteId}/origins', { params })),
    ]);
    const active = installs.data.filter((install) => install.status === 'active');
    const versions = await Promise.all(
      active.map((install) =>
        dataOf(
          this.api.GET('/v1/modules/{moduleId}/versions/{version}', {
            params: { path: { moduleId: install.module_id, version: install.version } },
          }),
        ),
      ),
    );
    this.siteId = siteId;
    this.installs = active;
    this.versions = Object.fromEntries(versions.map((version) => [version.module_id, version]));
    this.theme = theme;
    this.tokens = { ...theme.tokens };
    this.origins = origins.data;
    // The first module opens now: the form is there while the preview key is made, and a module picked
    // meanwhile stays picked.
    const first = active[0];
    if (first) this.openModule(first.module_id);
    const key = await dataOf(
      this.api.POST('/v1/keys', { body: { type: 'publishable', name: 'Agency studio preview', site_id: siteId } }),
    );
    // Another site opened while the key was made: this one's is of no more use.
    if (this.siteId !== siteId) return this.deleteKey(key.id, false);
    this.previewKey = { id: key.id, secret: key.secret ?? '' };
  }

  /** The preview key lives as long as the site is open here; on leaving the page the request outlives it. */
  private async revokePreviewKey(leavingPage: boolean): Promise<void> {
    const key = this.previewKey;
    this.previewKey = null;
    if (key) await this.deleteKey(key.id, leavingPage);
  }

  private async deleteKey(id: string, leavingPage: boolean): Promise<void> {
    if (!this.token) return;
    await fetch(`${this.apiBase}/v1/keys/${id}`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${this.token}` },
      keepalive: leavingPage,
    }).catch(() => undefined);
  }

  private openModule(moduleId: string): void {
    this.moduleId = moduleId;
    const element = this.elements()[0];
    this.openElement(element?.tag ?? '');
  }

  private openElement(tag: string): void {
    this.tag = tag;
    const install = this.installs.find((one) => one.module_id === this.moduleId);
    const saved = (install?.settings[tag] ?? {}) as Record<string, unknown>;
    // Every setting the schema has, the saved value where there is one: the form and the preview agree.
    const defaults = Object.fromEntries(this.controls().map((one) => [one.name, one.default]));
    this.settings = { ...defaults, ...saved };
  }

  private elements(): ManifestElement[] {
    return this.versions[this.moduleId]?.manifest.elements ?? [];
  }

  private controls(): SettingControl[] {
    const element = this.elements().find((one) => one.tag === this.tag);
    return settingControls(element?.settings as SettingsSchema | undefined);
  }

  private save(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    return this.step(async () => {
      const install = this.installs.find((one) => one.module_id === this.moduleId)!;
      const siteId = this.siteId;
      const updated = await dataOf(
        this.api.PATCH('/v1/sites/{siteId}/installs/{moduleId}', {
          params: { path: { siteId, moduleId: this.moduleId } },
          // The spec types each element's settings as an open object (its schema is the module's).
          body: { settings: { ...install.settings, [this.tag]: this.settings } as Install['settings'] },
        }),
      );
      const tokens = Object.fromEntries(Object.entries(this.tokens).filter(([, value]) => value !== ''));
      this.theme = await dataOf(
        this.api.PUT('/v1/sites/{siteId}/theme', { params: { path: { siteId } }, body: { ...this.theme, tokens } }),
      );
      this.installs = this.installs.map((one) => (one.module_id === updated.module_id ? updated : one));
      this.notice = 'Saved. The site shows the new settings on its next page load.';
    });
  }

  private addOrigin(origin: string): Promise<void> {
    return this.step(async () => {
      const added = await dataOf(
        this.api.POST('/v1/sites/{siteId}/origins', { params: { path: { siteId: this.siteId } }, body: { origin } }),
      );
      this.origins = [...this.origins, added];
    });
  }

  private createEmbedKey(): Promise<void> {
    return this.step(async () => {
      const site = this.sites.find((one) => one.id === this.siteId);
      const key = await dataOf(
        this.api.POST('/v1/keys', {
          body: { type: 'publishable', name: `Embed on ${site?.name ?? 'the site'}`, site_id: this.siteId },
        }),
      );
      this.embedKey = key.secret ?? null;
    });
  }

  private setSetting(name: string, value: unknown): void {
    this.settings = { ...this.settings, [name]: value };
  }

  private allowedOrigins(): string[] {
    return this.origins.map((one) => one.origin);
  }

  /**
   * The element under preview, or the frame that shows a third party's: made again only for another element
   * or key, so edits keep its state.
   */
  private preview: (HTMLElement & { settings?: unknown }) | HTMLIFrameElement | null = null;
  /** Why this element has no preview, where it cannot have one. */
  private previewRefusal = '';

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('tag') || changed.has('previewKey')) {
      const element = this.elements().find((one) => one.tag === this.tag);
      const moduleType = this.versions[this.moduleId]?.manifest.type;
      this.preview = null;
      this.previewRefusal = '';
      if (element && moduleType && this.previewKey) {
        this.preview = customElements.get(element.tag)
          ? previewElement(element, moduleType, this.connection())
          : this.framedPreview(element, moduleType, this.previewKey.secret);
      }
    }
    // The edited settings go in as a property: each edit shows at once, nothing is saved yet.
    if (this.preview && !(this.preview instanceof HTMLIFrameElement)) this.preview.settings = { ...this.settings };
  }

  /**
   * A third party's element, which this page does not carry, is previewed in the iframe embed: on the site's
   * frame origin, where its code reaches nothing of the studio's (not the session, not the API as this user).
   * Edits are posted to the frame. A screen for signed-in users is not previewed: it would need the session.
   */
  private framedPreview(
    element: ManifestElement,
    moduleType: ModuleVersion['manifest']['type'],
    key: string,
  ): HTMLIFrameElement | null {
    const origin = this.frameOrigin();
    if (audienceOf(element, moduleType) === 'users') {
      this.previewRefusal = `<${element.tag}> is a third party's screen for signed-in users: previewing it here would hand it your session.`;
      return null;
    }
    if (!origin) {
      this.previewRefusal = `<${element.tag}> is a third party's: it is previewed in the iframe embed, on an origin of its own, and this platform serves none (FRAME_URL is not set).`;
      return null;
    }
    const frame = document.createElement('iframe');
    frame.src = `${origin}/v1/frame/${key}.html?element=${encodeURIComponent(element.tag)}`;
    frame.title = `Preview of <${element.tag}>`;
    // Its own origin keeps it out of the studio; the sandbox keeps it from navigating the studio away (to a
    // look-alike sign-in page, say): no top navigation.
    frame.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-forms allow-popups');
    frame.addEventListener('load', () => this.postToFrame());
    return frame;
  }

  /** The edited settings and theme, to the framed preview (its page applies them; nothing else is sent). */
  private postToFrame(): void {
    const origin = this.frameOrigin();
    if (!(this.preview instanceof HTMLIFrameElement) || !origin) return;
    const message = { type: 'dramac:preview', settings: { ...this.settings }, tokens: { ...this.tokens } };
    this.preview.contentWindow?.postMessage(message, origin);
  }

  /** The framed preview says how tall it is, as it does to the loader on a site. */
  private readonly fitFrame = (event: MessageEvent) => {
    const frame = this.preview;
    if (!(frame instanceof HTMLIFrameElement) || event.source !== frame.contentWindow) return;
    const { type, height } = (event.data ?? {}) as { type?: unknown; height?: unknown };
    if (type === 'dramac:resize' && typeof height === 'number') frame.style.height = `${Math.ceil(height)}px`;
  };

  /** The origin of this site's iframe pages (FRAME_URL with the site's id), or null where none is set. */
  private frameOrigin(): string | null {
    return this.frameUrl ? this.frameUrl.replace('*', this.siteId.replaceAll('-', '')) : null;
  }

  private connection() {
    return { apiBase: this.apiBase, key: this.previewKey?.secret ?? '', siteId: this.siteId, token: this.token ?? '' };
  }

  protected override updated(): void {
    this.postToFrame();
    // Theme tokens go on the preview's wrapper as custom properties, through the CSSOM: a style attribute
    // (what lit's styleMap writes first) is inline style, which the page's CSP refuses.
    const wrapper = this.renderRoot.querySelector<HTMLElement>('[data-preview]');
    if (!wrapper) return;
    for (const { token } of THEME_TOKENS) {
      const value = this.tokens[token];
      if (value) wrapper.style.setProperty(token, value);
      else wrapper.style.removeProperty(token);
    }
  }

  override render() {
    return html`
      <header>
        <h1>Dramac studio</h1>
        <a href="/studio/storybook/" target="_blank" rel="noopener">Every element, in Storybook</a>
        ${
          this.token
            ? html`<button type="button" class="secondary" @click=${this.signOut} ?disabled=${this.busy}>
                Sign out
              </button>`
            : nothing
        }
      </header>
      ${this.failure ? this.renderFailure(this.failure) : nothing}
      ${this.notice ? html`<p class="notice" role="status">${this.notice}</p>` : nothing}
      ${this.token ? this.renderWorkspace() : this.renderSignIn()}
    `;
  }

  private renderFailure(failure: Failure) {
    return html`<div class="failure" role="alert">
      <p>${failure.message}</p>
      ${
        failure.fields.length > 0
          ? html`<ul>
              ${failure.fields.map((field) => html`<li><code>${field.path}</code> ${field.message}</li>`)}
            </ul>`
          : nothing
      }
    </div>`;
  }

  private renderSignIn() {
    return html`<form class="card sign-in" @submit=${this.signIn}>
      <h2>Sign in</h2>
      <p class="muted">With your agency account: the studio edits your clients’ sites through the API.</p>
      <label for="email">Email</label>
      <input id="email" name="email" type="email" autocomplete="username" required />
      <label for="password">Password</label>
      <input id="password" name="password" type="password" autocomplete="current-password" required />
      <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Signing in…' : 'Sign in'}</button>
    </form>`;
  }

  private renderWorkspace() {
    return html`<div class="workspace">
      <nav class="card" aria-label="What to configure">
        <label for="client">Client</label>
        <select id="client" @change=${(event: Event) => this.step(() => this.openClient(value(event)))}>
          <option value="" ?selected=${!this.clientId}>Choose a client…</option>
          ${this.clients.map(
            (client) =>
              html`<option value=${client.id} ?selected=${client.id === this.clientId}>${client.name}</option>`,
          )}
        </select>
        ${this.clients.length === 0 ? html`<p class="muted">Your agency has no clients yet.</p>` : nothing}
        ${
          this.clientId
            ? html`<label for="site">Site</label>
                <select id="site" @change=${(event: Event) => this.step(() => this.openSite(value(event)))}>
                  <option value="" ?selected=${!this.siteId}>Choose a site…</option>
                  ${this.sites.map(
                    (site) => html`<option value=${site.id} ?selected=${site.id === this.siteId}>${site.name}</option>`,
                  )}
                </select>
                ${this.sites.length === 0 ? html`<p class="muted">This client has no sites yet.</p>` : nothing}`
            : nothing
        }
        ${this.siteId ? this.renderModulePicker() : nothing}
      </nav>
      ${this.siteId && this.tag ? this.renderEditor() : nothing}
    </div>`;
  }

  private renderModulePicker() {
    if (this.installs.length === 0) return html`<p class="muted">No module is installed on this site.</p>`;
    const elements = this.elements();
    return html`<label for="module">Module</label>
      <select id="module" @change=${(event: Event) => this.openModule(value(event))}>
        ${this.installs.map(
          (install) =>
            html`<option value=${install.module_id} ?selected=${install.module_id === this.moduleId}>
              ${this.versions[install.module_id]?.manifest.name ?? install.module_id}
            </option>`,
        )}
      </select>
      ${
        elements.length > 1
          ? html`<label for="element">Element</label>
              <select id="element" @change=${(event: Event) => this.openElement(value(event))}>
                ${elements.map(
                  (element) =>
                    html`<option value=${element.tag} ?selected=${element.tag === this.tag}>
                      &lt;${element.tag}&gt;
                    </option>`,
                )}
              </select>`
          : nothing
      }
      ${elements.length === 0 ? html`<p class="muted">This module has no elements to configure.</p>` : nothing}`;
  }

  private renderEditor() {
    return html`<form class="card editor" @submit=${this.save} aria-label="Settings">
        <h2>Settings of &lt;${this.tag}&gt;</h2>
        ${this.controls().map((one) => this.renderControl(one))}
        <h2>Site theme</h2>
        <p class="muted">Shared by every widget on the site.</p>
        ${THEME_TOKENS.map((one) => this.renderToken(one))}
        <button type="submit" ?disabled=${this.busy}>${this.busy ? 'Saving…' : 'Save'}</button>
      </form>
      <section class="card preview" aria-label="Preview">
        <h2>Preview</h2>
        ${this.renderPreview()}
      </section>
      <section class="card embed" aria-label="Embed">${this.renderEmbed()}</section>`;
  }

  private renderControl(one: SettingControl) {
    const id = `setting-${one.name}`;
    const current = this.settings[one.name];
    const label = html`<label for=${id}>${one.label}</label>`;
    const help = one.description ? html`<small>${one.description}</small>` : nothing;
    switch (one.kind) {
      case 'boolean':
        return html`<div class="check">
          <input
            id=${id}
            type="checkbox"
            .checked=${current === true}
            @change=${(event: Event) => this.setSetting(one.name, (event.target as HTMLInputElement).checked)}
          />${label}${help}
        </div>`;
      case 'select':
        return html`${label}
          <select id=${id} @change=${(event: Event) => this.setSetting(one.name, value(event))}>
            ${one.options.map((option) => html`<option ?selected=${option === current}>${option}</option>`)}
          </select>
          ${help}`;
      case 'color':
        return html`${label}
          <div class="color">
            <input
              id=${id}
              type="color"
              .value=${typeof current === 'string' && current ? current : '#000000'}
              @input=${(event: Event) => this.setSetting(one.name, value(event))}
            />
            <span>${current ? String(current) : 'Follows the site’s theme'}</span>
            ${
              one.optional && current
                ? html`<button type="button" class="secondary" @click=${() => this.setSetting(one.name, '')}>
                    Use the theme’s
                  </button>`
                : nothing
            }
          </div>
          ${help}`;
      case 'number':
        return html`${label}
          <input
            id=${id}
            type="number"
            min=${one.minimum ?? nothing}
            max=${one.maximum ?? nothing}
            step=${one.integer ? 1 : 'any'}
            .value=${current === undefined ? '' : String(current)}
            @input=${(event: Event) => this.setSetting(one.name, Number(value(event)))}
          />
          ${help}`;
      case 'text':
        return html`${label}
          <input
            id=${id}
            type="text"
            maxlength=${one.maxLength ?? nothing}
            .value=${String(current ?? '')}
            @input=${(event: Event) => this.setSetting(one.name, value(event))}
          />
          ${help}`;
    }
  }

  private renderToken(one: (typeof THEME_TOKENS)[number]) {
    const id = `token${one.token}`;
    const current = this.tokens[one.token] ?? '';
    const set = (event: Event) => (this.tokens = { ...this.tokens, [one.token]: value(event) });
    return html`<label for=${id}>${one.label} <code>${one.token}</code></label> ${
        one.kind === 'color'
          ? html`<div class="color">
              <input id=${id} type="color" .value=${current || '#000000'} @input=${set} />
              <span>${current || 'Default'}</span>
            </div>`
          : html`<input id=${id} type="text" placeholder="Default" .value=${current} @input=${set} />`
      }`;
  }

  private renderPreview() {
    if (!this.allowedOrigins().includes(this.apiBase)) {
      return html`<p>
          The preview reads this site’s real data with a publishable key, which the API accepts only from the site’s
          allowed origins. This studio’s address, <code>${this.apiBase}</code>, is not one of them.
        </p>
        <button type="button" ?disabled=${this.busy} @click=${() => this.addOrigin(this.apiBase)}>
          Allow previews from the studio
        </button>`;
    }
    if (this.previewRefusal) {
      return html`<p class="muted" data-preview-refusal>
        ${this.previewRefusal} Its settings can still be edited and saved.
      </p>`;
    }
    if (!this.preview) return html`<p class="muted">Preparing the preview…</p>`;
    return html`<div data-preview>${this.preview}</div>`;
  }

  private renderEmbed() {
    const check = this.pasteAddress ? originCheck(this.pasteAddress, this.allowedOrigins()) : null;
    const list = snippets({
      apiBase: this.apiBase,
      key: this.embedKey,
      tag: this.tag,
      frameOrigin: this.frameOrigin(),
      npmEntry: NPM_ENTRIES[this.tag] ?? null,
    });
    return html`<h2>Put it on the site</h2>
      ${
        this.embedKey
          ? html`<p class="muted">The snippets carry the new key. It is shown once: copy it now.</p>`
          : html`<p class="muted">
              The snippets need the site’s publishable key (<code>${KEY_PLACEHOLDER}</code> stands in for it).
              <button type="button" class="secondary" ?disabled=${this.busy} @click=${this.createEmbedKey}>
                Create a key for this embed
              </button>
            </p>`
      }
      ${list.map(
        (snippet) =>
          html`<h3>${snippet.label}</h3>
            <p class="muted">${snippet.note}</p>
            ${
              snippet.code
                ? html`<pre data-snippet=${snippet.kind}><code>${snippet.code}</code></pre>
                    <button type="button" class="secondary" @click=${() => this.copy(snippet.code!)}>
                      Copy ${snippet.label.toLowerCase()}
                    </button>`
                : nothing
            }`,
      )}
      <h3>Where will it go?</h3>
      <label for="paste-address">The page’s address</label>
      <input
        id="paste-address"
        type="url"
        placeholder="https://www.example.com/contact"
        .value=${this.pasteAddress}
        @input=${(event: Event) => (this.pasteAddress = value(event))}
      />
      ${
        check === null
          ? nothing
          : 'error' in check
            ? html`<p class="warning">${check.error}</p>`
            : check.allowed
              ? html`<p class="ok" data-origin-check="allowed">${check.origin} is among the site’s allowed origins.</p>`
              : html`<p class="warning" data-origin-check="refused">
                  ${check.origin} is not among the site’s allowed origins: the widget would be refused there.
                  <button type="button" ?disabled=${this.busy} @click=${() => this.addOrigin(check.origin)}>
                    Allow ${check.origin}
                  </button>
                </p>`
      }`;
  }

  private async copy(code: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(code);
      this.notice = 'Copied.';
    } catch {
      this.notice = 'The browser refused the clipboard: select the snippet and copy it by hand.';
    }
  }

  static override styles = css`
    :host {
      display: block;
      font:
        15px/1.5 system-ui,
        sans-serif;
      color: #1c1e23;
    }
    header {
      display: flex;
      align-items: baseline;
      gap: 1rem;
      margin: 0 0 1rem;
    }
    header h1 {
      margin: 0 auto 0 0;
      font-size: 1.4rem;
    }
    .card {
      background: #fff;
      border: 1px solid #d5d8de;
      border-radius: 8px;
      padding: 1rem;
    }
    .sign-in {
      max-width: 22rem;
    }
    .workspace {
      display: grid;
      grid-template-columns: 16rem minmax(18rem, 22rem) 1fr;
      gap: 1rem;
      align-items: start;
    }
    .embed {
      grid-column: 2 / -1;
    }
    label {
      display: block;
      margin-top: 0.75rem;
      font-weight: 600;
    }
    .check label {
      display: inline;
      margin-left: 0.4rem;
    }
    input[type='text'],
    input[type='email'],
    input[type='password'],
    input[type='url'],
    input[type='number'],
    select {
      box-sizing: border-box;
      width: 100%;
      padding: 0.4rem;
      font: inherit;
    }
    small,
    .muted {
      display: block;
      color: #555b66;
    }
    .color {
      display: flex;
      gap: 0.5rem;
      align-items: center;
    }
    button {
      margin-top: 1rem;
      padding: 0.45rem 0.9rem;
      font: inherit;
      border-radius: 6px;
      border: 1px solid #2454d6;
      background: #2454d6;
      color: #fff;
      cursor: pointer;
    }
    button.secondary {
      background: #fff;
      color: #2454d6;
    }
    .color button {
      margin-top: 0;
    }
    pre {
      overflow-x: auto;
      padding: 0.75rem;
      background: #f3f4f6;
      border-radius: 6px;
    }
    .failure,
    .warning {
      color: #a1251b;
    }
    .ok,
    .notice {
      color: #1d6b35;
    }
  `;
}

function value(event: Event): string {
  return (event.target as HTMLInputElement | HTMLSelectElement).value;
}

/**
 * The element under preview, made by tag (a module's tag is data, not markup). Elements for visitors read the
 * site's data with the preview key, as on the site; screens for signed-in users (an app's, by default) take
 * the signed-in user's token instead.
 */
function previewElement(
  element: ManifestElement,
  moduleType: ModuleVersion['manifest']['type'],
  connection: { apiBase: string; key: string; siteId: string; token: string },
): HTMLElement {
  const preview = document.createElement(element.tag) as HTMLElement & { token?: string };
  preview.setAttribute('api-base', connection.apiBase);
  preview.setAttribute('site-id', connection.siteId);
  if (audienceOf(element, moduleType) === 'users') preview.token = connection.token;
  else preview.setAttribute('key', connection.key);
  return preview;
}

/** Whom an element is for, as the manifest says or its module's type implies (the platform's rule). */
const audienceOf = (element: ManifestElement, moduleType: ModuleVersion['manifest']['type']) =>
  element.audience ?? (moduleType === 'widget' ? 'visitors' : 'users');

customElements.define('studio-app', StudioApp);

declare global {
  interface HTMLElementTagNameMap {
    'studio-app': StudioApp;
  }
}
