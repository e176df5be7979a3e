import { Writable } from 'node:stream';
import ICAL from 'ical.js';
import type { Knex } from 'knex';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { afterEach, describe, expect, it } from 'vitest';
import { DEVELOPMENT_SECRET_KEY } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { enterTenant } from '../src/db/tenant.js';
import { createLogger } from '../src/logger.js';
import {
  onBookingEmailsQueued,
  queueBookingEmails,
  startBookingMailer,
  type BookingChange,
  type BookingMailerOptions,
} from '../src/modules/booking/notifications.js';
import { manageToken, manageUrl } from '../src/modules/booking/tokens.js';
import { createMailer } from '../src/platform/mail.js';
import { bookingAgency, create, publishBooking, WEEKDAYS_NINE_TO_FIVE } from './support/booking.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from './support/smtp.js';
import { eventually } from './support/webhooks.js';

// The booking module's emails, sent by its mailer worker to a real SMTP server in this process. Bookings are
// written straight into the module's tables (as the schema owner); their emails are queued the way the
// handlers queue them: `queueBookingEmails` in a tenant's transaction, the mailer nudged after commit.

const POSTGRES = Boolean(process.env.DATABASE_URL);
const MINUTE = 60_000;
const T0 = new Date('2026-03-01T08:00:00Z');
/** Tuesday 3 March 2026, 10:00 in Paris, 04:00 in New York. */
const STARTS = new Date('2026-03-03T09:00:00Z');
const PAGE_URL = 'https://bakery.example/book';
const MAIL_FROM = 'Bakery bookings <bookings@bakery.example>';
const STAFF_EMAIL = 'sam@bakery.example';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

interface Booking {
  id: string;
  agency_id: string;
  site_id: string;
  sequence: number;
  starts_at: Date;
  email: string;
}

interface World {
  smtp: TestSmtpServer;
  platform: TestPlatform;
  knex: Knex;
  clock: { now: Date };
  /**
   * Moves the clock once every email the server took is recorded: a jump of hours past a lease while a send is
   * still being recorded would make it look like one a dead worker left mid-send.
   */
  moveClock(to: Date): Promise<void>;
  agencyId: string;
  siteId: string;
  book(options?: {
    startsAt?: Date;
    name?: string;
    email?: string;
    offsets?: number[];
    staffId?: string;
    queue?: boolean;
  }): Promise<Booking>;
  /** Moves or cancels a booking (bumping its sequence) and, unless `queue` is false, queues its emails. */
  change(booking: Booking, change: BookingChange, startsAt?: Date, queue?: boolean): Promise<Booking>;
  staffWithoutEmail: string;
  /** A second mailer on the same database (on PostgreSQL, over a pool of its own). */
  secondMailer(options?: Partial<BookingMailerOptions>): Promise<{ stop(): Promise<void> }>;
}

async function world(
  options: { bookingMail?: Partial<BookingMailerOptions>; smtp?: boolean; logger?: pino.Logger } = {},
): Promise<World> {
  const smtp = await startSmtpServer();
  closers.push(smtp.close);
  const clock = { now: T0 };
  const platform = await startTestPlatform({
    env: { ...(options.smtp === false ? {} : { SMTP_URL: smtp.url }), MAIL_FROM },
    logger: options.logger,
    bookingMail: { now: () => clock.now, pollMs: 50, ...options.bookingMail },
  });
  closers.push(platform.close);
  const knex = platform.db.knex;
  const { agencyId, token } = await platform.signUp('Mail');
  const client = await platform.request('POST', '/v1/clients', { token, body: { name: 'Bakery' } });
  expect(client.status, client.text).toBe(201);
  const site = await platform.request('POST', '/v1/sites', {
    token,
    body: { client_id: client.body.id, name: 'bakery.example' },
  });
  expect(site.status, site.text).toBe(201);
  const siteId = site.body.id as string;
  const serviceId = uuidv7();
  await knex('mod_booking.services').insert({
    id: serviceId,
    agency_id: agencyId,
    site_id: siteId,
    name: 'Intro call',
    duration_minutes: 30,
    slot_interval_minutes: 30,
  });
  const staffId = uuidv7();
  const staffWithoutEmail = uuidv7();
  await knex('mod_booking.staff').insert([
    {
      id: staffId,
      agency_id: agencyId,
      site_id: siteId,
      name: 'Sam',
      email: STAFF_EMAIL,
      time_zone: 'America/New_York',
    },
    { id: staffWithoutEmail, agency_id: agencyId, site_id: siteId, name: 'Kim', email: null, time_zone: 'UTC' },
  ]);

  /** As a handler does: in a tenant's transaction (the application role, under row-level security). */
  async function queue(booking: Booking, change: BookingChange, offsets: number[]) {
    await knex.transaction(async (tx) => {
      await enterTenant(tx, { agencyId, clientId: null });
      await queueBookingEmails(tx, booking, change, offsets, clock.now);
    });
    onBookingEmailsQueued();
  }

  return {
    smtp,
    platform,
    knex,
    clock,
    async moveClock(to) {
      await eventually(
        async () => !(await knex('mod_booking.notifications').where({ site_id: siteId, status: 'sending' }).first()),
        20_000,
        'the emails in flight to be recorded',
      );
      clock.now = to;
    },
    agencyId,
    siteId,
    staffWithoutEmail,
    async book({ startsAt = STARTS, name = 'Ada Lovelace', email, offsets = [1440, 60], ...rest } = {}) {
      const id = uuidv7();
      const booking: Booking = {
        id,
        agency_id: agencyId,
        site_id: siteId,
        sequence: 0,
        starts_at: startsAt,
        email: email ?? `${id}@visitor.example`,
      };
      await knex('mod_booking.bookings').insert({
        id,
        agency_id: agencyId,
        site_id: siteId,
        service_id: serviceId,
        staff_id: rest.staffId ?? staffId,
        starts_at: startsAt,
        ends_at: new Date(startsAt.getTime() + 30 * MINUTE),
        time_zone: 'Europe/Paris',
        name,
        email: booking.email,
        page_url: PAGE_URL,
      });
      if (rest.queue !== false) await queue(booking, 'confirmation', offsets);
      return booking;
    },
    async change(booking, change, startsAt = booking.starts_at, queueIt = true) {
      const changed = { ...booking, sequence: booking.sequence + 1, starts_at: startsAt };
      await knex('mod_booking.bookings')
        .where({ id: booking.id })
        .update(
          change === 'cancellation'
            ? { status: 'cancelled', sequence: changed.sequence, cancelled_at: clock.now, cancellation_reason: 'Ill' }
            : {
                sequence: changed.sequence,
                starts_at: startsAt,
                ends_at: new Date(startsAt.getTime() + 30 * MINUTE),
                rescheduled_at: clock.now,
              },
        );
      if (queueIt) await queue(changed, change, [1440, 60]);
      return changed;
    },
    async secondMailer(extra = {}) {
      let knex2 = knex;
      if (POSTGRES) {
        const { rows } = (await knex.raw('SELECT current_database() AS name')) as { rows: { name: string }[] };
        const url = new URL(process.env.DATABASE_URL!);
        url.pathname = `/${rows[0]!.name}`;
        const db = await openDatabase({ databaseUrl: url.toString(), dataDir: null });
        closers.push(db.close);
        knex2 = db.knex;
      }
      const mailer = createMailer({ smtpUrl: smtp.url, from: MAIL_FROM, logger: createLogger('silent') });
      const worker = startBookingMailer({
        knex: knex2,
        logger: createLogger('silent'),
        mailer,
        secretKey: DEVELOPMENT_SECRET_KEY,
        now: () => clock.now,
        pollMs: 50,
        ...extra,
      });
      const stop = async () => {
        await worker.stop();
        mailer.close();
      };
      closers.push(stop);
      return { stop };
    },
  };
}

const to = (address: string) => (mail: ReceivedMail) => mail.to.includes(address);
const count = (mail: ReceivedMail[], address: string, subjectStart = '') =>
  mail.filter((m) => to(address)(m) && (m.parsed.subject ?? '').startsWith(subjectStart)).length;

const notifications = (knex: Knex, bookingId: string) =>
  knex('mod_booking.notifications')
    .where({ booking_id: bookingId })
    .orderBy(['send_at', 'kind', 'recipient'])
    .select('kind', 'recipient', 'sequence', 'status', 'attempts', 'send_at', 'last_error') as Promise<
    {
      kind: string;
      recipient: string;
      sequence: number;
      status: string;
      attempts: number;
      send_at: Date;
      last_error: string | null;
    }[]
  >;

/** The invitation attached to a message: its raw text and its parsed event. */
function invitation(mail: ReceivedMail) {
  const attachment = mail.parsed.attachments.find((a) => a.filename === 'invite.ics');
  expect(attachment, `invite.ics in "${mail.parsed.subject}"`).toBeDefined();
  const text = attachment!.content.toString('utf8');
  const calendar = new ICAL.Component(ICAL.parse(text));
  const event = calendar.getFirstSubcomponent('vevent')!;
  return {
    text,
    contentType: attachment!.contentType,
    headerContentType: String((attachment!.headers.get('content-type') as { value: string; params: object }).value),
    params: (attachment!.headers.get('content-type') as { params: Record<string, string> }).params,
    method: calendar.getFirstPropertyValue('method'),
    uid: event.getFirstPropertyValue('uid'),
    sequence: event.getFirstPropertyValue('sequence'),
    status: event.getFirstPropertyValue('status'),
    start: (event.getFirstPropertyValue('dtstart') as ICAL.Time).toJSDate(),
    end: (event.getFirstPropertyValue('dtend') as ICAL.Time).toJSDate(),
    startUtc: (event.getFirstProperty('dtstart')!.toJSON() as unknown[])[3],
    summary: event.getFirstPropertyValue('summary'),
    description: String(event.getFirstPropertyValue('description')),
    organizer: event.getFirstPropertyValue('organizer'),
    attendee: event.getFirstPropertyValue('attendee'),
  };
}

describe('booking emails', () => {
  it('a confirmation reaches the visitor and the staff member, each in their own zone, with an invitation', async () => {
    const w = await world();
    const booking = await w.book();
    const mail = await w.smtp.waitFor((m) => m.length >= 2);
    const visitor = mail.find(to(booking.email))!;
    const staff = mail.find(to(STAFF_EMAIL))!;
    expect(visitor.parsed.subject).toBe('Confirmed: Intro call on Tue 3 Mar, 10:00');
    expect(staff.parsed.subject).toBe('New booking: Intro call with Ada Lovelace on Tue 3 Mar, 04:00');
    expect(visitor.parsed.from?.value).toEqual([{ name: 'Bakery bookings', address: 'bookings@bakery.example' }]);
    expect(visitor.parsed.replyTo?.value).toEqual([{ name: 'Sam', address: STAFF_EMAIL }]);
    expect(staff.parsed.replyTo?.value).toEqual([{ name: 'Ada Lovelace', address: booking.email }]);
    expect(visitor.parsed.text).toContain('When: Tuesday, 3 March 2026, 10:00–10:30 (Europe/Paris)');
    expect(staff.parsed.text).toContain('When: Tuesday, 3 March 2026, 04:00–04:30 (America/New_York)');

    // The visitor's manage link, in both parts; never in the staff member's email.
    const link = manageUrl(PAGE_URL, manageToken(DEVELOPMENT_SECRET_KEY, booking.id))!;
    expect(link).toContain('#dm-booking=');
    expect(visitor.parsed.text).toContain(link);
    expect(visitor.parsed.html).toContain(`href="${link}"`);
    expect(staff.raw).not.toContain('dm-booking=');

    for (const [message, description] of [
      [visitor, link],
      [staff, 'Intro call with Ada Lovelace'],
    ] as const) {
      const ics = invitation(message);
      expect(ics.contentType).toBe('text/calendar');
      expect(ics.params).toMatchObject({ method: 'REQUEST', charset: 'utf-8' });
      expect(ics.method).toBe('REQUEST');
      expect(ics.uid).toBe(`${booking.id}@booking.dramac`);
      expect(ics.sequence).toBe(0);
      expect(ics.status).toBe('CONFIRMED');
      expect(ics.start.toISOString()).toBe(STARTS.toISOString());
      expect(ics.end.toISOString()).toBe('2026-03-03T09:30:00.000Z');
      expect(ics.summary).toBe('Intro call');
      expect(ics.description).toContain(description);
      expect(ics.organizer).toBe(`mailto:${STAFF_EMAIL}`);
      // The scheme is case-insensitive (RFC 5545 §3.3.3); ical-generator writes attendees' in capitals.
      expect(String(ics.attendee).toLowerCase()).toBe(`mailto:${booking.email}`);
      // The lines as calendars read them: UTC times, CRLF endings and nothing else.
      expect(ics.text).toMatch(/^BEGIN:VCALENDAR\r\n/);
      expect(ics.text).toContain('\r\nMETHOD:REQUEST\r\n');
      expect(ics.text).toContain('\r\nDTSTART:20260303T090000Z\r\n');
      expect(ics.text).toContain('\r\nSEQUENCE:0\r\n');
      expect(ics.text.replaceAll('\r\n', '')).not.toMatch(/[\r\n]/);
    }
    // Sent, once each (recorded once the server has taken them); the reminders wait for their time.
    const rows = await eventually(async () => {
      const found = await notifications(w.knex, booking.id);
      return found.every((r) => r.status !== 'sending') && found;
    });
    expect(rows.map((r) => [r.kind, r.recipient, r.status, r.attempts, r.send_at.toISOString()])).toEqual([
      ['confirmation', 'staff', 'sent', 1, T0.toISOString()],
      ['confirmation', 'visitor', 'sent', 1, T0.toISOString()],
      ['reminder', 'visitor', 'pending', 0, '2026-03-02T09:00:00.000Z'],
      ['reminder', 'visitor', 'pending', 0, '2026-03-03T08:00:00.000Z'],
    ]);
    expect(w.smtp.received).toHaveLength(2);
  });

  it('a staff member without an email address gets nothing; reminders already past are not queued', async () => {
    const w = await world();
    // Starts in 90 minutes: the 24-hour reminder's time is gone, the 1-hour one is still ahead.
    const booking = await w.book({ staffId: w.staffWithoutEmail, startsAt: new Date(T0.getTime() + 90 * MINUTE) });
    await w.smtp.waitFor((m) => m.length >= 1);
    const rows = await eventually(async () => {
      const found = await notifications(w.knex, booking.id);
      return found.every((r) => r.kind === 'reminder' || r.status === 'sent') && found;
    });
    expect(rows.map((r) => [r.kind, r.recipient, r.status])).toEqual([
      ['confirmation', 'visitor', 'sent'],
      ['reminder', 'visitor', 'pending'],
    ]);
    const ics = invitation(w.smtp.received[0]!);
    // No staff address: the sender's stands in as the organizer.
    expect(ics.organizer).toBe('mailto:bookings@bakery.example');
    expect(w.smtp.received.map((m) => m.to)).toEqual([[booking.email]]);
  });

  it('a cancellation withdraws the invitation (METHOD:CANCEL) and its reminders never go out', async () => {
    const w = await world();
    const booking = await w.book();
    // A control booking an hour later, whose reminders do go out.
    const control = await w.book({ startsAt: new Date(STARTS.getTime() + 60 * MINUTE) });
    await w.smtp.waitFor((m) => m.length >= 4);
    const cancelled = await w.change(booking, 'cancellation');
    await w.smtp.waitFor((m) => count(m, booking.email, 'Cancelled') === 1 && count(m, STAFF_EMAIL, 'Cancelled') === 1);
    const visitor = w.smtp.received.find((m) => to(booking.email)(m) && m.parsed.subject?.startsWith('Cancelled'))!;
    expect(visitor.parsed.subject).toBe('Cancelled: Intro call on Tue 3 Mar, 10:00');
    expect(visitor.parsed.text).toContain('Reason: Ill');
    expect(visitor.raw).not.toContain('dm-booking=');
    const ics = invitation(visitor);
    expect(ics.params).toMatchObject({ method: 'CANCEL', charset: 'utf-8' });
    expect(ics.method).toBe('CANCEL');
    expect(ics.status).toBe('CANCELLED');
    expect(ics.uid).toBe(`${booking.id}@booking.dramac`);
    expect(ics.sequence).toBe(cancelled.sequence);
    expect(ics.sequence).toBe(1);
    expect(ics.text).toContain('\r\nMETHOD:CANCEL\r\n');
    expect(
      invitation(w.smtp.received.find((m) => to(STAFF_EMAIL)(m) && m.parsed.subject?.startsWith('Cancelled'))!).method,
    ).toBe('CANCEL');
    // Past both of its reminders' times (and the control's 24-hour one): the control's goes out, the cancelled
    // booking's were skipped at cancellation.
    await w.moveClock(new Date(STARTS.getTime() - 30 * MINUTE));
    await w.smtp.waitFor((m) => count(m, control.email, 'Reminder') === 1);
    expect((await notifications(w.knex, booking.id)).filter((r) => r.kind === 'reminder')).toMatchObject([
      { status: 'skipped', sequence: 0, attempts: 0 },
      { status: 'skipped', sequence: 0, attempts: 0 },
    ]);
    expect(count(w.smtp.received, booking.email, 'Reminder')).toBe(0);
  });

  it('the mailer itself skips the reminders of a booking cancelled or moved since they were queued', async () => {
    const w = await world();
    const cancelled = await w.book();
    const moved = await w.book();
    const control = await w.book();
    await w.smtp.waitFor((m) => m.length >= 6);
    // Changed without queuing anything: only the mailer's own check stands between the reminders and the mail.
    await w.change(cancelled, 'cancellation', undefined, false);
    await w.change(moved, 'rescheduled', new Date(STARTS.getTime() + 24 * 60 * MINUTE), false);
    await w.moveClock(new Date(STARTS.getTime() - 1440 * MINUTE));
    await w.smtp.waitFor((m) => count(m, control.email, 'Reminder') === 1);
    const skipped = async (id: string) =>
      (await notifications(w.knex, id)).filter((r) => r.kind === 'reminder').map((r) => [r.status, r.last_error]);
    expect(await skipped(cancelled.id)).toEqual([
      ['skipped', 'the booking was cancelled'],
      ['pending', null],
    ]);
    expect(await skipped(moved.id)).toEqual([
      ['skipped', 'the booking was moved'],
      ['pending', null],
    ]);
    expect(count(w.smtp.received, cancelled.email, 'Reminder')).toBe(0);
    expect(count(w.smtp.received, moved.email, 'Reminder')).toBe(0);
  });

  it('after a reschedule the new time is sent and only its reminders go out', async () => {
    const w = await world();
    const booking = await w.book();
    await w.smtp.waitFor((m) => m.length >= 2);
    const later = new Date('2026-03-05T14:00:00Z');
    const moved = await w.change(booking, 'rescheduled', later);
    await w.smtp.waitFor(
      (m) => count(m, booking.email, 'Rescheduled') === 1 && count(m, STAFF_EMAIL, 'Rescheduled') === 1,
    );
    const visitor = w.smtp.received.find((m) => to(booking.email)(m) && m.parsed.subject?.startsWith('Rescheduled'))!;
    expect(visitor.parsed.subject).toBe('Rescheduled: Intro call on Thu 5 Mar, 15:00');
    const ics = invitation(visitor);
    expect(ics.method).toBe('REQUEST');
    expect(ics.uid).toBe(`${booking.id}@booking.dramac`);
    expect(ics.sequence).toBe(moved.sequence);
    expect(ics.start.toISOString()).toBe(later.toISOString());
    expect(ics.text).toContain('\r\nDTSTART:20260305T140000Z\r\n');

    // The new time's 24-hour reminder (the old time's are long past).
    await w.moveClock(new Date(later.getTime() - 1440 * MINUTE));
    await w.smtp.waitFor((m) => count(m, booking.email, 'Reminder') === 1);
    await w.moveClock(new Date(later.getTime() - 60 * MINUTE));
    await w.smtp.waitFor((m) => count(m, booking.email, 'Reminder') === 2);
    const reminders = w.smtp.received.filter((m) => to(booking.email)(m) && m.parsed.subject?.startsWith('Reminder'));
    expect(reminders.map((m) => m.parsed.subject)).toEqual([
      'Reminder: Intro call on Thu 5 Mar, 15:00',
      'Reminder: Intro call on Thu 5 Mar, 15:00',
    ]);
    expect(reminders[0]!.parsed.attachments).toEqual([]);
    // Recorded once the server has taken them.
    const rows = await eventually(async () => {
      const found = await notifications(w.knex, booking.id);
      return found.every((r) => r.status !== 'sending') && found;
    });
    expect(rows.filter((r) => r.kind === 'reminder').map((r) => [r.sequence, r.status])).toEqual([
      [0, 'skipped'],
      [0, 'skipped'],
      [1, 'sent'],
      [1, 'sent'],
    ]);
  });

  it(`reminders go out at their offsets, exactly once, with two mailers on one database (${POSTGRES ? 'PostgreSQL, two pools' : 'PGlite, one process'})`, async () => {
    const w = await world();
    await w.secondMailer();
    const BOOKINGS = 12;
    const bookings: Booking[] = [];
    for (let i = 0; i < BOOKINGS; i++) {
      bookings.push(await w.book({ startsAt: new Date(STARTS.getTime() + i * 30 * MINUTE) }));
    }
    await w.smtp.waitFor((m) => m.length >= 2 * BOOKINGS);
    const first = bookings[0]!;
    const last = bookings.at(-1)!;
    // A minute early: nothing.
    await w.moveClock(new Date(first.starts_at.getTime() - 1441 * MINUTE));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(w.smtp.received).toHaveLength(2 * BOOKINGS);
    // At the first booking's 24-hour mark: its reminder only.
    await w.moveClock(new Date(first.starts_at.getTime() - 1440 * MINUTE));
    await w.smtp.waitFor((m) => count(m, first.email, 'Reminder') === 1);
    expect(bookings.slice(1).map((b) => count(w.smtp.received, b.email, 'Reminder'))).toEqual(
      Array(BOOKINGS - 1).fill(0),
    );
    expect(
      w.smtp.received.find((m) => to(first.email)(m) && m.parsed.subject?.startsWith('Reminder'))?.parsed.subject,
    ).toBe('Reminder: Intro call on Tue 3 Mar, 10:00');
    // Every 24-hour reminder (no booking has started yet), then each 1-hour one at its time.
    await w.moveClock(new Date(last.starts_at.getTime() - 1440 * MINUTE));
    await w.smtp.waitFor((m) => bookings.every((b) => count(m, b.email, 'Reminder') === 1));
    for (const booking of bookings) {
      await w.moveClock(new Date(booking.starts_at.getTime() - 60 * MINUTE));
      await w.smtp.waitFor((m) => count(m, booking.email, 'Reminder') === 2);
    }
    // Both mailers keep looking for a while: nothing more comes.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(bookings.map((b) => count(w.smtp.received, b.email, 'Reminder'))).toEqual(Array(BOOKINGS).fill(2));
    expect(w.smtp.received).toHaveLength(4 * BOOKINGS);
    // Recorded once the server has taken them.
    const rows = await eventually(async () => {
      const found = await w
        .knex('mod_booking.notifications')
        .whereIn(
          'booking_id',
          bookings.map((b) => b.id),
        )
        .select('status', 'attempts');
      return found.every((r) => r.status !== 'sending') && found;
    });
    expect(rows).toHaveLength(4 * BOOKINGS);
    expect(rows.filter((r) => !(r.status === 'sent' && r.attempts === 1))).toEqual([]);
  });

  it('survives a restart: a new mailer sends what is due once; a reminder cut off mid-send is not sent again', async () => {
    const w = await world();
    // The platform's mailer stops, as a process that dies would.
    await w.platform.bookingMail.stop();
    const waiting = await w.book();
    const interruptedReminder = await w.book();
    const interruptedConfirmation = await w.book();
    expect(w.smtp.received).toEqual([]);
    // Two rows a dead worker left mid-send, their leases run out.
    const crashed = { status: 'sending', attempts: 1, lease_until: new Date(T0.getTime() - MINUTE) };
    await w
      .knex('mod_booking.notifications')
      .where({
        booking_id: interruptedReminder.id,
        kind: 'reminder',
        send_at: new Date(STARTS.getTime() - 1440 * MINUTE),
      })
      .update({ ...crashed });
    await w
      .knex('mod_booking.notifications')
      .where({ booking_id: interruptedConfirmation.id, kind: 'confirmation', recipient: 'visitor' })
      .update({ ...crashed });
    w.clock.now = new Date(STARTS.getTime() - 1440 * MINUTE);
    await w.secondMailer();
    await w.smtp.waitFor(
      (m) => count(m, waiting.email, 'Reminder') === 1 && count(m, interruptedConfirmation.email, 'Confirmed') === 1,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(count(w.smtp.received, waiting.email, 'Confirmed')).toBe(1);
    expect(count(w.smtp.received, waiting.email, 'Reminder')).toBe(1);
    // The confirmation is sent again (at least once); the reminder is not (at most once).
    expect(count(w.smtp.received, interruptedConfirmation.email, 'Confirmed')).toBe(1);
    expect(count(w.smtp.received, interruptedReminder.email, 'Reminder')).toBe(0);
    expect(
      (await notifications(w.knex, interruptedReminder.id))
        .filter((r) => r.kind === 'reminder')
        .map((r) => [r.status, r.attempts, r.last_error]),
    ).toEqual([
      ['failed', 1, 'interrupted while sending; a reminder is never retried after that'],
      ['pending', 0, null],
    ]);
    const resent = await eventually(async () => {
      const found = (await notifications(w.knex, interruptedConfirmation.id)).find(
        (r) => r.kind === 'confirmation' && r.recipient === 'visitor',
      );
      return found?.status !== 'sending' && found;
    });
    expect(resent).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('escapes every value in the HTML part', async () => {
    const w = await world();
    const name = '<script>alert("x")</script> & Co';
    const booking = await w.book({ name });
    await w.smtp.waitFor((m) => m.length >= 2);
    for (const mail of w.smtp.received) {
      expect(mail.parsed.html).not.toContain('<script');
      expect(mail.parsed.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
      expect(mail.parsed.text).toContain(name);
    }
    expect(w.smtp.received.find(to(booking.email))!.parsed.subject).toBe('Confirmed: Intro call on Tue 3 Mar, 10:00');
  });

  it('retries a refused message with backoff, and gives up after the last attempt with the error', async () => {
    let skew = 0;
    const w = await world({ bookingMail: { retrySchedule: [300, 300, 300], now: () => new Date(Date.now() + skew) } });
    skew = T0.getTime() - Date.now();
    const attempts = new Map<string, number[]>();
    const visitorEmail = `${uuidv7()}@visitor.example`;
    w.smtp.refuse = (recipients) => {
      const [address] = recipients;
      attempts.set(address!, [...(attempts.get(address!) ?? []), Date.now()]);
      if (address === STAFF_EMAIL) return 550;
      if (address === visitorEmail && attempts.get(address)!.length <= 2) return 451;
      return undefined;
    };
    const booking = await w.book({ email: visitorEmail });
    await w.smtp.waitFor((m) => count(m, visitorEmail, 'Confirmed') === 1);
    const rows = await eventually(async () => {
      const found = await notifications(w.knex, booking.id);
      return found.every((r) => r.kind === 'reminder' || ['sent', 'failed'].includes(r.status)) && found;
    });
    expect(rows.filter((r) => r.kind === 'confirmation').map((r) => [r.recipient, r.status, r.attempts])).toEqual([
      ['staff', 'failed', 4],
      ['visitor', 'sent', 3],
    ]);
    expect(rows.find((r) => r.recipient === 'staff')!.last_error).toContain('550');
    expect(rows.find((r) => r.recipient === 'visitor' && r.kind === 'confirmation')!.last_error).toBeNull();
    const times = attempts.get(visitorEmail)!;
    expect(times).toHaveLength(3);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(250);
    expect(attempts.get(STAFF_EMAIL)).toHaveLength(4);
    expect(count(w.smtp.received, STAFF_EMAIL)).toBe(0);
  });

  it('without SMTP_URL, logs each email instead and says so at start-up', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    );
    const w = await world({ smtp: false, logger });
    expect(lines.some((l) => l.msg === 'SMTP_URL is not set: emails are written to the log, not sent')).toBe(true);
    const booking = await w.book();
    const logged = await eventually(async () => {
      const found = lines.filter((l) => l.msg === 'email not sent (no SMTP_URL)');
      return found.length === 2 && found;
    });
    expect(logged.map((l) => (l.mail as { subject: string }).subject).sort()).toEqual([
      'Confirmed: Intro call on Tue 3 Mar, 10:00',
      'New booking: Intro call with Ada Lovelace on Tue 3 Mar, 04:00',
    ]);
    await eventually(
      async () => (await notifications(w.knex, booking.id)).filter((r) => r.status === 'sent').length === 2,
      10_000,
      'both logged emails recorded as sent',
    );
    expect(w.smtp.received).toEqual([]);
  });
});

/**
 * A platform on the real clock (the handlers queue at the time of the request) mailing to a test SMTP server,
 * with the booking module installed on a new agency's site.
 */
async function throughTheApi(name: string) {
  const smtp = await startSmtpServer();
  closers.push(smtp.close);
  const platform = await startTestPlatform({ env: { SMTP_URL: smtp.url, MAIL_FROM }, bookingMail: { pollMs: 50 } });
  closers.push(platform.close);
  await publishBooking(platform);
  return { smtp, platform, agency: await bookingAgency(platform, name) };
}

describe('booking emails through the API', () => {
  it('a visitor who books, moves and cancels gets each email, and so does the staff member', async () => {
    const { smtp, platform, agency } = await throughTheApi('Through the API');
    const person = await create(agency, '/staff', {
      name: 'Sam',
      email: STAFF_EMAIL,
      time_zone: 'Europe/Berlin',
      weekly_hours: WEEKDAYS_NINE_TO_FIVE,
    });
    const service = await create(agency, '/services', {
      name: 'Intro call',
      duration_minutes: 60,
      booking_window_days: 730,
      staff_ids: [person.id],
    });
    const email = `${uuidv7()}@visitor.example`;
    const created = await agency.visit('POST', '/v1/booking/bookings', {
      service_id: service.id,
      start: '2027-02-01T10:00:00+01:00',
      name: 'Ada Visitor',
      email,
      time_zone: 'America/New_York',
      page_url: `${agency.origin}/book`,
    });
    expect(created.status, created.text).toBe(201);
    const { booking, manage_token: token, manage_url: link } = created.body;
    await smtp.waitFor((m) => count(m, email, 'Confirmed') === 1 && count(m, STAFF_EMAIL, 'New booking') === 1);
    const confirmed = smtp.received.find(to(email))!;
    expect(confirmed.parsed.subject).toBe('Confirmed: Intro call on Mon 1 Feb, 04:00');
    expect(confirmed.parsed.text).toContain(link);
    expect(invitation(confirmed)).toMatchObject({
      method: 'REQUEST',
      sequence: 0,
      uid: `${booking.id}@booking.dramac`,
    });

    const moved = await agency.visit('POST', `/v1/booking/manage/reschedule?token=${token}`, {
      start: '2027-02-01T15:00:00+01:00',
    });
    expect(moved.status, moved.text).toBe(200);
    await smtp.waitFor((m) => count(m, email, 'Rescheduled') === 1 && count(m, STAFF_EMAIL, 'Rescheduled') === 1);
    const rescheduled = smtp.received.find((m) => to(email)(m) && m.parsed.subject?.startsWith('Rescheduled'))!;
    expect(rescheduled.parsed.subject).toBe('Rescheduled: Intro call on Mon 1 Feb, 09:00');
    expect(invitation(rescheduled)).toMatchObject({ method: 'REQUEST', sequence: 1 });
    expect(
      smtp.received.find((m) => to(STAFF_EMAIL)(m) && m.parsed.subject?.startsWith('Rescheduled'))!.parsed.subject,
    ).toBe('Rescheduled: Intro call with Ada Visitor on Mon 1 Feb, 15:00');

    const cancelled = await agency.visit('POST', `/v1/booking/manage/cancel?token=${token}`, { reason: 'Ill' });
    expect(cancelled.status, cancelled.text).toBe(200);
    await smtp.waitFor((m) => count(m, email, 'Cancelled') === 1 && count(m, STAFF_EMAIL, 'Cancelled') === 1);
    const withdrawn = invitation(smtp.received.find((m) => to(email)(m) && m.parsed.subject?.startsWith('Cancelled'))!);
    expect(withdrawn).toMatchObject({ method: 'CANCEL', status: 'CANCELLED', sequence: 2 });
    // Every reminder queued on the way was skipped; nothing else went out.
    const reminders = (await notifications(platform.db.knex, booking.id)).filter((r) => r.kind === 'reminder');
    expect(reminders.map((r) => [r.sequence, r.status]).sort()).toEqual([
      [0, 'skipped'],
      [0, 'skipped'],
      [1, 'skipped'],
      [1, 'skipped'],
    ]);
    expect(smtp.received).toHaveLength(6);
  });

  it('a booking moved to another staff member leaves the first one’s calendar and enters the second’s', async () => {
    const { smtp, agency } = await throughTheApi('Handover');
    const [first, second] = ['first@staff.example', 'second@staff.example'];
    const people = [];
    for (const [name, address] of [
      ['Sam', first],
      ['Kim', second],
    ]) {
      people.push(
        await create(agency, '/staff', {
          name,
          email: address,
          time_zone: 'Europe/Berlin',
          weekly_hours: WEEKDAYS_NINE_TO_FIVE,
        }),
      );
    }
    const service = await create(agency, '/services', {
      name: 'Intro call',
      duration_minutes: 60,
      booking_window_days: 730,
      staff_ids: people.map((person) => person.id),
    });
    const visitor = `${uuidv7()}@visitor.example`;
    const created = await agency.visit('POST', '/v1/booking/bookings', {
      service_id: service.id,
      staff_id: people[0].id,
      start: '2027-02-01T10:00:00+01:00',
      name: 'Ada Visitor',
      email: visitor,
    });
    expect(created.status, created.text).toBe(201);
    const { id } = created.body.booking;
    await smtp.waitFor((m) => count(m, first, 'New booking') === 1);
    const moved = await agency.call('POST', `${agency.base}/bookings/${id}/reschedule`, {
      start: '2027-02-01T14:00:00+01:00',
      staff_id: people[1].id,
    });
    expect(moved.status, moved.text).toBe(200);
    await smtp.waitFor(
      (m) =>
        count(m, first, 'Cancelled') === 1 &&
        count(m, second, 'New booking') === 1 &&
        count(m, visitor, 'Rescheduled') === 1,
    );
    const withdrawn = smtp.received.find((m) => to(first)(m) && m.parsed.subject?.startsWith('Cancelled'))!;
    expect(withdrawn.parsed.subject).toBe('Cancelled: Intro call with Ada Visitor on Mon 1 Feb, 10:00');
    expect(invitation(withdrawn)).toMatchObject({
      method: 'CANCEL',
      uid: `${id}@booking.dramac`,
      sequence: 1,
      start: new Date('2027-02-01T09:00:00Z'),
    });
    const taken = smtp.received.find((m) => to(second)(m))!;
    expect(taken.parsed.subject).toBe('New booking: Intro call with Ada Visitor on Mon 1 Feb, 14:00');
    expect(invitation(taken)).toMatchObject({
      method: 'REQUEST',
      sequence: 1,
      start: new Date('2027-02-01T13:00:00Z'),
    });
    expect(count(smtp.received, first, 'Rescheduled')).toBe(0);
  });
});
