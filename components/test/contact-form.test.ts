import { fixture, fixtureCleanup, html, oneEvent } from '@open-wc/testing';
import { nothing } from 'lit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { userEvent } from 'vitest/browser';
import '../src/index.js';
import { DmContactForm } from '../src/index.js';
import {
  contactFormResponder,
  fixtureApiBase,
  fixtureKey,
  type ContactFormScenario,
} from '../src/crm/contact-form-fixtures.js';
import * as stories from '../src/crm/contact-form.stories.js';
import { expectAccessible, fakeApi, part, parts, untilPart, itRendersEveryStory } from './support.js';

interface Options {
  settings?: Record<string, unknown>;
  lang?: string;
  theme?: 'light' | 'dark';
}

async function formOf(scenario: ContactFormScenario = {}, options: Options = {}) {
  const api = fakeApi(contactFormResponder(scenario));
  const element = await fixture<DmContactForm>(
    html`<dm-contact-form
      api-base=${fixtureApiBase}
      key=${fixtureKey}
      lang=${options.lang ?? nothing}
      theme=${options.theme ?? nothing}
      .settings=${options.settings}
      .fetch=${api.fetch}
    ></dm-contact-form>`,
  );
  return { element, api };
}

const text = (node: Element | null | undefined) => node?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
const control = (element: DmContactForm, name: string) =>
  element.shadowRoot!.getElementById(`f-${name}`) as HTMLInputElement | HTMLTextAreaElement | null;
const labelOf = (element: DmContactForm, name: string) =>
  text(element.shadowRoot!.querySelector(`label[for="f-${name}"]`));
const fieldNames = (element: DmContactForm) =>
  parts(element, 'field').map((field) => field.querySelector<HTMLInputElement>('input, textarea')!.name);
const status = (element: DmContactForm) => text(part(element, 'status'));
const focused = (element: DmContactForm) => element.shadowRoot!.activeElement as HTMLElement | null;

function fill(element: DmContactForm, values: Record<string, string>) {
  for (const [name, value] of Object.entries(values)) control(element, name)!.value = value;
}

async function send(element: DmContactForm) {
  element.shadowRoot!.querySelector('form')!.requestSubmit();
  await element.updateComplete;
}

/** The submission the element sent (its client builds the request a moment after the submit). */
const posted = async (requests: Request[]) => {
  const find = () => requests.find((candidate) => new URL(candidate.url).pathname === '/v1/crm/form-submissions');
  await vi.waitFor(() => expect(find(), 'a submission was sent').toBeDefined());
  const request = find()!;
  return { url: new URL(request.url), body: await request.clone().json() };
};

const ALL_FIELDS = [
  { name: 'first_name', required: true },
  { name: 'last_name' },
  { name: 'email' },
  { name: 'phone' },
  { name: 'company' },
  { name: 'message', required: true },
];

afterEach(() => {
  fixtureCleanup();
  vi.restoreAllMocks();
  history.replaceState(null, '', location.pathname);
});

describe('<dm-contact-form> fields', () => {
  it('shows a good form without settings: names, email and message, labelled, email required', async () => {
    const { element } = await formOf();
    expect(fieldNames(element)).toEqual(['first_name', 'last_name', 'email', 'message']);
    expect(text(part(element, 'title'))).toBe('Contact us');
    expect(labelOf(element, 'first_name')).toBe('First name');
    expect(labelOf(element, 'email')).toBe('Email *');
    const email = control(element, 'email') as HTMLInputElement;
    expect([email.type, email.required, email.maxLength, email.autocomplete]).toEqual(['email', true, 254, 'email']);
    expect(control(element, 'first_name')!.required).toBe(false);
    expect(control(element, 'message')!.localName).toBe('textarea');
    expect(text(part(element, 'submit'))).toBe('Send');
    expect(parseFloat(getComputedStyle(element).minHeight)).toBeGreaterThanOrEqual(300);
    // The live region is there from the start, taking no room while it has nothing to say.
    expect(part(element, 'status')!.getBoundingClientRect().height).toBe(0);
    await expectAccessible(element);
  });

  it('shows the settings’ fields in their order, once each, with their labels; email always, and required', async () => {
    const { element } = await formOf(
      {},
      {
        settings: {
          fields: [
            { name: 'company', label: 'Your agency', required: true },
            { name: 'phone' },
            { name: 'company', label: 'twice' },
            { name: 'website' },
            { name: 'email', required: false },
            'nonsense',
          ],
        },
      },
    );
    expect(fieldNames(element)).toEqual(['company', 'phone', 'email']);
    expect(labelOf(element, 'company')).toBe('Your agency *');
    expect(control(element, 'company')!.required).toBe(true);
    expect(control(element, 'email')!.required).toBe(true);
    const phone = control(element, 'phone') as HTMLInputElement;
    expect([phone.type, phone.autocomplete, phone.minLength, phone.maxLength]).toEqual(['tel', 'tel', 3, 40]);
    const { element: noEmail } = await formOf({}, { settings: { fields: [{ name: 'message' }] } });
    expect(fieldNames(noEmail)).toEqual(['message', 'email']);
  });

  it('shows the consent checkbox with the settings’ text, or its own, required unless told otherwise', async () => {
    const { element } = await formOf({}, { settings: { consent: { enabled: true, text: 'Yes, call me back.' } } });
    const consent = control(element, 'consent') as HTMLInputElement;
    expect([consent.type, consent.required]).toEqual(['checkbox', true]);
    expect(labelOf(element, 'consent')).toBe('Yes, call me back. *');
    await expectAccessible(element);
    const { element: own } = await formOf({}, { settings: { consent: { enabled: true, required: false } } });
    expect(control(own, 'consent')!.required).toBe(false);
    expect(labelOf(own, 'consent')).toBe('I agree that my details are stored and used to answer my request.');
    const { element: none } = await formOf();
    expect(control(none, 'consent')).toBeNull();
  });

  it('hides the honeypot from people: off screen, out of the tab order, hidden from assistive technology', async () => {
    const { element } = await formOf();
    const trap = control(element, 'website') as HTMLInputElement;
    expect(trap.tabIndex).toBe(-1);
    expect(trap.autocomplete).toBe('off');
    expect(trap.closest('[aria-hidden="true"]')).not.toBeNull();
    const box = trap.parentElement!.getBoundingClientRect();
    expect(box.width * box.height).toBeLessThanOrEqual(1);
    // Tabbing through the whole form never lands on it.
    control(element, 'first_name')!.focus();
    const reached: string[] = [];
    for (let step = 0; step < 6; step++) {
      reached.push(focused(element)?.id || focused(element)?.getAttribute('part') || '');
      await userEvent.tab();
    }
    expect(reached).toEqual(['f-first_name', 'f-last_name', 'f-email', 'f-message', 'submit', '']);
  });
});

describe('<dm-contact-form> validation', () => {
  it('shows the browser’s own messages beside the fields, focuses the first, and sends nothing', async () => {
    const { element, api } = await formOf({}, { settings: { fields: ALL_FIELDS, consent: { enabled: true } } });
    fill(element, { email: 'not an address', first_name: '   ' });
    await send(element);
    expect(api.requests).toHaveLength(0);
    const errors = parts(element, 'field-error');
    expect(errors.map((error) => error.id)).toEqual(['e-first_name', 'e-email', 'e-message', 'e-consent']);
    for (const name of ['first_name', 'email', 'message', 'consent']) {
      const input = control(element, name)!;
      // The browser's words, whatever its language: nothing of ours.
      expect(text(element.shadowRoot!.getElementById(`e-${name}`))).toBe(input.validationMessage);
      expect(input.validationMessage).not.toBe('');
      expect(input.getAttribute('aria-invalid')).toBe('true');
      expect(input.getAttribute('aria-describedby')).toBe(`e-${name}`);
    }
    expect((control(element, 'email') as HTMLInputElement).validity.typeMismatch).toBe(true);
    // Blank is empty.
    expect((control(element, 'first_name') as HTMLInputElement).validity.valueMissing).toBe(true);
    expect(focused(element)?.id).toBe('f-first_name');
    expect(status(element)).toBe('Please check the marked fields.');
    expect(part(element, 'status')!.getAttribute('role')).toBe('status');
    await expectAccessible(element);

    // Fixing a field takes its message away.
    const email = control(element, 'email')!;
    email.value = 'ada@example.com';
    email.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
    await element.updateComplete;
    expect(element.shadowRoot!.getElementById('e-email')).toBeNull();
    expect(email.hasAttribute('aria-invalid')).toBe(false);
  });

  it('refuses tags in any field before the API has to, in the visitor’s language', async () => {
    const { element, api } = await formOf({}, { lang: 'de' });
    fill(element, { email: 'ada@example.com', first_name: '<b>Ada</b>' });
    await send(element);
    expect(api.requests).toHaveLength(0);
    expect(text(element.shadowRoot!.getElementById('e-first_name'))).toBe(
      'Bitte nur Text eingeben, ohne HTML-Tags (wie <b>).',
    );
    expect(status(element)).toBe('Bitte prüfen Sie das markierte Feld.');
  });

  it('answers for its validity as a form-associated element, once the visitor tried to send it', async () => {
    const api = fakeApi(contactFormResponder());
    const host = await fixture<HTMLFormElement>(
      html`<form>
        <fieldset>
          <dm-contact-form api-base=${fixtureApiBase} key=${fixtureKey} .fetch=${api.fetch}></dm-contact-form>
        </fieldset>
      </form>`,
    );
    const element = host.querySelector('dm-contact-form')!;
    await element.updateComplete;
    expect(element.form).toBe(host);
    // Untouched, it never blocks a page-wide form (some CMSs wrap whole pages in one).
    expect(host.checkValidity()).toBe(true);
    expect(element.checkValidity()).toBe(false);
    expect(element.validity.valueMissing).toBe(true);
    expect(element.validationMessage).toBe(control(element, 'email')!.validationMessage);
    expect(host.checkValidity()).toBe(false);
    fill(element, { email: 'ada@example.com' });
    expect(element.reportValidity()).toBe(true);
    expect(host.checkValidity()).toBe(true);
    // The page's form resets and disables it like its own fields.
    host.reset();
    await element.updateComplete;
    expect(control(element, 'email')!.value).toBe('');
    host.querySelector('fieldset')!.disabled = true;
    await element.updateComplete;
    expect(control(element, 'email')!.disabled).toBe(true);
    expect((part(element, 'submit') as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('<dm-contact-form> sending', () => {
  it('sends the entries, consent, page, referrer, UTM parameters, honeypot and fill time', async () => {
    history.replaceState(
      null,
      '',
      `${location.pathname}?utm_source=newsletter&utm_campaign=spring&utm_medium=%3Cscript%3E&ref=x#section`,
    );
    const { element, api } = await formOf(
      {},
      { settings: { fields: ALL_FIELDS, consent: { enabled: true, required: false } } },
    );
    fill(element, { email: ' ada@example.com ', first_name: 'Ada', message: 'Hello\nthere', company: '' });
    await new Promise((resolve) => setTimeout(resolve, 60));
    await send(element);
    const { url, body } = await posted(api.requests);
    expect(url.origin + url.pathname).toBe(`${fixtureApiBase}/v1/crm/form-submissions`);
    expect(url.searchParams.get('key')).toBe(fixtureKey);
    expect(body).toEqual({
      fields: { email: 'ada@example.com', first_name: 'Ada', message: 'Hello\nthere' },
      consent: false,
      locale: 'en',
      page_url: location.href.split('#')[0],
      // What the API would refuse (markup) is left out rather than making the form unsendable.
      utm: { source: 'newsletter', campaign: 'spring' },
      honeypot: '',
      elapsed_ms: expect.any(Number),
      ...(document.referrer ? { referrer: document.referrer } : {}),
    });
    expect(body.page_url).not.toContain('#');
    expect(body.elapsed_ms).toBeGreaterThanOrEqual(60);
  });

  it('sends what a bot put in the honeypot, for the API to drop', async () => {
    const { element, api } = await formOf();
    fill(element, { email: 'bot@example.com', website: 'https://spam.example' });
    await send(element);
    expect((await posted(api.requests)).body.honeypot).toBe('https://spam.example');
  });

  it('shows it is sending, then thanks the visitor in the live region and offers another message', async () => {
    const { element } = await formOf({ answer: 'pending' });
    fill(element, { email: 'ada@example.com' });
    await send(element);
    const button = part(element, 'submit') as HTMLButtonElement;
    expect([button.disabled, text(button)]).toEqual([true, 'Sending…']);
    expect(part(element, 'form')!.getAttribute('aria-busy')).toBe('true');
    await expectAccessible(element);

    const { element: sent } = await formOf({}, { settings: { success_message: 'Thanks, Ada calls you today.' } });
    fill(sent, { email: 'ada@example.com' });
    const submitted = oneEvent(sent, 'dm-contact-form-submitted');
    await send(sent);
    const event = await submitted;
    expect(event.detail).toEqual({ receivedAt: expect.any(String), redirectUrl: null });
    await untilPart(sent, 'another');
    expect(status(sent)).toBe('Thanks, Ada calls you today.');
    expect(part(sent, 'status')!.getAttribute('aria-live')).toBe('polite');
    expect(part(sent, 'form')).toBeNull();
    await vi.waitFor(() => expect(focused(sent)?.getAttribute('part')).toBe('status'));
    await expectAccessible(sent);
    part(sent, 'another')!.click();
    await sent.updateComplete;
    expect(control(sent, 'email')!.value).toBe('');
    expect(status(sent)).toBe('');
  });

  it('goes to the redirect page once sent, unless the page keeps the visitor', async () => {
    const navigate = vi
      .spyOn(DmContactForm.prototype as unknown as { navigate(url: string): void }, 'navigate')
      .mockImplementation(() => {});
    const settings = { redirect_url: 'https://www.example.com/thanks' };
    const { element } = await formOf({}, { settings });
    fill(element, { email: 'ada@example.com' });
    const submitted = oneEvent(element, 'dm-contact-form-submitted');
    await send(element);
    expect((await submitted).detail.redirectUrl).toBe('https://www.example.com/thanks');
    await vi.waitFor(() => expect(navigate).toHaveBeenCalledWith('https://www.example.com/thanks'));
    expect(status(element)).toBe('Thank you! One moment…');
    expect(part(element, 'another')).toBeNull();

    navigate.mockClear();
    const { element: kept } = await formOf({}, { settings });
    kept.addEventListener('dm-contact-form-submitted', (event) => event.preventDefault());
    fill(kept, { email: 'ada@example.com' });
    await send(kept);
    await untilPart(kept, 'another');
    expect(status(kept)).toBe('Thank you! We will get back to you soon.');
    expect(navigate).not.toHaveBeenCalled();

    // Only https pages: a `javascript:` address is no place to send anyone.
    const { element: hostile } = await formOf({}, { settings: { redirect_url: 'javascript:alert(1)' } });
    fill(hostile, { email: 'ada@example.com' });
    await send(hostile);
    await untilPart(hostile, 'another');
    expect(navigate).not.toHaveBeenCalled();
  });

  it('shows the API’s objection beside the field it names, and focuses it', async () => {
    const { element } = await formOf({
      answer: 'invalid',
      invalidField: { path: '/body/fields/phone', message: 'is not a field of this form' },
    });
    fill(element, { email: 'ada@example.com' });
    await send(element);
    // The settings changed since the page loaded: the field is not even shown, so nothing to mark.
    await vi.waitFor(() => expect(status(element)).toBe('Your message could not be sent. Please try again.'));
    expect(parts(element, 'field-error')).toHaveLength(0);

    const { element: named } = await formOf({
      answer: 'invalid',
      invalidField: { path: '/body/fields/email', message: 'must match format "email"' },
    });
    fill(named, { email: 'ada@example.com' });
    await send(named);
    await untilPart(named, 'field-error');
    expect(text(named.shadowRoot!.getElementById('e-email'))).toBe('must match format "email"');
    await vi.waitFor(() => expect(focused(named)?.id).toBe('f-email'));
    expect(control(named, 'email')!.value).toBe('ada@example.com');
  });

  it('says when to try again after too many attempts (429), in the visitor’s language', async () => {
    const { element } = await formOf({ answer: 'rate_limited', retryAfter: 120 });
    fill(element, { email: 'ada@example.com' });
    await send(element);
    await vi.waitFor(() => expect(status(element)).toBe('Too many attempts. Please try again in 2 minutes.'));
    expect(part(element, 'status')!.dataset.kind).toBe('error');
    expect((part(element, 'submit') as HTMLButtonElement).disabled).toBe(false);

    const { element: german } = await formOf({ answer: 'rate_limited', retryAfter: 45 }, { lang: 'de' });
    fill(german, { email: 'ada@example.com' });
    await send(german);
    await vi.waitFor(() =>
      expect(status(german)).toBe('Zu viele Versuche. Bitte versuchen Sie es in 45 Sekunden erneut.'),
    );
  });

  it('keeps the entries and says so when sending fails', async () => {
    const { element } = await formOf({ answer: 'error' });
    fill(element, { email: 'ada@example.com', message: 'Still here' });
    await send(element);
    await vi.waitFor(() => expect(status(element)).toBe('Your message could not be sent. Please try again.'));
    expect(control(element, 'message')!.value).toBe('Still here');
    await expectAccessible(element);
  });
});

/** What people type (or paste) to run script in a page: each must come out as the very text it is. */
const XSS_PAYLOADS = [
  '<img src=x onerror="window.__dmXss=1">',
  '<script>window.__dmXss=1</script>',
  '"><svg onload="window.__dmXss=1">',
  '\'><iframe srcdoc="<script>parent.__dmXss=1</script>">',
  '<a href="javascript:window.__dmXss=1">click</a>',
  '</label><input name="admin" autofocus onfocus="window.__dmXss=1">',
  '<style>:host{display:none}</style>',
  '${window.__dmXss=1}',
  '{{constructor.constructor("window.__dmXss=1")()}}',
  'javascript:window.__dmXss=1',
];

describe('<dm-contact-form> with hostile settings', () => {
  it('renders every settings text as text, never as markup', async () => {
    const navigate = vi
      .spyOn(DmContactForm.prototype as unknown as { navigate(url: string): void }, 'navigate')
      .mockImplementation(() => {});
    for (const payload of XSS_PAYLOADS) {
      const { element } = await formOf(
        {},
        {
          settings: {
            title: payload,
            intro: payload,
            submit_label: payload,
            success_message: payload,
            fields: [
              { name: 'first_name', label: payload },
              { name: 'email', label: payload },
            ],
            consent: { enabled: true, text: payload, required: false },
            accent_color: payload,
            redirect_url: payload,
          },
        },
      );
      const root = element.shadowRoot!;
      expect(text(part(element, 'title'))).toBe(payload.trim());
      expect(text(part(element, 'intro'))).toBe(payload.trim());
      expect(labelOf(element, 'first_name')).toBe(payload.trim().replace(/\s+/g, ' '));
      expect(labelOf(element, 'consent')).toBe(payload.trim().replace(/\s+/g, ' '));
      expect(text(part(element, 'submit'))).toBe(payload.trim().replace(/\s+/g, ' '));
      // Only the form's own elements: nothing the payloads would have made.
      expect(root.querySelectorAll('img, script, svg, iframe, a, style, [onerror], [onload]')).toHaveLength(0);
      expect([...root.querySelectorAll('input')].map((input) => input.name)).toEqual([
        'first_name',
        'email',
        'consent',
        'website',
      ]);
      expect(element.style.getPropertyValue('--_dm-primary')).toBe('');
      fill(element, { email: 'ada@example.com' });
      await send(element);
      await untilPart(element, 'another');
      expect(status(element)).toBe(payload.trim().replace(/\s+/g, ' '));
      expect(part(element, 'status')!.children).toHaveLength(0);
      await expectAccessible(element);
      fixtureCleanup();
    }
    expect((window as unknown as { __dmXss?: number }).__dmXss).toBeUndefined();
    expect(navigate).not.toHaveBeenCalled();
  });
});

describe('<dm-contact-form> looks', () => {
  it('speaks German by the page’s language or the locale setting', async () => {
    const { element } = await formOf({}, { lang: 'de', settings: { consent: { enabled: true } } });
    expect(text(part(element, 'title'))).toBe('Kontakt');
    expect(labelOf(element, 'email')).toBe('E-Mail *');
    expect(text(part(element, 'submit'))).toBe('Senden');
    expect(text(part(element, 'required-note'))).toBe('Mit * markierte Felder sind Pflichtfelder.');
    const { element: setting } = await formOf({}, { settings: { locale: 'de' } });
    expect(labelOf(setting, 'message')).toBe('Nachricht');
    await expectAccessible(element);
  });

  it('takes the accent colour setting and the theme, and stays accessible in the dark', async () => {
    const { element } = await formOf({}, { settings: { accent_color: '#0f766e' } });
    expect(getComputedStyle(part(element, 'submit')!).backgroundColor).toBe('rgb(15, 118, 110)');
    const { element: dark } = await formOf({}, { theme: 'dark', settings: { consent: { enabled: true } } });
    expect(getComputedStyle(dark).backgroundColor).toBe('rgb(22, 24, 29)');
    await send(dark);
    await expectAccessible(dark);
  });
});

describe('<dm-contact-form> stories', () => {
  // What each story shows once rendered (and played).
  itRendersEveryStory('dm-contact-form', stories, {
    Default: 'form',
    AllFields: 'consent',
    EmailOnly: 'form',
    ValidationErrors: 'field-error',
    Sending: 'submit',
    Success: 'another',
    RefusedField: 'field-error',
    RateLimited: 'status',
    Failed: 'status',
    Light: 'form',
    Dark: 'form',
    German: 'consent',
    GermanSuccess: 'another',
    Accent: 'form',
  });
});
