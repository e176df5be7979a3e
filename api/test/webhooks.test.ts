import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { populateModule, type PopulatedModule } from './support/modules.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { DEFAULT_RETRY_SCHEDULE, DEFAULT_WORKER_OPTIONS } from '../src/webhooks/worker.js';
import { freePort } from './support/process.js';
import { eventually, startReceiver, type Received } from './support/webhooks.js';

// Webhooks end to end: events written by requests, delivered by the platform's worker to real HTTP receivers
// on this machine, verified with the `standardwebhooks` package. The retry schedule runs on a fast clock
// (milliseconds instead of hours); its default is checked separately.

const SCHEDULE = [50, 100, 150, 200, 250, 300, 350, 400, 450];
const TIMEOUT_MS = 500;

let platform: TestPlatform;
let agency: PopulatedAgency;
let mod: PopulatedModule;
const receivers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  platform = await startTestPlatform({ webhooks: { retrySchedule: SCHEDULE, timeoutMs: TIMEOUT_MS, pollMs: 50 } });
  agency = await populateAgency(platform, 'Hooked');
  mod = await populateModule(platform, agency, 'hooked');
});

afterEach(async () => {
  // Each test's endpoints go with it, so the next test's events reach only its own.
  const list = await platform.request('GET', '/v1/webhooks?limit=100', { token: agency.token });
  for (const endpoint of list.body.data) {
    await platform.request('DELETE', `/v1/webhooks/${endpoint.id}`, { token: agency.token });
  }
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(() => platform?.close());

const questionCreated = () => `${mod.moduleId}.question.created`;

async function receiver(...args: Parameters<typeof startReceiver>) {
  const started = await startReceiver(...args);
  receivers.push(started);
  return started;
}

async function endpoint(url: string, eventTypes = [questionCreated()]) {
  const reply = await platform.request('POST', '/v1/webhooks', {
    token: agency.token,
    body: { url, event_types: eventTypes, description: 'test receiver' },
  });
  expect(reply.status, reply.text).toBe(201);
  return reply.body as { id: string; secret: string };
}

async function question(text = 'Does it hook?'): Promise<string> {
  const reply = await platform.request('POST', `/v1/m/${mod.moduleId}/questions?site_id=${agency.siteId}`, {
    token: agency.token,
    body: { question: text, answer: 'It does.', category: 'hooks' },
  });
  expect(reply.status, reply.text).toBe(201);
  return reply.body.id;
}

async function deliveries(webhookId: string) {
  const reply = await platform.request('GET', `/v1/webhooks/${webhookId}/deliveries?limit=100`, {
    token: agency.token,
  });
  expect(reply.status, reply.text).toBe(200);
  return reply.body.data as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const headersOf = (r: Received) => ({
  'webhook-id': r.id,
  'webhook-timestamp': r.timestamp,
  'webhook-signature': r.signature,
});

describe('webhook deliveries', () => {
  it('sends a declared record event once, signed per Standard Webhooks with the secret the API showed', async () => {
    const hook = await receiver();
    const { id, secret } = await endpoint(hook.url);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const itemId = await question('Signed?');
    await eventually(async () => hook.received.length >= 1, 10_000, 'the delivery');
    const [got] = hook.received;
    const payload = new Webhook(secret).verify(got!.body, headersOf(got!)) as Record<string, unknown>;
    // The payload holds the fields the manifest's event declares, and no others (no `answer`).
    expect(payload).toEqual({
      type: questionCreated(),
      timestamp: expect.any(String),
      site_id: agency.siteId,
      data: { id: itemId, question: 'Signed?', category: 'hooks' },
    });
    // A wrong secret does not verify.
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(24).toString('base64')}`).verify(got!.body, headersOf(got!)),
    ).toThrow();
    const [delivery] = await eventually(async () => {
      const log = await deliveries(id);
      return log[0]?.status === 'succeeded' && log;
    });
    expect(delivery).toMatchObject({
      event_id: got!.id,
      event_type: questionCreated(),
      attempts: 1,
      last_status_code: 204,
      last_error: null,
      next_attempt_at: null,
    });
    expect(delivery!.latency_ms).toBeGreaterThanOrEqual(0);
    expect(delivery!.delivered_at).not.toBeNull();
    // An event the module does not declare (updated) is not sent; nor to an endpoint not subscribed to it.
    await platform.request('PATCH', `/v1/m/${mod.moduleId}/questions/${itemId}`, {
      token: agency.token,
      body: { answer: 'Changed.' },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hook.received).toHaveLength(1);
  });

  it('keeps the response excerpt to 500 characters', async () => {
    const long = await receiver(() => ({ status: 200 }));
    long.behave(() => ({ status: 200 }));
    const { id } = await endpoint(long.url);
    await question();
    const [delivery] = await eventually(async () => {
      const log = await deliveries(id);
      return log[0]?.status === 'succeeded' && log;
    });
    expect(delivery!.response_excerpt).toBe('status 200');
  });

  it('records an answer holding a NUL character (which text cannot store) and sends nothing twice', async () => {
    const odd = await receiver(() => ({ status: 200, body: 'ok\u0000done' }));
    const { id } = await endpoint(odd.url);
    await question();
    const [delivery] = await eventually(async () => {
      const log = await deliveries(id);
      return log[0]?.status === 'succeeded' && log;
    });
    expect(delivery!.response_excerpt).toBe('okdone');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(odd.received).toHaveLength(1);
  });

  it('delivers every event once a receiver that was down comes up', async () => {
    const port = await freePort();
    const { id } = await endpoint(`http://127.0.0.1:${port}/hooks`);
    const items = [await question('one'), await question('two'), await question('three')];
    await eventually(async () => (await deliveries(id)).every((d) => d.attempts >= 2), 10_000, 'failed attempts');
    const log = await deliveries(id);
    expect(log.every((d) => d.status === 'pending' && d.last_status_code === null && d.last_error)).toBe(true);
    const hook = await receiver(undefined, port);
    await eventually(async () => hook.ids().size === 3, 10_000, 'all three');
    const data = hook.received.map((r) => JSON.parse(r.body).data.id);
    expect(new Set(data)).toEqual(new Set(items));
    await eventually(async () => (await deliveries(id)).every((d) => d.status === 'succeeded'));
  });

  it('retries 500s, a receiver hanging past the timeout, and a slow one, until each event is delivered', async () => {
    const hook = await receiver((_, count) =>
      count <= 3 ? { status: 500 } : count === 4 ? { status: 200, hang: true } : { status: 200, delayMs: 150 },
    );
    const { id } = await endpoint(hook.url);
    const itemId = await question('Persistent?');
    const [delivery] = await eventually(async () => {
      const log = await deliveries(id);
      return log[0]?.status === 'succeeded' && log;
    }, 15_000);
    expect(delivery!.attempts).toBe(5);
    expect(delivery!.latency_ms).toBeGreaterThanOrEqual(140);
    // Every attempt carried the same webhook-id; the hanging one was given up after the timeout.
    expect(hook.received).toHaveLength(5);
    expect(hook.ids().size).toBe(1);
    expect(JSON.parse(hook.received[4]!.body).data.id).toBe(itemId);
    // Slow but within the timeout: one attempt, no retry.
    hook.behave(() => ({ status: 200, delayMs: TIMEOUT_MS / 2 }));
    await question('Slow?');
    await eventually(async () => (await deliveries(id)).filter((d) => d.status === 'succeeded').length === 2);
    expect(hook.received).toHaveLength(6);
  });

  it('honours Retry-After', async () => {
    const hook = await receiver((_, count) =>
      count === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 },
    );
    await endpoint(hook.url);
    await question();
    await eventually(async () => hook.received.length === 2, 10_000);
    const [first, second] = hook.received;
    const gap = (Number(second!.timestamp) - Number(first!.timestamp)) * 1000;
    expect(gap).toBeGreaterThanOrEqual(1000); // the schedule alone would have waited 50 ms
  });

  it('disables an endpoint at once on 410 Gone, with a notice event', async () => {
    const gone = await receiver(() => ({ status: 410 }));
    const watcher = await receiver();
    const { id } = await endpoint(gone.url);
    await endpoint(watcher.url, ['platform.webhook.disabled']);
    await question();
    const disabled = await eventually(async () => {
      const reply = await platform.request('GET', `/v1/webhooks/${id}`, { token: agency.token });
      return !reply.body.enabled && reply.body;
    });
    expect(disabled).toMatchObject({ enabled: false, disabled_reason: 'gone' });
    expect(await deliveries(id)).toEqual([
      expect.objectContaining({ status: 'failed', attempts: 1, last_status_code: 410 }),
    ]);
    await eventually(async () => watcher.received.length === 1);
    expect(JSON.parse(watcher.received[0]!.body)).toMatchObject({
      type: 'platform.webhook.disabled',
      data: { webhook_id: id, reason: 'gone' },
    });
    // No more attempts, and later events are not sent to it.
    await question();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(gone.received).toHaveLength(1);
    // A replay needs the endpoint enabled first.
    const [delivery] = await deliveries(id);
    const refused = await platform.request('POST', `/v1/webhooks/${id}/deliveries/${delivery!.id}/replay`, {
      token: agency.token,
    });
    expect(refused.status).toBe(409);
  });

  it('disables an endpoint after sustained failure: every attempt of a delivery failed', async () => {
    const failing = await receiver(() => ({ status: 503 }));
    const { id } = await endpoint(failing.url);
    await question();
    const disabled = await eventually(async () => {
      const reply = await platform.request('GET', `/v1/webhooks/${id}`, { token: agency.token });
      return !reply.body.enabled && reply.body;
    }, 15_000);
    expect(disabled).toMatchObject({ disabled_reason: 'failing', failure_streak: SCHEDULE.length + 1 });
    expect(failing.received).toHaveLength(SCHEDULE.length + 1);
    expect(await deliveries(id)).toEqual([
      expect.objectContaining({ status: 'failed', attempts: SCHEDULE.length + 1, last_status_code: 503 }),
    ]);
    // Enabled again, a replay delivers it.
    failing.behave(() => ({ status: 200 }));
    const enabled = await platform.request('PATCH', `/v1/webhooks/${id}`, {
      token: agency.token,
      body: { enabled: true },
    });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null, failure_streak: 0 });
    const [delivery] = await deliveries(id);
    const replay = await platform.request('POST', `/v1/webhooks/${id}/deliveries/${delivery!.id}/replay`, {
      token: agency.token,
    });
    expect(replay.status, replay.text).toBe(202);
    await eventually(async () => (await deliveries(id))[0]?.status === 'succeeded');
    expect(failing.ids().size).toBe(1);
  });

  it('recovers what an endpoint missed while disabled: the events meanwhile, and its failed deliveries', async () => {
    const before = new Date().toISOString();
    const hook = await receiver(() => ({ status: 410 }));
    const { id } = await endpoint(hook.url);
    const failed = await question('Gone?');
    const disabled = await eventually(async () => {
      const reply = await platform.request('GET', `/v1/webhooks/${id}`, { token: agency.token });
      return !reply.body.enabled && reply.body;
    });
    expect(disabled.disabled_at).not.toBeNull();
    // While disabled, nothing is queued for it.
    const missed = [await question('Missed?'), await question('Missed too?')];
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await deliveries(id)).toHaveLength(1);
    const recover = (since: string) =>
      platform.request('POST', `/v1/webhooks/${id}/recover?since=${encodeURIComponent(since)}`, {
        token: agency.token,
      });
    const refused = await recover(disabled.disabled_at);
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('webhook_disabled');

    hook.behave(() => ({ status: 200 }));
    await platform.request('PATCH', `/v1/webhooks/${id}`, { token: agency.token, body: { enabled: true } });
    // Since it was disabled: the two events it missed.
    const sinceDisabled = await recover(disabled.disabled_at);
    expect(sinceDisabled.status, sinceDisabled.text).toBe(202);
    expect(sinceDisabled.body).toEqual({ since: disabled.disabled_at, queued: 2 });
    await eventually(async () => hook.ids().size === 3, 10_000, 'the missed events');
    // From before: the failed delivery too, and nothing sent already.
    const all = await recover(before);
    expect(all.body.queued).toBe(1);
    await eventually(async () => (await deliveries(id)).every((d) => d.status === 'succeeded'), 10_000);
    const sent = hook.received.slice(1).map((r) => JSON.parse(r.body).data.id);
    expect(sent).toEqual([...missed, failed]);
    expect((await recover(before)).body.queued).toBe(0);
  });

  it('signs with both secrets during a rotation, and with the new one only after it', async () => {
    const hook = await receiver();
    const { id, secret: old } = await endpoint(hook.url);
    const rotated = await platform.request('POST', `/v1/webhooks/${id}/rotate`, {
      token: agency.token,
      body: { overlap_seconds: 3600 },
    });
    expect(rotated.status, rotated.text).toBe(201);
    const fresh = rotated.body.secret as string;
    expect(fresh).not.toBe(old);
    expect(rotated.body.previous_secret_expires_at).not.toBeNull();
    // The secret is shown when made, never again.
    const shown = await platform.request('GET', `/v1/webhooks/${id}`, { token: agency.token });
    expect(shown.text).not.toContain(fresh);
    await question();
    await eventually(async () => hook.received.length === 1);
    const during = hook.received[0]!;
    expect(during.signature.split(' ')).toHaveLength(2);
    expect(() => new Webhook(old).verify(during.body, headersOf(during))).not.toThrow();
    expect(() => new Webhook(fresh).verify(during.body, headersOf(during))).not.toThrow();

    const again = await platform.request('POST', `/v1/webhooks/${id}/rotate`, {
      token: agency.token,
      body: { overlap_seconds: 0 },
    });
    const newest = again.body.secret as string;
    await question();
    await eventually(async () => hook.received.length === 2);
    const after = hook.received[1]!;
    expect(after.signature.split(' ')).toHaveLength(1);
    expect(() => new Webhook(newest).verify(after.body, headersOf(after))).not.toThrow();
    expect(() => new Webhook(fresh).verify(after.body, headersOf(after))).toThrow();
  });

  it('sends platform events for installs', async () => {
    const hook = await receiver();
    await endpoint(hook.url, ['platform.install.removed', 'platform.install.created']);
    const removed = await platform.request('DELETE', `/v1/sites/${agency.siteId}/installs/${mod.moduleId}`, {
      token: agency.token,
    });
    expect(removed.status, removed.text).toBe(200);
    const back = await platform.request('POST', `/v1/sites/${agency.siteId}/installs`, {
      token: agency.token,
      body: { module_id: mod.moduleId },
    });
    expect(back.status, back.text).toBe(201);
    await eventually(async () => hook.received.length === 2);
    const bodies = hook.received.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.type).sort()).toEqual(['platform.install.created', 'platform.install.removed']);
    expect(bodies[0].data).toMatchObject({ module_id: mod.moduleId, site_id: agency.siteId });
  });

  it('delivers 1,000 events through a receiver failing 30% of attempts at random: 1,000 distinct ids', async () => {
    const hook = await receiver(() => (Math.random() < 0.3 ? { status: 500 } : { status: 200 }));
    const { id } = await endpoint(hook.url);
    const total = 1000;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          next += 1;
          await question(`Question ${next}`);
        }
      }),
    );
    await eventually(async () => hook.ids().size >= total, 50_000, '1,000 distinct ids');
    expect(hook.ids().size).toBe(total);
    const failed = hook.received.length - total;
    expect(failed).toBeGreaterThan(100); // the receiver did fail about 30% of attempts
    // An id counts above once any attempt reached the receiver, failed ones too: the retries of those may still be
    // under way, and on a busy machine they take a while.
    await eventually(async () => {
      const pending = await platform.db
        .knex('webhook_deliveries')
        .where({ endpoint_id: id })
        .whereNot({ status: 'succeeded' })
        .count({ n: '*' })
        .first();
      return Number(pending?.n) === 0;
    }, 40_000);
  }, 120_000);
});

describe('the default retry schedule', () => {
  it('follows the Standard Webhooks guidance: ten attempts over about three days, ten seconds each', () => {
    expect(DEFAULT_RETRY_SCHEDULE.length + 1).toBe(10);
    const days = DEFAULT_RETRY_SCHEDULE.reduce((sum, wait) => sum + wait, 0) / 86_400_000;
    expect(days).toBeGreaterThan(2.5);
    expect(days * (1 - DEFAULT_WORKER_OPTIONS.jitter)).toBeGreaterThan(2);
    expect(days * (1 + DEFAULT_WORKER_OPTIONS.jitter)).toBeLessThan(3.5);
    expect(DEFAULT_WORKER_OPTIONS.timeoutMs).toBe(10_000);
  });
});

describe('webhook endpoints', () => {
  it('validates event types and URLs at registration', async () => {
    const bad = await platform.request('POST', '/v1/webhooks', {
      token: agency.token,
      body: { url: 'ftp://example.com/x', event_types: [questionCreated()] },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('url_not_allowed');
  });

  it('lets a client admin manage its own client’s endpoints only', async () => {
    const email = `${crypto.randomUUID()}@example.com`;
    const user = await platform.request('POST', '/v1/users', {
      token: agency.token,
      body: {
        email,
        name: 'Client admin',
        role: 'client_admin',
        client_id: agency.clientId,
        password: 'client password',
      },
    });
    expect(user.status, user.text).toBe(201);
    const token = await platform.signIn(email, 'client password', agency.agencyId);
    const agencyWide = await endpoint('https://hooks.example.com/agency');
    const own = await platform.request('POST', '/v1/webhooks', {
      token,
      body: { url: 'https://hooks.example.com/client', event_types: [questionCreated()] },
    });
    expect(own.status, own.text).toBe(201);
    expect(own.body.client_id).toBe(agency.clientId);
    const listed = await platform.request('GET', '/v1/webhooks', { token });
    expect(listed.body.data.map((e: { id: string }) => e.id)).toEqual([own.body.id]);
    const other = await platform.request('GET', `/v1/webhooks/${agencyWide.id}`, { token });
    expect(other.status).toBe(404);
  });
});
