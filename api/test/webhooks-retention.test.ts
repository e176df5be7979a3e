import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitEvent } from '../src/webhooks/outbox.js';
import { sweepOutbox } from '../src/webhooks/retention.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { eventually, startReceiver } from './support/webhooks.js';

// The outbox's retention sweep, run by the platform's worker on a short retention (a second instead of 30
// days): settled events go with their delivery log; an event with a delivery still pending stays.

const RETENTION_MS = 1_000;
const LATER = 60_000; // every retry waits this long: a failing delivery stays pending through the test

let platform: TestPlatform;
let agency: { agencyId: string; token: string };
const receivers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  platform = await startTestPlatform({
    webhooks: { retentionMs: RETENTION_MS, sweepMs: 100, pollMs: 50, retrySchedule: Array(9).fill(LATER) },
  });
  agency = await platform.signUp('Retained');
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await platform?.close();
});

async function endpoint(status: number, eventTypes: string[]) {
  const hook = await startReceiver(() => ({ status }));
  receivers.push(hook);
  const reply = await platform.request('POST', '/v1/webhooks', {
    token: agency.token,
    body: { url: hook.url, event_types: eventTypes },
  });
  expect(reply.status, reply.text).toBe(201);
  return { id: reply.body.id as string, hook };
}

const emit = (type: string) =>
  platform.db.knex.transaction((tx) =>
    emitEvent(
      { tx, afterCommit: () => {} },
      { type, agencyId: agency.agencyId, clientId: null, siteId: null, payload: { type } },
    ),
  );

const remaining = async (ids: string[]) =>
  (await platform.db.knex('outbox').whereIn('id', ids).pluck('id')) as string[];
const deliveriesOf = async (ids: string[]) =>
  (await platform.db.knex('webhook_deliveries').whereIn('event_id', ids).select('event_id', 'status')) as {
    event_id: string;
    status: string;
  }[];

describe('the outbox retention sweep', () => {
  it('deletes settled events and their delivery log after the retention period, never one still pending', async () => {
    const up = await endpoint(200, ['platform.install.created', 'platform.install.removed']);
    const down = await endpoint(503, ['platform.install.removed']);
    const gone = await endpoint(410, ['platform.install.upgraded']);
    const delivered = await emit('platform.install.created');
    const pending = await emit('platform.install.removed'); // delivered to `up`, retrying for `down`
    const failed = await emit('platform.install.upgraded'); // 410: given up at once
    const unheard = await emit('platform.install.rolled_back'); // no endpoint subscribes
    await eventually(
      async () => up.hook.received.length === 2 && down.hook.received.length === 1 && gone.hook.received.length === 1,
      10_000,
      'the first attempts',
    );

    await eventually(async () => (await remaining([delivered, failed, unheard])).length === 0, 10_000, 'the sweep');
    expect(await deliveriesOf([delivered, failed])).toEqual([]);
    expect(await remaining([pending])).toEqual([pending]);
    expect(await deliveriesOf([pending])).toEqual(
      expect.arrayContaining([
        { event_id: pending, status: 'succeeded' },
        { event_id: pending, status: 'pending' },
      ]),
    );
    // The delivery log shows what is kept.
    const log = await platform.request('GET', `/v1/webhooks/${up.id}/deliveries`, { token: agency.token });
    expect(log.body.data.map((d: { event_id: string }) => d.event_id)).toEqual([pending]);

    // Nothing pending any more (the endpoint that kept it is deleted, its deliveries with it): the event goes.
    await platform.request('DELETE', `/v1/webhooks/${down.id}`, { token: agency.token });
    await eventually(async () => (await remaining([pending])).length === 0, 10_000, 'the last event swept');
    expect(await deliveriesOf([pending])).toEqual([]);
  });

  it('deletes in batches until none is left', async () => {
    const events = await Promise.all(Array.from({ length: 5 }, () => emit('platform.install.rolled_back')));
    await eventually(
      async () => (await platform.db.knex('outbox').whereIn('id', events).whereNull('fanned_out_at')).length === 0,
      10_000,
      'the fan-out',
    );
    // A cutoff after them all, two at a time.
    await sweepOutbox(platform.db.knex, new Date(Date.now() + RETENTION_MS), 2);
    expect(await remaining(events)).toEqual([]);
  });

  it('keeps an event not fanned out yet, however old', async () => {
    // Seen from inside the transaction that wrote it: the worker cannot fan it out meanwhile.
    await platform.db.knex.transaction(async (tx) => {
      const id = await emitEvent(
        { tx, afterCommit: () => {} },
        { type: 'platform.install.rolled_back', agencyId: agency.agencyId, clientId: null, siteId: null, payload: {} },
      );
      await tx('outbox')
        .where({ id })
        .update({ created_at: new Date(Date.now() - 365 * 86_400_000) });
      await sweepOutbox(tx, new Date());
      expect(await tx('outbox').where({ id }).pluck('id')).toEqual([id]);
    });
  });
});
