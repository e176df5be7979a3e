import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askHook, internetOnlyLookup, type HookEvent } from '../src/modules/hooks.js';

/** Lifecycle hooks reach the vendor's servers on the internet, and nothing of the platform's own network. */
const event: HookEvent = {
  event: 'pre_install',
  module_id: 'acme.faq',
  site_id: 'site',
  from_version: null,
  to_version: '1.0.0',
};
let server: Server;
let port: number;
let calls = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    calls += 1;
    res.writeHead(500).end('internal secret: db password is hunter2');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const refusal = async (url: string, allowLocal = false) => {
  try {
    await askHook(url, event, allowLocal);
    return null;
  } catch (error) {
    return error as { code: string; detail: string };
  }
};

describe('a pre-transition hook', () => {
  it.each([
    ['plain HTTP', () => `http://example.com/hook`, /must use HTTPS/],
    ['an address instead of a host', () => `https://127.0.0.1:${port}/hook`, /must name a host/],
    ['a host that resolves to this machine', () => `https://localhost:${port}/hook`, /could not be reached/],
  ])('is refused for %s, and never called', async (_, url, reason) => {
    const before = calls;
    const problem = await refusal(url());
    expect(problem?.code).toBe('hook_vetoed');
    expect(problem?.detail).toMatch(reason);
    expect(calls).toBe(before);
  });

  it('passes on the status of a refusal, never its body', async () => {
    const problem = await refusal(`http://127.0.0.1:${port}/hook`, true);
    expect(problem?.detail).toContain('it answered 500');
    expect(problem?.detail).not.toContain('hunter2');
    expect(calls).toBe(1);
  });
});

describe('the connection a hook is delivered on', () => {
  it.each([
    'localhost',
    '127.0.0.1',
    '::1',
    '169.254.169.254',
    '10.1.2.3',
    '::ffff:127.0.0.1',
    // Reserved by the IANA special-purpose address registries.
    '192.0.2.10',
    '192.88.99.1',
    '198.51.100.7',
    '203.0.113.9',
    '::',
    '::7f00:1',
    '64:ff9b::a00:1',
    '64:ff9b:1::a00:1',
    '100::1',
    '100:0:0:1::1',
    '2001::1',
    '2001:2::1',
    '2001:db8::1',
    '2002:7f00:1::1',
    '3fff::1',
    '5f00::1',
    'fc00::1',
    'fe80::1',
    'fec0::1',
    'ff02::1',
  ])('refuses %s at connect time', async (host) => {
    const error = await new Promise<Error | null>((resolve) =>
      internetOnlyLookup(host, { all: true }, (failure) => resolve(failure)),
    );
    expect(error?.message).toBe('the hook resolves to an internal address');
  });

  it.each([
    ['93.184.215.14', 4],
    ['2606:4700:4700::1111', 6],
    ['2001:200::1', 6], // the first block after the IETF's 2001::/23
  ])('lets the internet address %s through', async (address, family) => {
    const addresses = await new Promise<unknown>((resolve, reject) =>
      internetOnlyLookup(address, { all: true }, (failure, found) => (failure ? reject(failure) : resolve(found))),
    );
    expect(addresses).toEqual([{ address, family }]);
  });
});
