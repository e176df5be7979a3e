import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freshDatabase } from './support/database.js';
import { populateAgency } from './support/fixtures.js';
import { faqModule, populateModule } from './support/modules.js';
import { startTestPlatform } from './support/platform.js';
import { call, cleanUp, startServer, tempDir, type ServerProcess } from './support/process.js';
import { eventually, startReceiver } from './support/webhooks.js';

// Faults the webhook worker must survive: the platform process killed mid-delivery, and receivers that resolve
// to the platform's own network when local addresses are not allowed.

const POSTGRES = Boolean(process.env.DATABASE_URL);
const receivers: { close(): Promise<void> }[] = [];

afterEach(async () => {
  await cleanUp();
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});
afterAll(cleanUp);

async function ok(server: ServerProcess, method: string, path: string, token: string | undefined, body?: unknown) {
  const reply = await call(server, method, path, { token, body });
  expect(reply.status, `${method} ${path}: ${reply.text}`).toBeLessThan(300);
  return reply.body;
}

describe('the webhook worker', () => {
  it(`delivers every event after a SIGKILL mid-delivery, duplicates only with the same webhook-id (${POSTGRES ? 'PostgreSQL' : 'PGlite'})`, async () => {
    const database = await freshDatabase();
    try {
      const env = {
        DATA_DIR: tempDir(),
        DATABASE_URL: database.databaseUrl ?? undefined,
        HOOKS_ALLOW_LOCAL: 'true',
        WEBHOOK_TIMEOUT_MS: '1000',
        WEBHOOK_RETRY_SCHEDULE_MS: '100,200,300,400,500,600,700,800,900',
      };
      // The receiver hangs until the platform is killed; afterwards it answers.
      let killed = false;
      const hook = await startReceiver(() => (killed ? { status: 200 } : { status: 200, hang: true }));
      receivers.push(hook);

      const first = await startServer(env);
      const email = `${crypto.randomUUID()}@example.com`;
      const signUp = await ok(first, 'POST', '/v1/agencies', undefined, {
        name: 'Killed',
        owner: { email, name: 'Owner', password: 'correct horse battery' },
      });
      const token = signUp.session.token as string;
      const client = await ok(first, 'POST', '/v1/clients', token, { name: 'Client' });
      const site = await ok(first, 'POST', '/v1/sites', token, { client_id: client.id, name: 'killed.example' });
      const { v1 } = await faqModule();
      await ok(first, 'POST', '/v1/modules', token, v1);
      await ok(first, 'POST', `/v1/sites/${site.id}/installs`, token, { module_id: v1.manifest.id });
      const endpoint = await ok(first, 'POST', '/v1/webhooks', token, {
        url: hook.url,
        event_types: ['acme.faq.question.created'],
      });
      const items: string[] = [];
      for (let i = 0; i < 20; i++) {
        const item = await ok(first, 'POST', `/v1/m/acme.faq/questions?site_id=${site.id}`, token, {
          question: `Survives ${i}?`,
          answer: 'Yes.',
        });
        items.push(item.id);
      }
      await eventually(async () => hook.received.length > 0, 15_000, 'the first attempt');
      expect(await first.stop('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
      killed = true;

      const second = await startServer(env);
      await eventually(async () => hook.ids().size === 20, 45_000, 'every event after the restart');
      const byId = new Map<string, string>();
      for (const received of hook.received) {
        new Webhook(endpoint.secret).verify(received.body, {
          'webhook-id': received.id,
          'webhook-timestamp': received.timestamp,
          'webhook-signature': received.signature,
        });
        const data = JSON.parse(received.body).data.id as string;
        // A duplicate is the same event: same webhook-id, same record.
        expect(byId.get(received.id) ?? data).toBe(data);
        byId.set(received.id, data);
      }
      expect(new Set(byId.values())).toEqual(new Set(items));
      await eventually(async () => {
        const log = await call(second, 'GET', `/v1/webhooks/${endpoint.id}/deliveries?limit=100`, { token });
        return log.body.data.length === 20 && log.body.data.every((d: { status: string }) => d.status === 'succeeded');
      });
      expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      await cleanUp();
      await database.drop();
    }
  }, 120_000);

  it('refuses receivers on local addresses without HOOKS_ALLOW_LOCAL: at registration, and at delivery time', async () => {
    const platform = await startTestPlatform({ env: { HOOKS_ALLOW_LOCAL: 'false' } });
    try {
      const agency = await populateAgency(platform, 'Guarded');
      const mod = await populateModule(platform, agency, 'guarded');
      const hook = await startReceiver();
      receivers.push(hook);
      for (const url of [hook.url, `https://127.0.0.1:${hook.port}/hooks`, `https://[::1]:${hook.port}/hooks`]) {
        const refused = await platform.request('POST', '/v1/webhooks', {
          token: agency.token,
          body: { url, event_types: [`${mod.moduleId}.question.created`] },
        });
        expect(refused.status, url).toBe(422);
        expect(refused.body.code).toBe('url_not_allowed');
      }
      // A host name passes registration; it resolves to loopback, which the connection refuses.
      const created = await platform.request('POST', '/v1/webhooks', {
        token: agency.token,
        body: { url: `https://localhost:${hook.port}/hooks`, event_types: [`${mod.moduleId}.question.created`] },
      });
      expect(created.status, created.text).toBe(201);
      await platform.request('POST', `/v1/m/${mod.moduleId}/questions?site_id=${agency.siteId}`, {
        token: agency.token,
        body: { question: 'Internal?', answer: 'No.' },
      });
      const [delivery] = await eventually(async () => {
        const log = await platform.request('GET', `/v1/webhooks/${created.body.id}/deliveries`, {
          token: agency.token,
        });
        return log.body.data[0]?.last_error && log.body.data;
      });
      expect(delivery).toMatchObject({ status: 'pending', last_status_code: null });
      expect(delivery.last_error).toMatch(/internal address/);
      expect(hook.received).toHaveLength(0);
    } finally {
      await platform.close();
    }
  });
});
