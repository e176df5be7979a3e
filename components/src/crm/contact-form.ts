import { html, LitElement, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import type { components } from '@dramac/sdk';
import { DramacElement } from '../shared/dramac-element.js';
// `import '@dramac/components/crm/contact-form'` alone is enough on a page: the provider comes along.
import '../shared/provider.js';
import { toLocale, type Locale } from '../shared/i18n.js';
import { applyAccent, themeStyles } from '../shared/theme.js';
import { contactFormMessages, type ContactFieldName, type ContactFormMessages } from './contact-form-messages.js';
import { contactFormStyles } from './contact-form-styles.js';

export type { ContactFieldName } from './contact-form-messages.js';
export type ContactFormSubmission = components['schemas']['CrmFormSubmission'];
export type ContactFormReceipt = components['schemas']['CrmFormReceipt'];
type Problem = components['schemas']['Problem'];

declare module '../shared/events.js' {
  interface DramacEventMap {
    /**
     * The form was sent and received. Cancelable: `preventDefault()` keeps the visitor on the page (the
     * success message shows) instead of going to `redirectUrl`.
     */
    'dm-contact-form-submitted': { receivedAt: string; redirectUrl: string | null };
  }
}

/** One field of the form, as the `fields` setting lists it. */
export interface ContactFormField {
  name: ContactFieldName;
  /** What the field is called on the form; its own name in the visitor's language otherwise. */
  label?: string;
  /** Whether the visitor must fill it in (`email` always must). */
  required?: boolean;
}

const FIELD_NAMES: readonly ContactFieldName[] = ['email', 'first_name', 'last_name', 'phone', 'company', 'message'];

/** What a form shows without a `fields` setting (the CRM's manifest has the same default). */
export const DEFAULT_CONTACT_FIELDS: readonly ContactFormField[] = [
  { name: 'first_name' },
  { name: 'last_name' },
  { name: 'email', required: true },
  { name: 'message' },
];

/** How each field is entered: native constraints, so the browser checks and words its own messages. */
const INPUTS: Record<
  ContactFieldName,
  { type?: string; autocomplete?: string; maxlength: number; minlength?: number; pattern?: string }
> = {
  email: { type: 'email', autocomplete: 'email', maxlength: 254 },
  first_name: { type: 'text', autocomplete: 'given-name', maxlength: 100 },
  last_name: { type: 'text', autocomplete: 'family-name', maxlength: 100 },
  // Every character escaped: the pattern must compile under the `v` flag browsers now use for it.
  phone: { type: 'tel', autocomplete: 'tel', maxlength: 40, minlength: 3, pattern: '\\+?[0-9 \\(\\)\\.\\/\\-]+' },
  company: { type: 'text', autocomplete: 'organization', maxlength: 200 },
  message: { maxlength: 5000 },
};

/** An HTML tag's beginning, which the API refuses in any field (`<script`, `</b`, `<!--`). */
const MARKUP = /<[a-zA-Z!/?]/;
const CONTROL = /\p{Cc}/u;
const UTM_KEYS = ['source', 'medium', 'campaign', 'term', 'content'] as const;
const MAX_URL = 2000;
const VALIDITY_FLAGS = [
  'valueMissing',
  'typeMismatch',
  'patternMismatch',
  'tooLong',
  'tooShort',
  'rangeUnderflow',
  'rangeOverflow',
  'stepMismatch',
  'badInput',
  'customError',
] as const;

type Phase = 'editing' | 'sending' | 'done';
type Control = HTMLInputElement | HTMLTextAreaElement;

/** The page the form is on, where the visitor came from and the address's `utm_*` parameters. */
function pageContext(): Pick<ContactFormSubmission, 'page_url' | 'referrer' | 'utm'> {
  const context: Pick<ContactFormSubmission, 'page_url' | 'referrer' | 'utm'> = {};
  const page = location.href.split('#')[0]!;
  if (/^https?:\/\//.test(page) && page.length <= MAX_URL) context.page_url = page;
  const referrer = document.referrer;
  if (/^https?:\/\//.test(referrer) && referrer.length <= MAX_URL) context.referrer = referrer;
  const params = new URLSearchParams(location.search);
  const utm: NonNullable<ContactFormSubmission['utm']> = {};
  for (const key of UTM_KEYS) {
    const value = params.get(`utm_${key}`)?.trim();
    // A crafted link must not make the form unsendable: what the API would refuse is left out.
    if (value && value.length <= 200 && !MARKUP.test(value) && !CONTROL.test(value)) utm[key] = value;
  }
  if (Object.keys(utm).length > 0) context.utm = utm;
  return context;
}

/**
 * `<dm-contact-form>` is the CRM's lead form: the fields the install's settings name (with their labels and
 * which are required), an optional consent checkbox, and a send button. It checks entries with the browser's
 * own constraint validation (required fields, email format, lengths) and shows the browser's messages beside
 * the fields, focusing the first one to fix. A sent form creates or completes the site's contact with that
 * email address and thanks the visitor, or takes them to the settings' `redirect_url`.
 *
 * Spam protection without third parties: a hidden field only bots fill in, and the time the form was on
 * screen (the API drops what comes faster than a person types); the API also limits submissions per visitor
 * and per site, and the form then says when to try again.
 *
 * Form-associated: inside a page's own `<form>`, a disabled fieldset disables it, a reset clears it, and
 * `checkValidity()` / `reportValidity()` answer for its fields (with the browser's bubble). It reports itself
 * invalid only once the visitor has tried to send it, so a page-wide form (as some CMSs wrap pages in) is
 * never blocked by an untouched contact form.
 *
 * Settings (the module install's, or the `settings` property): `fields` (`[{ name, label, required }]`,
 * names `email` `first_name` `last_name` `phone` `company` `message`), `consent` (`{ enabled, text,
 * required }`), `title`, `intro`, `submit_label`, `success_message`, `redirect_url` (https), `accent_color`,
 * `locale` (`auto` | `en` | `de`). Settings texts are shown as plain text, never as markup.
 *
 * @fires dm-contact-form-submitted - The form was received. `detail`: `{ receivedAt, redirectUrl }`; `preventDefault()` stays on the page instead of redirecting.
 * @csspart title - The heading (the `title` setting).
 * @csspart intro - The text under the heading (the `intro` setting).
 * @csspart status - The live region: the thank-you note, or what went wrong.
 * @csspart form - The form.
 * @csspart required-note - The note that fields marked * are required.
 * @csspart field - One field: its label, input and error.
 * @csspart field-<name> - The field of that name (with `field`): `field-email`, `field-message` …
 * @csspart input - An input or the message's textarea.
 * @csspart field-error - The message under a field that needs fixing.
 * @csspart consent - The consent checkbox with its text.
 * @csspart submit - The send button.
 * @csspart another - The button that empties the form for another message, after the thank-you note.
 * @cssprop --dm-contact-form-min-height - The height reserved for the form (default `22rem`).
 * @cssprop --dm-color-error - The colour of errors and of the required mark.
 */
export class DmContactForm extends DramacElement {
  static formAssociated = true;

  // Focus lands inside the shadow root (the first field), also when a page's form reports it invalid.
  static override shadowRootOptions: ShadowRootInit = { ...LitElement.shadowRootOptions, delegatesFocus: true };

  static override properties: PropertyDeclarations = {
    phase: { state: true },
    errors: { state: true },
    status: { state: true },
    statusKind: { state: true },
    formDisabled: { state: true },
  };

  static override styles = [themeStyles, contactFormStyles];

  declare private phase: Phase;
  /** The message to show under each field that needs fixing, by field name (`consent` for the checkbox). */
  declare private errors: Record<string, string>;
  declare private status: string;
  declare private statusKind: 'success' | 'error' | undefined;
  declare private formDisabled: boolean;

  private readonly internals: ElementInternals = this.attachInternals();
  /** When the form appeared (performance.now()), for the fill time the API checks. */
  private shownAt = 0;
  /** The visitor tried to send it: from then on the element reports its validity to a page's form. */
  private attempted = false;
  /** Sent, and on the way to the thank-you page. */
  private redirecting = false;

  constructor() {
    super();
    this.phase = 'editing';
    this.errors = {};
    this.status = '';
    this.formDisabled = false;
  }

  // ---- settings ----

  private setting(name: string): string | undefined {
    const value = this.connection.settings?.[name];
    return typeof value === 'string' && value.trim() !== '' ? value : undefined;
  }

  /** The `locale` setting when it names one; the page's language otherwise. */
  override get locale(): Locale {
    const chosen = this.setting('locale');
    return chosen && chosen !== 'auto' ? toLocale(chosen) : super.locale;
  }

  private get text(): ContactFormMessages {
    return this.messages(contactFormMessages);
  }

  /** The fields to show: the setting's, once each, with email always there and always required. */
  get fields(): ContactFormField[] {
    const given = this.connection.settings?.fields;
    const list = Array.isArray(given) && given.length > 0 ? (given as unknown[]) : DEFAULT_CONTACT_FIELDS;
    const fields: ContactFormField[] = [];
    for (const entry of list) {
      if (!entry || typeof entry !== 'object') continue;
      const { name, label, required } = entry as Record<string, unknown>;
      if (!FIELD_NAMES.includes(name as ContactFieldName) || fields.some((field) => field.name === name)) continue;
      fields.push({
        name: name as ContactFieldName,
        ...(typeof label === 'string' && label.trim() !== '' ? { label } : {}),
        required: name === 'email' || required === true,
      });
    }
    if (!fields.some((field) => field.name === 'email')) fields.push({ name: 'email', required: true });
    return fields;
  }

  private get consent(): { enabled: boolean; required: boolean; text: string } {
    const given = this.connection.settings?.consent as Record<string, unknown> | undefined;
    const text = typeof given?.text === 'string' && given.text.trim() !== '' ? given.text.trim() : this.text.consent;
    return { enabled: given?.enabled === true, required: given?.required !== false, text };
  }

  private get redirectUrl(): string | undefined {
    const url = this.setting('redirect_url');
    return url && url.startsWith('https://') && URL.canParse(url) ? url : undefined;
  }

  // ---- form association ----

  get form(): HTMLFormElement | null {
    return this.internals.form;
  }
  get validity(): ValidityState {
    return this.internals.validity;
  }
  get validationMessage(): string {
    return this.internals.validationMessage;
  }
  get willValidate(): boolean {
    return this.internals.willValidate;
  }
  /** Whether every field is valid; marks the ones that are not, as sending would. */
  checkValidity(): boolean {
    this.attempted = true;
    this.validate(false);
    return this.internals.checkValidity();
  }
  /** Like `checkValidity()`, and the browser shows its message at the first field to fix. */
  reportValidity(): boolean {
    this.attempted = true;
    this.validate(true);
    return this.internals.reportValidity();
  }
  formResetCallback(): void {
    this.startOver();
  }
  formDisabledCallback(disabled: boolean): void {
    this.formDisabled = disabled;
  }

  // ---- lifecycle ----

  protected override firstUpdated(): void {
    this.shownAt = performance.now();
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    // The accent colour setting overrides the theme's primary colour.
    applyAccent(this, this.setting('accent_color'));
  }

  // ---- rendering ----

  protected override render() {
    const text = this.text;
    const title = this.connection.settings?.title;
    const heading = typeof title === 'string' ? title : text.title;
    const intro = this.setting('intro');
    return html`${heading ? html`<h2 part="title" id="title">${heading}</h2>` : nothing}
      ${intro ? html`<p part="intro">${intro}</p>` : nothing}
      <div part="status" role="status" aria-live="polite" tabindex="-1" data-kind=${this.statusKind ?? nothing}>
        ${this.status}
      </div>
      ${this.phase === 'done' ? this.renderDone() : this.renderForm(heading)}`;
  }

  private renderForm(heading: string) {
    const text = this.text;
    const fields = this.fields;
    const consent = this.consent;
    const sending = this.phase === 'sending';
    const submitLabel = this.setting('submit_label') ?? text.send;
    const anyRequired = fields.some((field) => field.required) || (consent.enabled && consent.required);
    return html`<form
      part="form"
      novalidate
      aria-labelledby=${heading ? 'title' : nothing}
      aria-label=${heading ? nothing : text.title}
      aria-busy=${sending ? 'true' : 'false'}
      @submit=${this.onSubmit}
      @input=${this.onInput}
      @change=${this.onInput}
    >
      ${anyRequired ? html`<p part="required-note">${text.requiredNote}</p>` : nothing}
      ${fields.map((field) => this.renderField(field))} ${consent.enabled ? this.renderConsent(consent) : nothing}
      <div class="trap" aria-hidden="true">
        <label for="f-website">${text.honeypot}</label>
        <input id="f-website" name="website" type="text" tabindex="-1" autocomplete="off" />
      </div>
      <div>
        <button part="submit" type="submit" ?disabled=${sending || this.formDisabled}>
          ${sending ? text.sending : submitLabel}
        </button>
      </div>
    </form>`;
  }

  private renderField(field: ContactFormField) {
    const { name, required = false } = field;
    const input = INPUTS[name];
    const id = `f-${name}`;
    const error = this.errors[name];
    const describedBy = error ? `e-${name}` : nothing;
    const invalid = error ? 'true' : nothing;
    const label = field.label ?? this.text.fields[name];
    const control =
      name === 'message'
        ? html`<textarea
            part="input"
            id=${id}
            name=${name}
            rows="5"
            maxlength=${input.maxlength}
            ?required=${required}
            ?disabled=${this.formDisabled}
            aria-invalid=${invalid}
            aria-describedby=${describedBy}
          ></textarea>`
        : html`<input
            part="input"
            id=${id}
            name=${name}
            type=${input.type!}
            autocomplete=${input.autocomplete!}
            maxlength=${input.maxlength}
            minlength=${input.minlength ?? nothing}
            pattern=${input.pattern ?? nothing}
            ?required=${required}
            ?disabled=${this.formDisabled}
            aria-invalid=${invalid}
            aria-describedby=${describedBy}
          />`;
    return html`<div part=${`field field-${name}`}>
      <label for=${id}>${label}${required ? html`<span class="required" aria-hidden="true"> *</span>` : nothing}</label>
      ${control} ${error ? html`<span part="field-error" id=${`e-${name}`}>${error}</span>` : nothing}
    </div>`;
  }

  private renderConsent(consent: { required: boolean; text: string }) {
    const error = this.errors.consent;
    return html`<div part="consent">
      <input
        id="f-consent"
        name="consent"
        type="checkbox"
        ?required=${consent.required}
        ?disabled=${this.formDisabled}
        aria-invalid=${error ? 'true' : nothing}
        aria-describedby=${error ? 'e-consent' : nothing}
      />
      <label for="f-consent"
        >${consent.text}${consent.required ? html`<span class="required" aria-hidden="true"> *</span>` : nothing}</label
      >
      ${error ? html`<span part="field-error" id="e-consent">${error}</span>` : nothing}
    </div>`;
  }

  private renderDone() {
    if (this.redirecting) return nothing;
    return html`<button part="another" type="button" @click=${this.startOver}>${this.text.sendAnother}</button>`;
  }

  // ---- validation ----

  private get formElement(): HTMLFormElement | null {
    return this.renderRoot.querySelector('form');
  }

  private controls(): Control[] {
    const form = this.formElement;
    if (!form) return [];
    return [...form.querySelectorAll<Control>('input, textarea')].filter((control) => control.name !== 'website');
  }

  /** The API refuses tags in any field; the browser's check gets that rule too, in the visitor's language. */
  private applyOwnRules(control: Control): void {
    if (control.type === 'checkbox') return;
    // Only spaces is nothing: `required` must see it as empty.
    if (control.value.trim() === '' && control.value !== '') control.value = '';
    control.setCustomValidity(MARKUP.test(control.value) ? this.text.markup : '');
  }

  /**
   * Checks every field with the browser's constraint validation; `show` marks the invalid ones with the
   * browser's messages. The element's own validity follows the first invalid field. True when all are valid.
   */
  private validate(show: boolean): boolean {
    const errors: Record<string, string> = {};
    let first: Control | undefined;
    for (const control of this.controls()) {
      this.applyOwnRules(control);
      if (control.checkValidity()) continue;
      errors[control.name] = control.validationMessage;
      first ??= control;
    }
    this.syncValidity(first);
    if (show) {
      this.errors = errors;
      const count = Object.keys(errors).length;
      this.showStatus(count > 0 ? this.text.invalid(count) : '', count > 0 ? 'error' : undefined);
    }
    return !first;
  }

  private syncValidity(first: Control | undefined): void {
    if (!first || !this.attempted) {
      this.internals.setValidity({});
      return;
    }
    const flags = Object.fromEntries(VALIDITY_FLAGS.map((flag) => [flag, first.validity[flag]]));
    this.internals.setValidity(flags, first.validationMessage, first);
  }

  private readonly onInput = (event: Event) => {
    const control = event.target as Control;
    if (!control.name || control.name === 'website') return;
    control.setCustomValidity('');
    if (this.errors[control.name]) {
      this.applyOwnRules(control);
      if (control.checkValidity()) {
        const { [control.name]: _fixed, ...rest } = this.errors;
        this.errors = rest;
        if (Object.keys(rest).length === 0 && this.statusKind === 'error') this.showStatus('', undefined);
      }
    }
    if (this.attempted) this.syncValidity(this.controls().find((candidate) => !candidate.checkValidity()));
  };

  // ---- sending ----

  private readonly onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    if (this.phase !== 'editing' || this.formDisabled) return;
    this.attempted = true;
    if (!this.validate(true)) {
      await this.focusFirstError();
      return;
    }
    const client = this.client;
    if (!client) {
      console.warn(
        '[dramac] <dm-contact-form> cannot send: set api-base, wrap it in <dm-provider> or call init() from @dramac/sdk',
      );
      this.showStatus(this.text.failed, 'error');
      return;
    }
    const form = event.currentTarget as HTMLFormElement;
    const values = new FormData(form);
    const fields: Record<string, string> = {};
    for (const field of this.fields) {
      const value = String(values.get(field.name) ?? '').trim();
      if (value) fields[field.name] = value;
    }
    const body: ContactFormSubmission = {
      fields: fields as ContactFormSubmission['fields'],
      ...(this.consent.enabled ? { consent: values.has('consent') } : {}),
      locale: this.locale,
      ...pageContext(),
      honeypot: String(values.get('website') ?? ''),
      elapsed_ms: Math.min(2_147_483_647, Math.max(0, Math.round(performance.now() - this.shownAt))),
    };
    this.phase = 'sending';
    this.showStatus('', undefined);
    try {
      const { data, error, response } = await client.POST('/v1/crm/form-submissions', { body });
      if (data) this.succeed(data);
      else await this.fail(response, error);
    } catch {
      this.phase = 'editing';
      this.showStatus(this.text.failed, 'error');
    }
  };

  private succeed(receipt: ContactFormReceipt): void {
    const redirectUrl = this.redirectUrl;
    this.phase = 'done';
    this.attempted = false;
    this.errors = {};
    this.internals.setValidity({});
    const proceed = this.emit('dm-contact-form-submitted', {
      receivedAt: receipt.received_at,
      redirectUrl: redirectUrl ?? null,
    });
    this.redirecting = Boolean(redirectUrl && proceed);
    if (redirectUrl && proceed) {
      this.showStatus(this.text.redirecting, 'success');
      this.navigate(redirectUrl);
    } else {
      this.showStatus(this.setting('success_message') ?? this.text.success, 'success');
    }
    // The form is gone: focus goes to the note that replaced it, so keyboard and screen-reader users are there.
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('[part~="status"]')?.focus());
  }

  private async fail(response: Response, problem: Problem | undefined): Promise<void> {
    this.phase = 'editing';
    if (response.status === 429) {
      const header = Number(response.headers.get('Retry-After'));
      const said = Number(/(\d+)\s*s\b/.exec(problem?.detail ?? '')?.[1]);
      const seconds = header > 0 ? header : said > 0 ? said : 60;
      this.showStatus(this.text.tooMany(seconds), 'error');
      return;
    }
    // Beside the fields the form shows (a field the settings dropped since the page loaded, say, is not one).
    const shown = new Set(this.controls().map((control) => control.name));
    const errors: Record<string, string> = {};
    for (const entry of problem?.errors ?? []) {
      const name = /^\/body\/(?:fields\/)?([a-z_]+)$/.exec(entry.path)?.[1];
      if (name && shown.has(name)) errors[name] ??= entry.message;
    }
    const count = Object.keys(errors).length;
    if (response.status === 400 && count > 0) {
      this.errors = errors;
      this.showStatus(this.text.invalid(count), 'error');
      await this.focusFirstError();
    } else {
      this.showStatus(this.text.failed, 'error');
    }
  }

  /** Goes to the thank-you page: the top page's, when the form is in the iframe embed. */
  protected navigate(url: string): void {
    try {
      if (window.top && window.top !== window) {
        window.top.location.href = url;
        return;
      }
    } catch {
      // A frame may not lead its page away without the visitor's gesture: the frame goes instead.
    }
    window.location.assign(url);
  }

  private showStatus(message: string, kind: 'success' | 'error' | undefined): void {
    this.status = message;
    this.statusKind = message ? kind : undefined;
  }

  private async focusFirstError(): Promise<void> {
    await this.updateComplete;
    const first = this.controls().find((control) => this.errors[control.name]);
    first?.focus();
  }

  private readonly startOver = () => {
    this.formElement?.reset();
    this.phase = 'editing';
    this.errors = {};
    this.attempted = false;
    this.internals.setValidity({});
    this.showStatus('', undefined);
    this.shownAt = performance.now();
  };
}

// Safe to import twice, and under a server runtime without a registry (see provider.ts).
if (globalThis.customElements && !customElements.get('dm-contact-form')) {
  customElements.define('dm-contact-form', DmContactForm);
}

declare global {
  interface HTMLElementTagNameMap {
    'dm-contact-form': DmContactForm;
  }
}
