import { html, nothing, type PropertyDeclarations } from 'lit';
import type { DramacClient } from '@dramac/sdk';
import { DramacAppElement, apiError } from '../shared/app-element.js';
// `import '@dramac/components/crm/contact'` alone is enough on a page: the provider comes along.
import '../shared/provider.js';
import { stateStyles, themeStyles } from '../shared/theme.js';
import { formatInstant, formatWhen } from './format.js';
import { contactMessages, type ContactMessages } from './crm-messages.js';
import { contactStyles } from './crm-styles.js';
import type { CrmCompany, CrmContact, CrmTimelineEntry } from './types.js';

export type { CrmCompany, CrmContact, CrmTimelineEntry } from './types.js';

/** Timeline entries per page. */
const PAGE = 20;

/**
 * Only an address that is plainly one becomes a `mailto:` link: no scheme, spaces, brackets or quotes, one
 * `@` with something on each side. Anything else is shown as text.
 */
const LINKABLE_EMAIL = /^[^\s@:<>()[\]"'\\,;/]+@[^\s@:<>()[\]"'\\,;/]+\.[^\s@:<>()[\]"'\\,;/]+$/;
/** A phone number is dialled by its `+` and digits; without enough digits it is text. */
const dialable = (phone: string) => {
  const digits = phone.replace(/[^\d+]/g, '').replace(/(?!^)\+/g, '');
  return /\d{3,}/.test(digits) ? digits : undefined;
};

interface ContactView {
  contact: CrmContact;
  company: CrmCompany | undefined;
}

/**
 * `<dm-crm-contact site-id="…" contact-id="…">` is a contact's card: name, email addresses (`mailto:`),
 * phone numbers (`tel:`), tags, lifecycle stage and company, and their timeline (newest first, a page at a
 * time with "Show more") — bookings, form submissions, changes, notes. An app element: it needs a signed-in
 * user's `token` (see `DramacAppElement`) and shows a sign-in state without one. Everything the API says is
 * shown as text, never as markup, and only plain addresses become links.
 *
 * Settings (the module install's, or the `settings` property): `accent_color`, `locale` (`auto` | `en` | `de`).
 *
 * @attr site-id - The id of the site whose CRM holds the contact (required).
 * @attr contact-id - The contact to show (required).
 * @fires dm-load - The contact arrived. `detail`: `{ count }`, the timeline entries shown.
 * @csspart card - The contact's details.
 * @csspart name - The contact's name (a heading).
 * @csspart details - The list of the contact's details.
 * @csspart emails - The email addresses.
 * @csspart phones - The phone numbers.
 * @csspart link - A `mailto:` or `tel:` link.
 * @csspart tags - The list of tags.
 * @csspart tag - One tag.
 * @csspart lifecycle-stage - The lifecycle stage.
 * @csspart company - The company's name.
 * @csspart timeline-title - The timeline's heading.
 * @csspart timeline - The list of timeline entries, newest first.
 * @csspart timeline-empty - The note that nothing has happened yet.
 * @csspart entry - One timeline entry.
 * @csspart summary - An entry's one-line summary.
 * @csspart time - When an entry happened (relative for the last week, a date before).
 * @csspart more - The button that shows older entries.
 * @csspart notice - What went wrong with "Show more" (empty otherwise).
 * @cssprop --dm-crm-contact-min-height - The height reserved while loading (default `12rem`).
 */
export class DmCrmContact extends DramacAppElement {
  static override properties: PropertyDeclarations = {
    siteId: { attribute: 'site-id' },
    contactId: { attribute: 'contact-id' },
    entries: { state: true },
    cursor: { state: true },
    loadingMore: { state: true },
    notice: { state: true },
  };

  static override styles = [themeStyles, stateStyles, ...contactStyles];

  /** The id of the site whose CRM holds the contact. */
  declare siteId: string | undefined;
  /** The id of the contact to show. */
  declare contactId: string | undefined;

  declare private entries: CrmTimelineEntry[];
  /** The timeline's `next_cursor`; null when there is nothing older. */
  declare private cursor: string | null;
  declare private loadingMore: boolean;
  declare private notice: string;

  constructor() {
    super();
    this.entries = [];
    this.cursor = null;
    this.loadingMore = false;
    this.notice = '';
  }

  private get text(): ContactMessages {
    return this.messages(contactMessages);
  }

  private readonly contactTask = this.loadData(
    () => [this.siteId, this.contactId] as const,
    async ([siteId, contactId], client, signal): Promise<ContactView> => {
      if (!siteId || !contactId) throw new Error('the site-id and contact-id attributes are required');
      const path = { siteId, contactId };
      const [contact, timeline] = await Promise.all([
        client.GET('/v1/sites/{siteId}/crm/contacts/{contactId}', { params: { path }, signal }),
        this.timelinePage(client, siteId, contactId, undefined, signal),
      ]);
      if (!contact.data) throw apiError(contact.response, contact.error);
      const company = await this.companyOf(client, siteId, contact.data.company_id, signal);
      this.entries = timeline.data;
      this.cursor = timeline.has_more ? timeline.next_cursor : null;
      this.notice = '';
      this.emit('dm-load', { count: timeline.data.length });
      return { contact: contact.data, company };
    },
  );

  private async timelinePage(
    client: DramacClient,
    siteId: string,
    contactId: string,
    cursor: string | undefined,
    signal?: AbortSignal,
  ) {
    const { data, error, response } = await client.GET('/v1/sites/{siteId}/crm/contacts/{contactId}/timeline', {
      params: { path: { siteId, contactId }, query: { limit: PAGE, ...(cursor ? { cursor } : {}) } },
      signal,
    });
    if (!data) throw apiError(response, error);
    return data;
  }

  /** The contact's company; a card without it is still a card (the company may be gone or unreadable). */
  private async companyOf(
    client: DramacClient,
    siteId: string,
    companyId: string | null,
    signal: AbortSignal,
  ): Promise<CrmCompany | undefined> {
    if (!companyId) return undefined;
    try {
      const { data } = await client.GET('/v1/sites/{siteId}/crm/companies/{companyId}', {
        params: { path: { siteId, companyId } },
        signal,
      });
      return data;
    } catch (error) {
      if (signal.aborted) throw error;
      return undefined;
    }
  }

  private readonly showMore = async () => {
    const { client, siteId, contactId, cursor } = this;
    if (!client || !siteId || !contactId || !cursor || this.loadingMore) return;
    this.loadingMore = true;
    this.notice = '';
    try {
      const page = await this.timelinePage(client, siteId, contactId, cursor);
      // The contact changed while the page loaded: it belongs to the old one.
      if (siteId !== this.siteId || contactId !== this.contactId) return;
      const shown = new Set(this.entries.map((entry) => entry.id));
      this.entries = [...this.entries, ...page.data.filter((entry) => !shown.has(entry.id))];
      this.cursor = page.has_more ? page.next_cursor : null;
    } catch {
      this.notice = this.text.moreFailed;
    } finally {
      this.loadingMore = false;
    }
  };

  protected override render() {
    return this.renderData(this.contactTask, (view) => this.renderContact(view));
  }

  private renderContact({ contact, company }: ContactView) {
    const text = this.text;
    const name = `${contact.first_name} ${contact.last_name}`.trim();
    // Newest first, whatever order the pages came in.
    const entries = [...this.entries].sort((a, b) => Date.parse(b.occurred_at) - Date.parse(a.occurred_at));
    const now = new Date();
    return html`
      <section part="card" aria-labelledby="name">
        <h2 part="name" id="name">${name || contact.emails[0] || text.unnamed}</h2>
        <dl part="details">
          ${
            contact.emails.length
              ? html`<dt>${text.emails}</dt>
                  <dd>
                    <ul part="emails">
                      ${contact.emails.map(
                        (email) =>
                          html`<li>
                            ${
                              LINKABLE_EMAIL.test(email)
                                ? html`<a part="link" href=${`mailto:${email}`}>${email}</a>`
                                : email
                            }
                          </li>`,
                      )}
                    </ul>
                  </dd>`
              : nothing
          }
          ${
            contact.phones.length
              ? html`<dt>${text.phones}</dt>
                  <dd>
                    <ul part="phones">
                      ${contact.phones.map((phone) => {
                        const number = dialable(phone);
                        return html`<li>
                          ${number ? html`<a part="link" href=${`tel:${number}`}>${phone}</a>` : phone}
                        </li>`;
                      })}
                    </ul>
                  </dd>`
              : nothing
          }
          ${
            company
              ? html`<dt>${text.company}</dt>
                  <dd part="company">${company.name}</dd>`
              : nothing
          }
          <dt>${text.lifecycleStage}</dt>
          <dd part="lifecycle-stage">${text.lifecycle[contact.lifecycle_stage] ?? contact.lifecycle_stage}</dd>
          ${
            contact.tags.length
              ? html`<dt>${text.tags}</dt>
                  <dd>
                    <ul part="tags">
                      ${contact.tags.map((tag) => html`<li part="tag">${tag}</li>`)}
                    </ul>
                  </dd>`
              : nothing
          }
        </dl>
      </section>
      <section aria-labelledby="timeline-title">
        <h3 part="timeline-title" id="timeline-title">${text.timeline}</h3>
        ${
          entries.length
            ? html`<ol part="timeline">
                ${entries.map(
                  (entry) =>
                    html`<li part="entry">
                      <span part="summary">${entry.summary}</span>
                      <time
                        part="time"
                        datetime=${entry.occurred_at}
                        title=${formatInstant(entry.occurred_at, this.locale)}
                        >${formatWhen(entry.occurred_at, this.locale, now)}</time
                      >
                    </li>`,
                )}
              </ol>`
            : html`<p part="timeline-empty" class="muted">${text.timelineEmpty}</p>`
        }
        <p part="notice" role="status">${this.notice}</p>
        ${
          this.cursor
            ? html`<button part="more" type="button" ?disabled=${this.loadingMore} @click=${this.showMore}>
                ${this.loadingMore ? text.loadingMore : text.showMore}
              </button>`
            : nothing
        }
      </section>
    `;
  }
}

// Safe to import twice, and under a server runtime without a registry (see provider.ts).
if (globalThis.customElements && !customElements.get('dm-crm-contact')) {
  customElements.define('dm-crm-contact', DmCrmContact);
}

declare global {
  interface HTMLElementTagNameMap {
    'dm-crm-contact': DmCrmContact;
  }
}
