import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { Agent, request } from 'undici';
import { Problem } from '../http/problem.js';

/** What a module's vendor learns of a transition on a site. */
export interface HookEvent {
  event: 'pre_install' | 'post_install' | 'pre_upgrade' | 'post_upgrade' | 'uninstall';
  module_id: string;
  site_id: string;
  from_version: string | null;
  to_version: string | null;
}

const TIMEOUT_MS = 5_000;

// Hooks are the vendor's servers on the internet, never the platform's own network nor any address the IANA
// special-purpose registries reserve (private, shared, documentation, benchmarking, translation, multicast …).
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked against the IPv4 list.
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // 6to4 relay anycast, deprecated
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback, and the deprecated IPv4-compatible addresses
  ['64:ff9b::', 96], // NAT64, well-known prefix
  ['64:ff9b:1::', 48], // NAT64, local use
  ['100::', 64], // discard-only
  ['100:0:0:1::', 64], // dummy prefix
  ['2001::', 23], // IETF protocol assignments: Teredo, benchmarking, ORCHID, a few anycast services
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: an IPv4 address inside
  ['3fff::', 20], // documentation
  ['5f00::', 16], // segment routing (SRv6) SIDs
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local, deprecated
  ['ff00::', 8],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv6');
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/**
 * Resolves a hook's host for the connection itself and refuses internal addresses there: checking first
 * and connecting later would let a name that resolves differently the second time (DNS rebinding) through.
 */
export function internetOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }).then(
    (addresses) => {
      const internal = addresses.find(({ address, family }) => INTERNAL.check(address, family === 6 ? 'ipv6' : 'ipv4'));
      if (internal) callback(new Error('the hook resolves to an internal address'), []);
      else if (options.all) callback(null, addresses);
      else callback(null, addresses[0]!.address, addresses[0]!.family);
    },
    (error: Error) => callback(error, []),
  );
}

/** A dispatcher whose connections reach internet addresses only (hooks and webhooks share it). */
export const internetOnly = new Agent({ connect: { lookup: internetOnlyLookup } });

/**
 * Why a URL may not be called from the platform (`null`: it may). Without `allowLocal`, only HTTPS to a
 * host name; the connection itself then refuses internal addresses (see internetOnlyLookup).
 */
export function urlRefusal(url: string, allowLocal: boolean): string | null {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return 'its URL is not valid';
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return 'it must be an HTTP(S) URL';
  if (target.username || target.password) return 'it must not carry credentials';
  if (!allowLocal) {
    if (target.protocol !== 'https:') return 'it must use HTTPS';
    if (isIP(target.hostname.replace(/^\[|\]$/g, ''))) return 'it must name a host, not an address';
  }
  return null;
}

/**
 * POSTs the event to the hook: HTTPS to an internet address, within five seconds, following no redirect.
 * `allowLocal` (the HOOKS_ALLOW_LOCAL setting, for development and tests) lets plain HTTP and local
 * addresses through. The answer's body is never passed on: the caller learns the status and no more.
 */
async function deliver(url: string, event: HookEvent, allowLocal: boolean): Promise<string | null> {
  const refusal = urlRefusal(url, allowLocal);
  if (refusal) return refusal.replace(/^it /, 'hooks ');
  const target = new URL(url);
  try {
    const response = await request(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Dramac-Hooks/1', 'dramac-event': event.event },
      body: JSON.stringify({ id: randomUUID(), ...event, sent_at: new Date().toISOString() }),
      dispatcher: allowLocal ? undefined : internetOnly,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.body.dump();
    return response.statusCode >= 200 && response.statusCode < 300 ? null : `it answered ${response.statusCode}`;
  } catch {
    return 'it could not be reached';
  }
}

/** Asks a pre-transition hook; anything but a 2xx answer (or no answer) vetoes the transition. */
export async function askHook(url: string | undefined, event: HookEvent, allowLocal: boolean): Promise<void> {
  if (!url) return;
  const refusal = await deliver(url, event, allowLocal);
  if (refusal) {
    throw new Problem(
      409,
      'hook_vetoed',
      'Conflict',
      `${event.module_id}'s ${event.event} hook refused the transition: ${refusal}. Nothing was changed.`,
    );
  }
}

/**
 * Tells a post-transition hook, after the transition committed, without waiting for it. Delivery is at
 * most once for now: a vendor that is down misses the event (durable delivery comes with the outbox).
 */
export function notifyHook(
  url: string | undefined,
  event: HookEvent,
  allowLocal: boolean,
  onFailure: (reason: string) => void,
): void {
  if (!url) return;
  void deliver(url, event, allowLocal).then((failure) => failure && onFailure(failure));
}
