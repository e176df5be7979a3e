import { fixture, fixtureCleanup, html, oneEvent } from '@open-wc/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commands, userEvent } from 'vitest/browser';
import '../src/index.js';
import type { DmCollectionList } from '../src/index.js';
import * as stories from '../src/collection-list/collection-list.stories.js';
import {
  apiBase,
  expectAccessible,
  fakeApi,
  itRendersEveryStory,
  never,
  part,
  parts,
  problem,
  recordList,
  untilPart,
} from './support.js';

declare module 'vitest/browser' {
  interface BrowserCommands {
    emulateMedia: (options: {
      colorScheme?: 'light' | 'dark' | null;
      reducedMotion?: 'reduce' | null;
    }) => Promise<void>;
  }
}

const faqs = [
  { question: 'Do you ship abroad?', answer: 'Yes, across the EU.' },
  { question: 'Can I return an item?', answer: 'Within 30 days.' },
  { question: 'Gift cards?', answer: 'Not yet.' },
];

function listOf(fetch: typeof globalThis.fetch, attributes = html``) {
  return fixture<DmCollectionList>(
    html`<dm-collection-list
      api-base=${apiBase}
      key="pk_test_123"
      module="acme.faq"
      collection="questions"
      fields="question answer"
      .fetch=${fetch}
      >${attributes}</dm-collection-list
    >`,
  );
}

afterEach(async () => {
  fixtureCleanup();
  vi.restoreAllMocks();
  document.documentElement.removeAttribute('lang');
  await commands.emulateMedia({ colorScheme: null, reducedMotion: null });
});

describe('<dm-collection-list> states', () => {
  it('lists the records through the generated API, with the publishable key', async () => {
    const api = fakeApi(() => recordList(faqs));
    const element = await listOf(api.fetch);
    const list = await untilPart(element, 'list');

    const url = new URL(api.requests[0]!.url);
    expect(url.origin + url.pathname).toBe(`${apiBase}/v1/m/acme.faq/questions`);
    expect(url.searchParams.get('key')).toBe('pk_test_123');
    expect(list.getAttribute('role')).toBe('listbox');
    expect(parts(element, 'item').map((item) => item.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'Do you ship abroad? Yes, across the EU.',
      'Can I return an item? Within 30 days.',
      'Gift cards? Not yet.',
    ]);
    expect(parts(element, 'field-question')).toHaveLength(3);
    await expectAccessible(element);
  });

  it('shows every own field when none are named, never the platform ones', async () => {
    const element = await fixture<DmCollectionList>(
      html`<dm-collection-list
        api-base=${apiBase}
        module="acme.faq"
        collection="questions"
        .fetch=${fakeApi(() => recordList(faqs)).fetch}
      ></dm-collection-list>`,
    );
    await untilPart(element, 'list');
    const fieldParts = parts(element, 'field').slice(0, 2);
    expect(fieldParts.map((field) => field.getAttribute('part'))).toEqual([
      'field field-question',
      'field field-answer',
    ]);
  });

  it('shows a loading state while the API answers', async () => {
    const element = await listOf(fakeApi(never).fetch);
    const loading = await untilPart(element, 'loading');
    expect(loading.getAttribute('role')).toBe('status');
    expect(loading.textContent?.trim()).toBe('Loading…');
    await expectAccessible(element);
  });

  it('shows an empty state for a collection without records', async () => {
    const element = await listOf(fakeApi(() => recordList([])).fetch);
    const empty = await untilPart(element, 'empty');
    expect(empty.textContent?.trim()).toBe('Nothing here yet.');
    expect(part(element, 'list')).toBeNull();
    await expectAccessible(element);
  });

  it('falls back quietly on an API error, warning exactly once', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const errors: string[] = [];
    document.addEventListener('dm-error', (event) => errors.push(event.detail.message), { once: true });

    const element = await listOf(fakeApi(() => problem(403, 'origin_not_allowed')).fetch);
    const error = await untilPart(element, 'error');
    element.requestUpdate();
    await element.updateComplete;

    expect(error.textContent?.trim()).toBe('This content is not available right now.');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('<dm-collection-list> could not load its data: HTTP 403');
    expect(errors).toEqual(['HTTP 403 origin_not_allowed']);
    await expectAccessible(element);
  });

  it('treats a network failure and a missing connection the same way', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const offline = await listOf(
      fakeApi(() => {
        throw new TypeError('Failed to fetch');
      }).fetch,
    );
    await untilPart(offline, 'error');
    const unconfigured = await fixture(html`<dm-collection-list module="a" collection="b"></dm-collection-list>`);
    await untilPart(unconfigured, 'error');
    expect(warn).toHaveBeenCalledTimes(2);
    expect(String(warn.mock.calls[1]![0])).toContain('no API connection');
  });

  it('lets the page replace the state texts through slots', async () => {
    const element = await listOf(
      fakeApi(() => recordList([])).fetch,
      html`<p slot="empty">No questions yet: ask us!</p>`,
    );
    const empty = await untilPart(element, 'empty');
    const slot = empty.querySelector('slot')!;
    expect(slot.assignedElements().map((node) => node.textContent)).toEqual(['No questions yet: ask us!']);
  });
});

describe('<dm-collection-list> safety', () => {
  it('shows markup in data as text, never as elements', async () => {
    const attack = '<img src=x onerror="window.__dmPwned = true">';
    const element = await listOf(fakeApi(() => recordList([{ question: attack, answer: '<b>bold</b>' }])).fetch);
    await untilPart(element, 'list');
    const item = parts(element, 'item')[0]!;
    expect(item.querySelector('img, b')).toBeNull();
    expect(item.textContent).toContain(attack);
    expect(item.textContent).toContain('<b>bold</b>');
    expect((window as { __dmPwned?: boolean }).__dmPwned).toBeUndefined();
  });

  it('ignores field names that are not field names', async () => {
    const element = await listOf(fakeApi(() => recordList(faqs)).fetch);
    await untilPart(element, 'list');
    element.fields = 'question x"onmouseover=alert(1) answer';
    await element.updateComplete;
    expect(parts(element, 'field').map((field) => field.getAttribute('part'))).toEqual(
      expect.arrayContaining(['field field-question', 'field field-answer']),
    );
    expect(parts(element, 'field')).toHaveLength(6);
  });
});

describe('<dm-collection-list> localisation', () => {
  it('speaks the nearest ancestor’s language and follows a switch', async () => {
    const wrapper = await fixture<HTMLDivElement>(
      html`<div lang="de-AT">
        <dm-collection-list
          api-base=${apiBase}
          module="m"
          collection="c"
          .fetch=${fakeApi(never).fetch}
        ></dm-collection-list>
      </div>`,
    );
    const element = wrapper.querySelector('dm-collection-list')!;
    expect((await untilPart(element, 'loading')).textContent?.trim()).toBe('Wird geladen …');
    expect(element.locale).toBe('de');

    element.setAttribute('lang', 'en');
    await element.updateComplete;
    expect(part(element, 'loading')!.textContent?.trim()).toBe('Loading…');
  });

  it('re-renders when the page changes <html lang>', async () => {
    const element = await listOf(fakeApi(() => recordList(faqs)).fetch);
    const list = await untilPart(element, 'list');
    expect(list.getAttribute('aria-label')).toBe('Entries');
    document.documentElement.lang = 'de';
    await vi.waitFor(() => expect(list.getAttribute('aria-label')).toBe('Einträge'));
  });
});

describe('<dm-collection-list> theming', () => {
  const surface = (element: Element) => getComputedStyle(element).backgroundColor;

  it('is light by default, dark with theme="dark", and a site token always wins', async () => {
    const element = await listOf(fakeApi(() => recordList(faqs)).fetch);
    await untilPart(element, 'list');
    expect(surface(element)).toBe('rgb(255, 255, 255)');

    element.theme = 'dark';
    await element.updateComplete;
    expect(element.getAttribute('theme')).toBe('dark');
    expect(surface(element)).toBe('rgb(22, 24, 29)');
    await expectAccessible(element); // contrast holds in dark mode too

    element.style.setProperty('--dm-color-surface', 'rgb(1, 2, 3)');
    expect(surface(element)).toBe('rgb(1, 2, 3)');
  });

  it('follows the visitor’s dark preference unless told theme="light"', async () => {
    await commands.emulateMedia({ colorScheme: 'dark' });
    const element = await listOf(fakeApi(() => recordList(faqs)).fetch);
    await untilPart(element, 'list');
    expect(surface(element)).toBe('rgb(22, 24, 29)');
    element.setAttribute('theme', 'light');
    expect(surface(element)).toBe('rgb(255, 255, 255)');
  });

  it('stops its loading animation for visitors who prefer reduced motion', async () => {
    const element = await listOf(fakeApi(never).fetch);
    const loading = await untilPart(element, 'loading');
    expect(getComputedStyle(loading).animationName).toBe('dm-pulse');
    await commands.emulateMedia({ reducedMotion: 'reduce' });
    expect(getComputedStyle(loading).animationName).toBe('none');
  });
});

describe('<dm-collection-list> events and keyboard', () => {
  it('announces loads and selections with composed, bubbling dm- events', async () => {
    const api = fakeApi(() => recordList(faqs));
    const loaded = oneEvent(document, 'dm-load');
    const element = await listOf(api.fetch);
    expect((await loaded).detail).toEqual({ count: 3 });

    await untilPart(element, 'list');
    const selected = oneEvent(document, 'dm-select');
    parts(element, 'item')[1]!.click();
    const event = await selected;
    expect(event.detail.record.question).toBe('Can I return an item?');
    expect(event.bubbles && event.composed).toBe(true);
    expect(parts(element, 'item')[1]!.getAttribute('aria-selected')).toBe('true');
    expect(parts(element, 'selected')).toHaveLength(1);
  });

  it('is usable with the keyboard alone', async () => {
    const element = await listOf(fakeApi(() => recordList(faqs)).fetch);
    await untilPart(element, 'list');
    const before = Object.assign(document.createElement('button'), { textContent: 'before' });
    element.before(before);
    before.focus();

    await userEvent.tab();
    const items = parts(element, 'item');
    expect(element.shadowRoot!.activeElement).toBe(items[0]);
    await userEvent.keyboard('{ArrowDown}{ArrowDown}');
    expect(element.shadowRoot!.activeElement).toBe(items[2]);
    await userEvent.keyboard('{Home}');
    expect(element.shadowRoot!.activeElement).toBe(items[0]);
    await userEvent.keyboard('{End}{ArrowUp}{Enter}');
    expect(element.value).toBe(recordId(1));
    await userEvent.keyboard('{ArrowDown} ');
    expect(element.value).toBe(recordId(2));
    before.remove();
  });

  it('puts the keyboard focus stop on the chosen record', async () => {
    const element = await listOf(fakeApi(() => recordList(faqs)).fetch, html``);
    element.value = recordId(2);
    await untilPart(element, 'list');
    const stops = parts(element, 'item').filter((item) => item.tabIndex === 0);
    expect(stops).toEqual([parts(element, 'item')[2]]);
  });
});

describe('<dm-collection-list> in a form', () => {
  async function formWithList() {
    const form = await fixture<HTMLFormElement>(
      html`<form>
        <dm-collection-list
          name="question"
          required
          api-base=${apiBase}
          module="acme.faq"
          collection="questions"
          .fetch=${fakeApi(() => recordList(faqs)).fetch}
        ></dm-collection-list>
      </form>`,
    );
    const element = form.querySelector('dm-collection-list')!;
    await untilPart(element, 'list');
    return { form, element };
  }

  it('is form-associated and validated natively', async () => {
    const { form, element } = await formWithList();
    expect(element.form).toBe(form);
    expect(element.checkValidity()).toBe(false);
    expect(form.checkValidity()).toBe(false);
    expect(element.validity.valueMissing).toBe(true);
    expect(element.validationMessage).toBe('Please choose an entry.');
    expect(element.matches(':invalid')).toBe(true);

    element.lang = 'de';
    await element.updateComplete;
    expect(element.validationMessage).toBe('Bitte wählen Sie einen Eintrag aus.');
    await expectAccessible(form);
  });

  it('submits the chosen record’s id and resets with the form', async () => {
    const { form, element } = await formWithList();
    parts(element, 'item')[2]!.click();
    expect(new FormData(form).get('question')).toBe(recordId(2));
    expect(element.checkValidity()).toBe(true);
    expect(element.matches(':valid')).toBe(true);

    form.reset();
    expect(new FormData(form).get('question')).toBeNull();
    expect(element.validity.valueMissing).toBe(true);
  });

  it('takes no choice while its fieldset is disabled', async () => {
    const { form, element } = await formWithList();
    const fieldset = document.createElement('fieldset');
    form.append(fieldset);
    fieldset.append(element);
    fieldset.disabled = true;
    await element.updateComplete;
    parts(element, 'item')[0]!.click();
    expect(element.value).toBe('');
    expect(part(element, 'list')!.getAttribute('aria-disabled')).toBe('true');
  });
});

describe('<dm-collection-list> stories', () => {
  itRendersEveryStory('dm-collection-list', stories, {
    Loading: 'loading',
    Empty: 'empty',
    ErrorState: 'error',
    Records: 'list',
    QuestionsOnly: 'field-question',
    Chosen: 'selected',
    German: 'list',
  });
});

function recordId(index: number): string {
  return `00000000-0000-4000-8000-00000000000${index}`;
}
