import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
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

// Hooks are the vendor's servers on the internet, never the platform's own network.
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  INTERNAL.addSubnet(network, prefix, 'ipv6');
}

async function assertInternetAddress(url: URL): Promise<void> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true });
  for (const { address, family } of addresses) {
    if (INTERNAL.check(address, family === 6 ? 'ipv6' : 'ipv4')) {
      throw new Error(`${url.hostname} resolves to an internal address`);
    }
  }
}

/**
 * POSTs the event to the hook: HTTPS to an internet address, within five seconds. `allowLocal` (the
 * HOOKS_ALLOW_LOCAL setting, for development and tests) also lets plain HTTP and local addresses through.
 */
async function deliver(url: string, event: HookEvent, allowLocal: boolean): Promise<string | null> {
  try {
    const target = new URL(url);
    if (!allowLocal) {
      if (target.protocol !== 'https:') return 'hooks must use HTTPS';
      await assertInternetAddress(target);
    }
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'Dramac-Hooks/1', 'dramac-event': event.event },
      body: JSON.stringify({ id: randomUUID(), ...event, sent_at: new Date().toISOString() }),
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (response.ok) return null;
    const text = (await response.text().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300);
    return `it answered ${response.status}${text ? `: ${text}` : ''}`;
  } catch (error) {
    return `it could not be reached (${error instanceof Error ? error.message : String(error)})`;
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
