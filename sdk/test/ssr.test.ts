import { Socket } from 'node:net';
import { afterAll, describe, expect, it, vi } from 'vitest';

/**
 * Server-side rendering frameworks (Next.js, Nuxt, Astro) import the SDK and the elements in plain Node:
 * that must succeed, touch no DOM, open no connection and leave the global object alone.
 */
describe('importing in Node (SSR)', () => {
  const fetchSpy = vi.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no network at import'));
  const connectSpy = vi.spyOn(Socket.prototype, 'connect');
  afterAll(() => vi.restoreAllMocks());

  it('imports the SDK, the components, each element entry and the React wrappers without side effects', async () => {
    // Lit's own node build installs its DOM shim (`customElements`, version markers) on first import;
    // that is Lit's, so it is part of the baseline. What we add on top must be nothing.
    await Promise.all(
      ['lit', '@lit/context', '@lit/task', '@lit/react', 'react', 'openapi-fetch'].map((m) => import(m)),
    );
    const before = new Set(Reflect.ownKeys(globalThis));

    const sdk = await import('@dramac/sdk');
    const components = await import('@dramac/components');
    await import('@dramac/components/collection-list');
    await import('@dramac/components/crm/pipeline');
    await import('@dramac/components/crm/contact');
    await import('@dramac/components/provider');
    await import('@dramac/components/shared');
    const react = await import('@dramac/components/react');

    expect(Reflect.ownKeys(globalThis).filter((key) => !before.has(key))).toEqual([]);
    expect(typeof sdk.init).toBe('function');
    expect(sdk.getDefaultConnection()).toBeUndefined();
    expect(typeof components.DmCollectionList).toBe('function');
    expect(react.DmCollectionList.displayName).toBe('DmCollectionList');
    expect('window' in globalThis || 'document' in globalThis).toBe(false);
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(connectSpy).not.toHaveBeenCalled();
  });

  it('registers the elements in Lit’s server registry, so an SSR renderer finds them', async () => {
    await import('@dramac/components/collection-list');
    await import('@dramac/components/crm/pipeline');
    await import('@dramac/components/crm/contact');
    expect(customElements.get('dm-collection-list')).toBeDefined();
    expect(customElements.get('dm-provider')).toBeDefined();
    expect(customElements.get('dm-crm-pipeline')).toBeDefined();
    expect(customElements.get('dm-crm-contact')).toBeDefined();
  });
});
