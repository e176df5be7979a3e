import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestPlatform } from './platform.js';

export interface PopulatedWebhook {
  webhookId: string;
  url: string;
  secret: string;
  /** The delivery of the question the fixture created. */
  deliveryId: string;
}

/** Polls until `check` returns something truthy (fails after `timeoutMs`). */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  what = 'a condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A webhook endpoint of the agency subscribed to its module's `question.created`, and one delivery to it (a
 * question created after it). The URL reaches nothing: the delivery stays pending, retrying.
 */
export async function populateWebhook(
  platform: TestPlatform,
  agency: { token: string; siteId: string },
  moduleId: string,
): Promise<PopulatedWebhook> {
  const url = 'http://127.0.0.1:9/unreachable';
  const created = await platform.request('POST', '/v1/webhooks', {
    token: agency.token,
    body: { url, event_types: [`${moduleId}.question.created`] },
  });
  if (created.status !== 201) throw new Error(`create a webhook: ${created.status} ${created.text}`);
  const item = await platform.request('POST', `/v1/m/${moduleId}/questions?site_id=${agency.siteId}`, {
    token: agency.token,
    body: { question: 'Is there a webhook?', answer: 'Yes.' },
  });
  if (item.status !== 201) throw new Error(`create a question: ${item.status} ${item.text}`);
  const deliveryId = await eventually(
    async () => {
      const log = await platform.request('GET', `/v1/webhooks/${created.body.id}/deliveries`, { token: agency.token });
      return log.body.data[0]?.id as string | undefined;
    },
    20_000,
    'the fixture delivery',
  );
  return { webhookId: created.body.id, url, secret: created.body.secret, deliveryId };
}

export interface Received {
  /** The request's path: one receiver can serve several endpoints. */
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** What the receiver does with one request: a status (and headers), or hang (never answer). */
export type Behaviour = (
  request: Received,
  count: number,
) => { status: number; delayMs?: number; headers?: Record<string, string>; hang?: boolean; body?: string };

/** A real HTTP receiver on this machine, recording every request; its behaviour can be changed at any time. */
export async function startReceiver(behaviour: Behaviour = () => ({ status: 204 }), port = 0) {
  const received: Received[] = [];
  let current = behaviour;
  const hanging = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const request: Received = {
        path: req.url ?? '',
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        body,
        headers: req.headers,
      };
      received.push(request);
      const answer = current(request, received.length);
      if (answer.hang) {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? `status ${answer.status}`);
      }, answer.delayMs ?? 0);
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hooks`,
    port: bound,
    received,
    /** The distinct webhook ids received. */
    ids: () => new Set(received.map((r) => r.id)),
    behave(next: Behaviour) {
      current = next;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
