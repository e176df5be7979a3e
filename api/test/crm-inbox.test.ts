import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { crmInboxConsumer } from '../src/modules/crm/consumer.js';
import { startModuleInbox, type InboxConsumer } from '../src/modules/inbox.js';
import { bookingAgency, bookingModule, create, WEEKDAYS_NINE_TO_FIVE, type BookingAgency } from './support/booking.js';
import { crmModule } from './support/crm.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { publishFirstParty } from './support/modules.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
let agency: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  await publishFirstParty(platform, [bookingModule(), crmModule()]);
  agency = await populateAgency(platform, 'Inbox');
});
afterAll(() => platform.close());

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A booking site (a person working weekdays, a one-hour service), with the CRM installed too or not. */
async function bookingSite(name: string, withCrm: boolean) {
  const site = await bookingAgency(platform, name, agency);
  if (withCrm) {
    const install = await site.call('POST', `/v1/sites/${site.siteId}/installs`, { module_id: 'crm' });
    expect(install.status, install.text).toBe(201);
  }
  const staff = await create(site, '/staff', { name: 'Host', time_zone: 'UTC', weekly_hours: WEEKDAYS_NINE_TO_FIVE });
  const service = await create(site, '/services', {
    name: 'Call',
    duration_minutes: 60,
    booking_window_days: 730,
    staff_ids: [staff.id],
  });
  return { site, serviceId: service.id as string };
}

async function book(site: BookingAgency, serviceId: string, start: string, email: string) {
  const reply = await site.visit('POST', '/v1/booking/bookings', {
    service_id: serviceId,
    start,
    name: 'Grace Brewster Hopper',
    email,
    phone: '+1 202 555 0100',
  });
  expect(reply.status, reply.text).toBe(201);
  return reply.body as { booking: { id: string }; manage_token: string };
}

const contactsOf = (siteId: string) => platform.db.knex('mod_crm.contacts').where({ site_id: siteId });
const timelineOf = (contactId: string) =>
  platform.db.knex('mod_crm.timeline').where({ contact_id: contactId }).orderBy('occurred_at').pluck('type');

describe('other modules’ events in the CRM', () => {
  it('adds a booking’s visitor as a contact, and each change of the booking to their timeline, once', async () => {
    const { site, serviceId } = await bookingSite('Both', true);
    const { manage_token: token } = await book(site, serviceId, '2027-03-01T10:00:00Z', 'Grace@Example.com');
    const contact = await until('the contact', async () => (await contactsOf(site.siteId))[0]);
    expect(contact).toMatchObject({
      first_name: 'Grace Brewster',
      last_name: 'Hopper',
      emails: ['grace@example.com'],
      phones: ['+1 202 555 0100'],
      source: 'booking',
    });
    const cancelled = await site.visit('POST', `/v1/booking/manage/cancel?token=${token}`, {});
    expect(cancelled.status, cancelled.text).toBe(200);
    await until('the cancellation in the timeline', async () =>
      (await timelineOf(contact.id)).includes('booking.booking.cancelled'),
    );
    // A second booking by the same person (any case of their address) is the same contact.
    await book(site, serviceId, '2027-03-02T10:00:00Z', 'GRACE@example.com');
    const types = await until('the second booking', async () => {
      const entries = await timelineOf(contact.id);
      return entries.length === 4 && entries;
    });
    // The booking came first; the contact was made from it a moment later.
    expect(types).toEqual([
      'booking.booking.created',
      'contact.created',
      'booking.booking.cancelled',
      'booking.booking.created',
    ]);
    expect(await contactsOf(site.siteId)).toHaveLength(1);
    const timeline = await site.call('GET', `/v1/sites/${site.siteId}/crm/contacts/${contact.id}/timeline`);
    expect(timeline.status).toBe(200);
    expect(timeline.body.data[0]).toMatchObject({
      type: 'booking.booking.created',
      summary: 'Booked an appointment for 2027-03-02 10:00 UTC',
      data: { email: 'GRACE@example.com' },
    });
    // The contact the booking made is an event of its own, for webhooks.
    const created = await platform.db
      .knex('outbox')
      .where({ site_id: site.siteId, type: 'crm.contact.created' })
      .count('* as n');
    expect(Number(created[0]!.n)).toBe(1);
  });

  it('leaves sites without the CRM alone: nothing queued, nothing made', async () => {
    const { site, serviceId } = await bookingSite('BookingOnly', false);
    await book(site, serviceId, '2027-03-01T11:00:00Z', 'alone@example.com');
    await until('the event to be fanned out', async () => {
      const pending = await platform.db.knex('outbox').where({ site_id: site.siteId }).whereNull('fanned_out_at');
      return pending.length === 0;
    });
    expect(await platform.db.knex('module_inbox').where({ site_id: site.siteId })).toEqual([]);
    expect(await contactsOf(site.siteId)).toEqual([]);
  });

  it('drops what was queued for a CRM uninstalled since', async () => {
    const { site } = await bookingSite('Uninstalled', true);
    const knex = platform.db.knex;
    const uninstall = await site.call('DELETE', `/v1/sites/${site.siteId}/installs/crm`);
    expect(uninstall.body.status, uninstall.text).toBe('uninstalled');
    const eventId = uuidv7();
    await knex('outbox').insert({
      id: eventId,
      agency_id: site.agencyId,
      client_id: site.clientId,
      site_id: site.siteId,
      type: 'booking.booking.created',
      payload: { name: 'Late Comer', email: 'late@example.com', start: '2027-03-01T09:00:00Z' },
      fanned_out_at: new Date(),
    });
    await knex('module_inbox').insert({
      id: uuidv7(),
      agency_id: site.agencyId,
      site_id: site.siteId,
      module_id: 'crm',
      event_id: eventId,
    });
    const row = await until('the row to be settled', async () => {
      const found = await knex('module_inbox').where({ event_id: eventId }).first();
      return found.status !== 'pending' && found;
    });
    expect(row).toMatchObject({ status: 'done', last_error: 'not installed on the site any more' });
    expect(await contactsOf(site.siteId)).toEqual([]);
  });

  it('puts an event into a timeline once, even if it is handled twice', async () => {
    const { site } = await bookingSite('Twice', true);
    const event = {
      id: uuidv7(),
      type: 'booking.booking.created',
      agencyId: site.agencyId,
      siteId: site.siteId,
      payload: { name: 'Twice Told', email: 'twice@example.com', start: '2027-03-01T09:00:00Z' },
      createdAt: new Date(),
    };
    for (let round = 0; round < 2; round += 1) {
      await platform.db.knex.transaction((tx) =>
        crmInboxConsumer.handle({ tx, agencyId: site.agencyId, afterCommit: () => {} }, event),
      );
    }
    const [contact] = await contactsOf(site.siteId);
    expect((await timelineOf(contact.id)).sort()).toEqual(['booking.booking.created', 'contact.created']);
  });

  it('retries an event its module could not handle, keeps its other changes out, and gives up at the end', async () => {
    const { site } = await bookingSite('Failing', true);
    const knex = platform.db.knex;
    const eventId = uuidv7();
    await knex('outbox').insert({
      id: eventId,
      agency_id: site.agencyId,
      client_id: site.clientId,
      site_id: site.siteId,
      type: 'test.thing.happened',
      payload: {},
      fanned_out_at: new Date(),
    });
    // Due in 2100, by this test's worker's clock: the platform's own worker (on today's) leaves it alone.
    let now = Date.parse('2100-01-01T00:00:00Z');
    await knex('module_inbox').insert({
      id: uuidv7(),
      agency_id: site.agencyId,
      site_id: site.siteId,
      module_id: 'crm',
      event_id: eventId,
      next_attempt_at: new Date(now),
    });
    let calls = 0;
    const flaky: InboxConsumer = {
      moduleId: 'crm',
      types: ['test.thing.happened'],
      async handle({ tx }) {
        calls += 1;
        // A change the failure must take back with it.
        await tx('mod_crm.contacts').insert({ id: uuidv7(), agency_id: site.agencyId, site_id: site.siteId });
        throw new Error(`refused, attempt ${calls}`);
      },
    };
    const inbox = startModuleInbox({
      knex,
      logger: createLogger('silent'),
      consumers: [flaky],
      pollMs: 20,
      now: () => new Date(now),
      retrySchedule: [60_000],
    });
    try {
      const first = await until('the first attempt', async () => {
        const row = await knex('module_inbox').where({ event_id: eventId }).first();
        return row.attempts === 1 && row;
      });
      expect(first).toMatchObject({ status: 'pending', last_error: 'refused, attempt 1' });
      expect(first.next_attempt_at.getTime()).toBe(now + 60_000);
      now += 60_000;
      inbox.nudge();
      const last = await until('giving up', async () => {
        const row = await knex('module_inbox').where({ event_id: eventId }).first();
        return row.status === 'failed' && row;
      });
      expect(last).toMatchObject({ attempts: 2, last_error: 'refused, attempt 2' });
      expect(calls).toBe(2);
      expect(await contactsOf(site.siteId)).toEqual([]);
    } finally {
      await inbox.stop();
    }
  });
});
