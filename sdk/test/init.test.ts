import { afterEach, describe, expect, it, vi } from 'vitest';
import { getDefaultConnection, init, onDefaultConnectionChange } from '@dramac/sdk';

const baseUrl = 'https://api.dramac.test';

function recordingFetch() {
  const requests: Request[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, options?: RequestInit) => {
    requests.push(new Request(input, options));
    return Response.json({ data: [], has_more: false, next_cursor: null });
  });
  return { fetch, requests };
}

describe('init()', () => {
  const stops: (() => void)[] = [];
  afterEach(() => stops.splice(0).forEach((stop) => stop()));

  it('sets the default connection, tells listeners, and returns a typed client with the publishable key', async () => {
    const heard = vi.fn();
    stops.push(onDefaultConnectionChange(heard));
    const { fetch, requests } = recordingFetch();

    const client = init({ baseUrl, key: 'pk_test_1', fetch });
    expect(getDefaultConnection()).toEqual({ baseUrl, key: 'pk_test_1', fetch });
    expect(heard).toHaveBeenCalledWith(getDefaultConnection());

    await client.GET('/v1/m/{moduleId}/{collection}', { params: { path: { moduleId: 'acme.faq', collection: 'q' } } });
    const url = new URL(requests[0]!.url);
    expect(url.pathname).toBe('/v1/m/acme.faq/q');
    expect(url.searchParams.get('key')).toBe('pk_test_1');
    expect(requests[0]!.headers.get('authorization')).toBeNull();
  });

  it('sends a secret key as a bearer token and never hands it to elements', async () => {
    const { fetch, requests } = recordingFetch();
    const client = init({ baseUrl, key: 'sk_live_secret', fetch });
    expect(getDefaultConnection()?.key).toBeUndefined();

    await client.GET('/v1/m/{moduleId}/{collection}', { params: { path: { moduleId: 'acme.faq', collection: 'q' } } });
    expect(requests[0]!.headers.get('authorization')).toBe('Bearer sk_live_secret');
    expect(new URL(requests[0]!.url).searchParams.has('key')).toBe(false);
  });

  it('refuses a missing baseUrl', () => {
    expect(() => init({ baseUrl: '' })).toThrow(/baseUrl/);
  });
});
