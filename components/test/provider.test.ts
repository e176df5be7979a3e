import { fixture, fixtureCleanup, html } from '@open-wc/testing';
import { afterEach, describe, expect, it } from 'vitest';
import '../src/index.js';
import type { DmCollectionList, DmCrmContact, DmProvider } from '../src/index.js';
import { crmResponder, fixtureContact, fixtureSiteId } from '../src/crm/crm-fixtures.js';
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

  it('signs in the app elements inside with its token, and never hands the token to visitor elements', async () => {
    const crm = crmResponder();
    const api = fakeApi((request) =>
      new URL(request.url).pathname.startsWith('/v1/m/') ? recordList([{ title: 'One' }]) : crm(request),
    );
    const provider = await fixture<DmProvider>(
      html`<dm-provider api-base=${apiBase} key="pk_site" .token=${'ses_user'} .fetch=${api.fetch}>
        <dm-collection-list module="acme.faq" collection="questions"></dm-collection-list>
        <dm-crm-contact site-id=${fixtureSiteId} contact-id=${fixtureContact.id}></dm-crm-contact>
      </dm-provider>`,
    );
    expect(provider.getAttribute('token')).toBeNull();
    await untilPart(provider.querySelector('dm-collection-list')!, 'list');
    const contact = provider.querySelector<DmCrmContact>('dm-crm-contact')!;
    await untilPart(contact, 'timeline');

    const visitor = api.requests.filter((request) => new URL(request.url).pathname.startsWith('/v1/m/'));
    const app = api.requests.filter((request) => new URL(request.url).pathname.includes('/crm/'));
    expect(visitor.map((request) => request.headers.get('authorization'))).toEqual([null]);
    expect(visitor.map((request) => new URL(request.url).searchParams.get('key'))).toEqual(['pk_site']);
    expect(app.length).toBeGreaterThan(0);
    for (const request of app) {
      expect(request.headers.get('authorization')).toBe('Bearer ses_user');
      expect(new URL(request.url).searchParams.has('key')).toBe(false);
    }

    // An element that talks to another API is not given the provider's token: it asks for a sign-in.
    const elsewhere = document.createElement('dm-crm-contact');
    elsewhere.setAttribute('api-base', 'https://elsewhere.example');
    elsewhere.setAttribute('site-id', fixtureSiteId);
    elsewhere.setAttribute('contact-id', fixtureContact.id);
    provider.append(elsewhere);
    await untilPart(elsewhere, 'sign-in');
    expect(api.requests.some((request) => request.url.startsWith('https://elsewhere.example'))).toBe(false);

    // Signing out (no token) puts the app element back to its sign-in state.
    provider.token = undefined;
    await provider.updateComplete;
    await untilPart(contact, 'sign-in');
  });
});
