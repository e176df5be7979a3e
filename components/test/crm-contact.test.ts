import { fixture, fixtureCleanup, html } from '@open-wc/testing';
import { nothing } from 'lit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import '../src/index.js';
import type { DmCrmContact } from '../src/index.js';
import {
  crmResponder,
  fixtureApiBase,
  fixtureCompany,
  fixtureContact,
  fixtureSiteId,
  fixtureToken,
  otherContact,
  timelineOf,
  type CrmScenario,
} from '../src/crm/crm-fixtures.js';
import * as stories from '../src/crm/crm-contact.stories.js';
import { expectAccessible, fakeApi, part, parts, untilPart, itRendersEveryStory } from './support.js';

// Monday 11 January 2027, 09:00 UTC: the fixture timeline's newest entry is an hour before.
const NOW = new Date('2027-01-11T09:00:00Z');

interface Options {
  token?: string | null;
  contactId?: string;
  lang?: string;
  settings?: Record<string, unknown>;
}

async function contactOf(scenario: CrmScenario = {}, options: Options = {}) {
  const api = fakeApi(crmResponder(scenario));
  const element = await fixture<DmCrmContact>(
    html`<dm-crm-contact
      api-base=${fixtureApiBase}
      site-id=${fixtureSiteId}
      contact-id=${options.contactId ?? fixtureContact.id}
      lang=${options.lang ?? nothing}
      .token=${options.token === null ? undefined : (options.token ?? fixtureToken)}
      .settings=${options.settings}
      .fetch=${api.fetch}
    ></dm-crm-contact>`,
  );
  return { element, api };
}

const text = (node: Element | null | undefined) => node?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
const root = (element: DmCrmContact) => element.shadowRoot!;
/** The detail list as label → text pairs. */
function details(element: DmCrmContact): Record<string, string> {
  const list = part(element, 'details')!;
  return Object.fromEntries([...list.querySelectorAll('dt')].map((dt) => [text(dt), text(dt.nextElementSibling)]));
}
const summaries = (element: DmCrmContact) => parts(element, 'summary').map(text);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  fixtureCleanup();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('<dm-crm-contact> states', () => {
  it('asks the user to sign in without a token, calling nothing', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { element, api } = await contactOf({}, { token: null });
    expect(text(await untilPart(element, 'sign-in'))).toBe('Please sign in to see this.');
    expect(api.requests).toHaveLength(0);
    expect(warn).not.toHaveBeenCalled();
    await expectAccessible(element);
  });

  it('lets a page put its own sign-in link in the sign-in state', async () => {
    const element = await fixture<DmCrmContact>(
      html`<dm-crm-contact api-base=${fixtureApiBase} site-id=${fixtureSiteId} contact-id=${fixtureContact.id}
        ><a slot="sign-in" href="/login">Sign in</a></dm-crm-contact
      >`,
    );
    const slot = (await untilPart(element, 'sign-in')).querySelector('slot')!;
    expect(slot.assignedElements().map((node) => node.textContent)).toEqual(['Sign in']);
  });

  it('shows a loading state, then falls back quietly when the contact cannot be loaded', async () => {
    const { element } = await contactOf({ pending: 'contact' });
    expect(text(await untilPart(element, 'loading'))).toBe('Loading…');
    await expectAccessible(element);

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { element: failing } = await contactOf({ fail: 'contact' });
    expect(text(await untilPart(failing, 'error'))).toBe('This content is not available right now.');
    expect(warn).toHaveBeenCalledTimes(1);
    await expectAccessible(failing);
  });

  it('says the user has no access when the API answers 403', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const api = fakeApi(() => Response.json({ code: 'insufficient_scope', status: 403 }, { status: 403 }));
    const element = await fixture<DmCrmContact>(
      html`<dm-crm-contact
        api-base=${fixtureApiBase}
        site-id=${fixtureSiteId}
        contact-id=${fixtureContact.id}
        .token=${fixtureToken}
        .fetch=${api.fetch}
      ></dm-crm-contact>`,
    );
    expect(text(await untilPart(element, 'error'))).toBe('You do not have access to this.');
  });
});

describe('<dm-crm-contact> card', () => {
  it("shows the contact's details, company and timeline, newest first", async () => {
    const loaded = vi.fn();
    document.addEventListener('dm-load', loaded, { once: true });
    const { element, api } = await contactOf();
    await untilPart(element, 'timeline');

    expect(text(part(element, 'name'))).toBe('Ada Lovelace');
    expect(details(element)).toEqual({
      Email: 'ada@bakery.example ada.l@example.org',
      Phone: '+44 20 7946 0000',
      Company: 'Lovelace Bakery',
      'Lifecycle stage': 'Customer',
      Tags: expect.any(String),
    });
    const links = parts(element, 'link').map((link) => link.getAttribute('href'));
    expect(links).toEqual(['mailto:ada@bakery.example', 'mailto:ada.l@example.org', 'tel:+442079460000']);
    expect(parts(element, 'tag').map(text)).toEqual(['vip', 'newsletter']);

    expect(summaries(element)).toEqual([
      'Sent the contact form (1)',
      'Booked an intro call (2)',
      'Sent the contact form (3)',
    ]);
    const times = parts(element, 'time');
    expect(times.map(text)).toEqual(['1 hour ago', '2 hours ago', '3 hours ago']);
    expect(times[0]!.getAttribute('datetime')).toBe('2027-01-11T08:00:00.000Z');
    expect(times[0]!.getAttribute('title')).toMatch(/^Monday, January 11, 2027/);
    expect(part(element, 'more')).toBeNull();
    expect(loaded.mock.calls[0]![0].detail).toEqual({ count: 3 });
    await expectAccessible(element);

    for (const request of api.requests) {
      expect(request.headers.get('authorization')).toBe(`Bearer ${fixtureToken}`);
      expect(request.url).not.toContain(fixtureToken);
    }
    expect(api.requests.map((request) => new URL(request.url).pathname)).toContain(
      `/v1/sites/${fixtureSiteId}/crm/companies/${fixtureCompany.id}`,
    );
  });

  it('shows older entries a page at a time with "Show more"', async () => {
    const { element, api } = await contactOf({ timeline: timelineOf(45) });
    await untilPart(element, 'timeline');
    expect(parts(element, 'entry')).toHaveLength(20);
    const more = part(element, 'more') as HTMLButtonElement;
    expect(text(more)).toBe('Show more');
    more.click();
    await vi.waitFor(() => expect(parts(element, 'entry')).toHaveLength(40));
    (part(element, 'more') as HTMLButtonElement).click();
    await vi.waitFor(() => expect(parts(element, 'entry')).toHaveLength(45));
    expect(part(element, 'more')).toBeNull();
    expect(summaries(element).at(-1)).toBe('Sent the contact form (45)');
    expect(text(parts(element, 'time').at(-1))).toBe('2 days ago');
    const cursors = api.requests
      .map((request) => new URL(request.url))
      .filter((url) => url.pathname.endsWith('/timeline'))
      .map((url) => url.searchParams.get('cursor'));
    expect(cursors).toEqual([null, '20', '40']);
  });

  it('says so when older entries cannot be loaded, and keeps the button', async () => {
    const { element } = await contactOf({ timeline: timelineOf(25), fail: 'timeline-more' });
    await untilPart(element, 'timeline');
    (part(element, 'more') as HTMLButtonElement).click();
    await vi.waitFor(() =>
      expect(text(part(element, 'notice'))).toBe('More entries could not be loaded. Please try again.'),
    );
    expect(parts(element, 'entry')).toHaveLength(20);
    expect((part(element, 'more') as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows a date and time for what happened more than a week ago', async () => {
    const { element } = await contactOf({ timeline: [{ ...timelineOf(1)[0]!, occurred_at: '2026-12-01T10:00:00Z' }] });
    await untilPart(element, 'timeline');
    expect(text(part(element, 'time'))).toMatch(/^Dec 1, 2026, \d{1,2}:\d{2}\s[AP]M$/);
  });

  it('shows a contact without company, phones or tags, and an empty timeline', async () => {
    const { element, api } = await contactOf({ timeline: [] }, { contactId: otherContact.id });
    await untilPart(element, 'timeline-empty');
    expect(details(element)).toEqual({ Email: 'alan@example.com', 'Lifecycle stage': 'Lead' });
    expect(text(part(element, 'timeline-empty'))).toBe('Nothing has happened yet.');
    expect(api.requests.some((request) => request.url.includes('/companies/'))).toBe(false);
    await expectAccessible(element);
  });

  it('names an unnamed contact by its address, or says it has no name', async () => {
    const { element } = await contactOf(
      { contacts: [{ ...otherContact, first_name: '', last_name: '' }] },
      { contactId: otherContact.id },
    );
    await untilPart(element, 'name');
    expect(text(part(element, 'name'))).toBe('alan@example.com');
    const { element: nameless } = await contactOf(
      { contacts: [{ ...otherContact, first_name: '', last_name: '', emails: [] }] },
      { contactId: otherContact.id },
    );
    await untilPart(nameless, 'name');
    expect(text(part(nameless, 'name'))).toBe('Unnamed contact');
  });

  it('speaks German', async () => {
    const { element } = await contactOf({}, { settings: { locale: 'de' } });
    await untilPart(element, 'timeline');
    expect(Object.keys(details(element))).toEqual(['E-Mail', 'Telefon', 'Firma', 'Lebenszyklus-Phase', 'Schlagwörter']);
    expect(details(element)['Lebenszyklus-Phase']).toBe('Kunde');
    expect(text(part(element, 'timeline-title'))).toBe('Verlauf');
    expect(text(parts(element, 'time')[0])).toBe('vor 1 Stunde');
    await expectAccessible(element);
  });
});

describe('<dm-crm-contact> shows what the API says as text', () => {
  const payloads = [
    '<img src=x onerror="window.__pwned = 1">',
    '"><svg onload="window.__pwned = 1">',
    '<script>window.__pwned = 1</script>',
    '<a href="javascript:window.__pwned=1">click</a>',
  ];

  it('never as markup: names, tags, addresses, company and timeline summaries', async () => {
    const hostile = {
      ...fixtureContact,
      first_name: payloads[0]!,
      last_name: payloads[1]!,
      tags: payloads,
      emails: [
        'javascript:window.__pwned=1//@example.com',
        'a@b.example"><img src=x onerror=alert(1)>',
        'ok@example.com',
      ],
      phones: ['javascript:alert(1)', '<img src=x onerror=alert(1)>'],
    };
    const { element } = await contactOf({
      contacts: [hostile],
      company: { ...fixtureCompany, name: payloads[2]! },
      timeline: payloads.map((summary, index) => ({ ...timelineOf(4)[index]!, summary })),
    });
    await untilPart(element, 'timeline');

    expect(text(part(element, 'name'))).toBe(`${payloads[0]} ${payloads[1]}`);
    expect(parts(element, 'tag').map((tag) => tag.textContent)).toEqual(payloads);
    expect(text(part(element, 'company'))).toBe(payloads[2]);
    expect(parts(element, 'summary').map((summary) => summary.textContent)).toEqual(payloads);
    expect(root(element).querySelector('img, svg, script, [onerror], [onload]')).toBeNull();
    // Only a plain address is a link, and only ever a mailto: or tel: one.
    const links = parts(element, 'link');
    expect(links.map((link) => link.getAttribute('href'))).toEqual(['mailto:ok@example.com']);
    expect(root(element).querySelector('a[href^="javascript:" i]')).toBeNull();
    expect(text(part(element, 'emails'))).toContain('javascript:window.__pwned=1//@example.com');
    expect(text(part(element, 'phones'))).toContain('javascript:alert(1)');
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
    await expectAccessible(element);
  });
});

describe('<dm-crm-contact> stories', () => {
  // What each story shows once rendered (and played).
  itRendersEveryStory('dm-crm-contact', stories, {
    Loading: 'loading',
    SignedOut: 'sign-in',
    ErrorState: 'error',
    Contact: 'timeline',
    EmptyTimeline: 'timeline-empty',
    LongTimeline: 'timeline',
    Dark: 'timeline',
    German: 'timeline',
  });
});
