import { fixture, fixtureCleanup, html } from '@open-wc/testing';
import { afterEach, describe, expect, it } from 'vitest';
import '../src/index.js';
import type { DmCollectionList, DmProvider } from '../src/index.js';
import { apiBase, fakeApi, recordList, untilPart } from './support.js';

afterEach(() => fixtureCleanup());

describe('<dm-provider>', () => {
  it('gives its elements the connection; an element’s own attributes win', async () => {
    const api = fakeApi(() => recordList([{ title: 'One' }]));
    const provider = await fixture<DmProvider>(
      html`<dm-provider api-base=${apiBase} key="pk_site" .settings=${{ accent: 'teal' }} .fetch=${api.fetch}>
        <dm-collection-list module="acme.faq" collection="questions"></dm-collection-list>
        <dm-collection-list module="acme.faq" collection="questions" key="pk_other"></dm-collection-list>
      </dm-provider>`,
    );
    const [first, second] = provider.querySelectorAll<DmCollectionList>('dm-collection-list');
    await untilPart(first!, 'list');
    await untilPart(second!, 'list');

    const keys = api.requests.map((request) => new URL(request.url).searchParams.get('key')).sort();
    expect(keys).toEqual(['pk_other', 'pk_site']);
    expect(first!.connection.settings).toEqual({ accent: 'teal' });
  });

  it('reloads its elements when the connection changes', async () => {
    const api = fakeApi(() => recordList([{ title: 'One' }]));
    const provider = await fixture<DmProvider>(
      html`<dm-provider api-base=${apiBase} key="pk_old" .fetch=${api.fetch}>
        <dm-collection-list module="acme.faq" collection="questions"></dm-collection-list>
      </dm-provider>`,
    );
    const element = provider.querySelector('dm-collection-list')!;
    await untilPart(element, 'list');

    provider.key = 'pk_new';
    await provider.updateComplete;
    await untilPart(element, 'list');
    await expect
      .poll(() => api.requests.map((request) => new URL(request.url).searchParams.get('key')))
      .toEqual(['pk_old', 'pk_new']);
  });
});
