import { fixture, fixtureCleanup, html } from '@open-wc/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { init } from '@dramac/sdk';
// The npm entry point on its own registers the element and the provider.
import '../src/collection-list/collection-list.js';
import type { DmCollectionList } from '../src/index.js';
import { apiBase, fakeApi, recordList, untilPart } from './support.js';

afterEach(() => {
  fixtureCleanup();
  vi.restoreAllMocks();
});

const keysOf = (requests: Request[]) => requests.map((request) => new URL(request.url).searchParams.get('key'));

// Test order matters: `init` sets page-wide state, and this file's iframe is its own page.
describe('init() from @dramac/sdk', () => {
  it('registers <dm-collection-list> and <dm-provider> from the element entry point, safely twice', async () => {
    expect(customElements.get('dm-collection-list')).toBeDefined();
    expect(customElements.get('dm-provider')).toBeDefined();
    // A second copy of the module (two bundles on one page) evaluates again without throwing.
    const copy = '../src/collection-list/collection-list.ts?copy=2';
    const second = (await import(
      /* @vite-ignore */ copy
    )) as typeof import('../src/collection-list/collection-list.js');
    expect(second.DmCollectionList).not.toBe(customElements.get('dm-collection-list')); // really a second copy
  });

  it('re-renders an element already on the page when init() is called later', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const element = await fixture<DmCollectionList>(
      html`<dm-collection-list module="acme.faq" collection="questions"></dm-collection-list>`,
    );
    await untilPart(element, 'error'); // no connection yet

    const api = fakeApi(() => recordList([{ question: 'Late?' }]));
    const client = init({ baseUrl: apiBase, key: 'pk_init', fetch: api.fetch });
    await untilPart(element, 'list');
    expect(keysOf(api.requests)).toEqual(['pk_init']);
    expect(element.connection).toMatchObject({ apiBase, key: 'pk_init' });
    expect(typeof client.GET).toBe('function');
  });

  it('is the default below an element’s own attributes and its provider', async () => {
    const fallback = fakeApi(() => recordList([{ question: 'default' }]));
    init({ baseUrl: apiBase, key: 'pk_default', fetch: fallback.fetch });
    const provided = fakeApi(() => recordList([{ question: 'provided' }]));
    const wrapper = await fixture<HTMLDivElement>(
      html`<div>
        <dm-collection-list module="m" collection="c"></dm-collection-list>
        <dm-collection-list module="m" collection="c" key="pk_own"></dm-collection-list>
        <dm-provider key="pk_provider" .fetch=${provided.fetch}>
          <dm-collection-list module="m" collection="c"></dm-collection-list>
        </dm-provider>
      </div>`,
    );
    await Promise.all([...wrapper.querySelectorAll('dm-collection-list')].map((el) => untilPart(el, 'list')));
    expect(keysOf(fallback.requests).sort()).toEqual(['pk_default', 'pk_own']);
    expect(keysOf(provided.requests)).toEqual(['pk_provider']);
  });
});
