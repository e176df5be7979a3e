import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { certainlyNotDelivered, type Mailer } from '../../platform/mail.js';
import { startPolling } from '../../platform/polling.js';
import { bookingEmail, type BookingFacts, type EmailKind, type Recipient } from './emails.js';
import { manageToken, manageUrl } from './tokens.js';

export type BookingChange = 'confirmation' | 'rescheduled' | 'cancellation';

const SCHEMA = 'mod_booking';
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const ERROR_EXCERPT = 500;

type Listener = () => void;
const listeners = new Set<Listener>();

/** Subscribes this process's booking mailers to `onBookingEmailsQueued` (they also poll, for other processes'). */
export function whenBookingEmailsQueued(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Wakes this process's mailers; call it once the transaction that queued emails has committed: `ctx.afterCommit(onBookingEmailsQueued)`. */
export function onBookingEmailsQueued(): void {
  for (const listener of listeners) listener();
}

/**
 * Queues the change's emails to the visitor and (when it has an email) the staff member, now; for
 * confirmation/rescheduled also one reminder per service offset still in the future (to the visitor), at
 * starts_at - offset. Cancellation and rescheduling mark the booking's pending reminders of earlier sequences
 * `skipped`. Runs in the caller's transaction (a tenant's, or the schema owner's): the emails exist exactly
 * when the change does. Queuing the same change twice adds nothing.
 */
export async function queueBookingEmails(
  tx: Knex.Transaction,
  booking: { id: string; agency_id: string; site_id: string; sequence: number; starts_at: Date },
  change: BookingChange,
  reminderOffsetsMinutes: number[],
  now: Date,
  /** A reschedule that handed the booking to another staff member: who had it, and when. */
  handover?: { staffId: string; startsAt: Date; endsAt: Date },
): Promise<void> {
  if (change !== 'confirmation') {
    await tx(`${SCHEMA}.notifications`)
      .where({ booking_id: booking.id, kind: 'reminder', status: 'pending' })
      .where('sequence', '<', booking.sequence)
      .update({
        status: 'skipped',
        last_error: `superseded: the booking was ${change === 'cancellation' ? 'cancelled' : 'moved'}`,
      });
  }
  const staff = (await tx(`${SCHEMA}.bookings as b`)
    .join(`${SCHEMA}.staff as s`, 's.id', 'b.staff_id')
    .where('b.id', booking.id)
    .first('s.email')) as { email: string | null } | undefined;
  const row = (kind: EmailKind, recipient: Recipient, sendAt: Date) => ({
    id: uuidv7(),
    agency_id: booking.agency_id,
    site_id: booking.site_id,
    booking_id: booking.id,
    kind,
    recipient,
    sequence: booking.sequence,
    send_at: sendAt,
  });
  const rows: (ReturnType<typeof row> & { staff_id?: string; starts_at?: Date; ends_at?: Date })[] = [
    row(change, 'visitor', now),
  ];
  if (handover) {
    // The first person's calendar loses the booking (at the time they had it); the second's gains it.
    rows.push({
      ...row('cancellation', 'staff', now),
      staff_id: handover.staffId,
      starts_at: handover.startsAt,
      ends_at: handover.endsAt,
    });
    if (staff?.email) rows.push(row('confirmation', 'staff', now));
  } else if (staff?.email) {
    rows.push(row(change, 'staff', now));
  }
  if (change !== 'cancellation') {
    const startsAt = new Date(booking.starts_at).getTime();
    for (const offset of new Set(reminderOffsetsMinutes)) {
      const sendAt = new Date(startsAt - offset * MINUTE);
      if (sendAt > now) rows.push(row('reminder', 'visitor', sendAt));
    }
  }
  await tx(`${SCHEMA}.notifications`)
    .insert(rows)
    .onConflict(['booking_id', 'kind', 'recipient', 'sequence', 'send_at'])
    .ignore();
}

export interface BookingMailerOptions {
  knex: Knex;
  logger: Logger;
  mailer: Mailer;
  /** SECRET_KEY: the visitors' manage links are signed under it. */
  secretKey: string;
  /** The clock (tests move it forward). */
  now: () => Date;
  /** How often to look for due emails (this process's commits wake it at once). */
  pollMs: number;
  /** Emails claimed per round. */
  batchSize: number;
  /** How long a claimed email is this worker's: longer than an SMTP conversation may last (see mail.ts). */
  leaseMs: number;
  /** The waits after failed attempts 1, 2 …; its length + 1 attempts in all. */
  retrySchedule: number[];
}

export const DEFAULT_BOOKING_MAILER_OPTIONS = {
  now: () => new Date(),
  pollMs: SECOND,
  batchSize: 20,
  leaseMs: 5 * MINUTE,
  retrySchedule: [MINUTE, 5 * MINUTE, 30 * MINUTE, 2 * HOUR],
};

export interface BookingMailer {
  /** Looks for due emails now. */
  nudge(): void;
  /** Stops claiming, waits for the emails in flight to be sent and recorded. */
  stop(): Promise<void>;
}

interface DueRow {
  id: string;
  booking_id: string;
  kind: EmailKind;
  recipient: Recipient;
  sequence: number;
  status: 'pending' | 'sending';
  attempts: number;
  booking_status: 'confirmed' | 'cancelled';
  booking_sequence: number;
  starts_at: Date;
  ends_at: Date;
  time_zone: string;
  name: string;
  email: string;
  page_url: string | null;
  cancellation_reason: string | null;
  service_name: string;
  staff_name: string;
  staff_email: string | null;
  staff_time_zone: string;
  site_name: string;
}

interface Claimed {
  row: DueRow;
  /** The attempt this is (the row's `attempts` once claimed): only its own outcome is recorded. */
  attempt: number;
}

/**
 * Sends the booking module's queued emails. Several processes may run it on one database, across tenants as
 * the schema owner (like the webhook worker): a claim locks due rows (`FOR UPDATE SKIP LOCKED`), reads the
 * booking as it is now, settles what is not to be sent (`skipped`), moves the rest to `sending` with a lease,
 * and commits before any SMTP conversation starts; each outcome is then recorded only if the row is still
 * that attempt's.
 *
 * A row found `sending` with its lease run out was claimed by a worker that died (or lost its database)
 * mid-send: the message may or may not have gone. A reminder is then marked `failed` and never retried — a
 * reminder sent twice is worse than one missing, and the visitor already holds the confirmation. A
 * confirmation, move or cancellation is retried: it carries the invitation that keeps the visitor's and the
 * staff member's calendars right, so losing it is worse than a duplicate (and calendars treat a repeated
 * invitation with the same UID and SEQUENCE as the same event). For the same reason a failed attempt of a
 * reminder is retried only when the message certainly did not leave (the server refused it, or no connection
 * was made); the others are retried on any failure.
 */
export function startBookingMailer(
  given: Partial<BookingMailerOptions> & Pick<BookingMailerOptions, 'knex' | 'logger' | 'mailer' | 'secretKey'>,
): BookingMailer {
  const options: BookingMailerOptions = { ...DEFAULT_BOOKING_MAILER_OPTIONS, ...given };
  const { knex, logger, mailer } = options;
  const maxAttempts = options.retrySchedule.length + 1;

  const polling = startPolling({ round, pollMs: options.pollMs, logger, name: 'booking mailer' });
  const nudge = polling.nudge;
  const unsubscribe = whenBookingEmailsQueued(nudge);

  /** Why a due row is not to be sent (or `null`: send it). */
  function refusal(row: DueRow, now: Date): { status: 'skipped' | 'failed'; reason: string } | null {
    if (row.status === 'sending' && row.kind === 'reminder') {
      return { status: 'failed', reason: 'interrupted while sending; a reminder is never retried after that' };
    }
    if (row.attempts >= maxAttempts) return { status: 'failed', reason: 'every attempt used' };
    if (row.kind === 'reminder') {
      if (row.booking_status === 'cancelled') return { status: 'skipped', reason: 'the booking was cancelled' };
      if (row.sequence !== row.booking_sequence) return { status: 'skipped', reason: 'the booking was moved' };
      if (new Date(row.starts_at) <= now) return { status: 'skipped', reason: 'the booking had already started' };
    }
    // A confirmation or move superseded before it went: the later email carries the booking as it is.
    if ((row.kind === 'confirmation' || row.kind === 'rescheduled') && row.sequence !== row.booking_sequence) {
      return { status: 'skipped', reason: 'superseded by a later change' };
    }
    if (row.recipient === 'staff' && !row.staff_email) {
      return { status: 'skipped', reason: 'the staff member has no email address' };
    }
    return null;
  }

  /** The rows to send now, and how many due rows the claim settled or took. */
  async function claim(): Promise<{ claimed: Claimed[]; found: number }> {
    return knex.transaction(async (tx) => {
      const now = options.now();
      const { rows } = (await tx.raw(
        `SELECT n.id, n.booking_id, n.kind, n.recipient, n.sequence, n.status, n.attempts,
                b.status AS booking_status, b.sequence AS booking_sequence,
                coalesce(n.starts_at, b.starts_at) AS starts_at, coalesce(n.ends_at, b.ends_at) AS ends_at, b.time_zone,
                b.name, b.email, b.page_url, b.cancellation_reason,
                sv.name AS service_name, st.name AS staff_name, st.email AS staff_email,
                st.time_zone AS staff_time_zone, si.name AS site_name
           FROM ${SCHEMA}.notifications n
           JOIN ${SCHEMA}.bookings b ON b.id = n.booking_id
           JOIN ${SCHEMA}.services sv ON sv.id = b.service_id
           JOIN ${SCHEMA}.staff st ON st.id = coalesce(n.staff_id, b.staff_id)
           JOIN public.sites si ON si.id = n.site_id
          WHERE n.send_at <= ?
            AND ((n.status = 'pending' AND (n.lease_until IS NULL OR n.lease_until <= ?))
                 OR (n.status = 'sending' AND n.lease_until <= ?))
          ORDER BY n.send_at, n.id
          LIMIT ?
          FOR UPDATE OF n SKIP LOCKED`,
        [now, now, now, options.batchSize],
      )) as { rows: DueRow[] };
      const claimed: Claimed[] = [];
      for (const row of rows) {
        const refused = refusal(row, now);
        if (refused) {
          await tx(`${SCHEMA}.notifications`)
            .where({ id: row.id })
            .update({ status: refused.status, last_error: refused.reason, lease_until: null });
          continue;
        }
        const [taken] = (await tx(`${SCHEMA}.notifications`)
          .where({ id: row.id })
          .update({
            status: 'sending',
            attempts: knex.raw('attempts + 1'),
            lease_until: new Date(now.getTime() + options.leaseMs),
          })
          .returning('attempts')) as { attempts: number }[];
        claimed.push({ row, attempt: taken!.attempts });
      }
      return { claimed, found: rows.length };
    });
  }

  function facts(row: DueRow): BookingFacts {
    return {
      bookingId: row.booking_id,
      sequence: row.sequence,
      startsAt: new Date(row.starts_at),
      endsAt: new Date(row.ends_at),
      name: row.name,
      email: row.email,
      timeZone: row.time_zone,
      cancellationReason: row.cancellation_reason,
      serviceName: row.service_name,
      staffName: row.staff_name,
      staffEmail: row.staff_email,
      staffTimeZone: row.staff_time_zone,
      siteName: row.site_name,
      manageUrl: manageUrl(row.page_url, manageToken(options.secretKey, row.booking_id)),
    };
  }

  async function sendOne({ row, attempt }: Claimed): Promise<void> {
    let error: unknown = null;
    try {
      await mailer.send(
        bookingEmail(facts(row), row.kind, row.recipient, { fromAddress: mailer.fromAddress, now: options.now() }),
      );
    } catch (caught) {
      error = caught;
    }
    const now = options.now();
    // Only this very attempt's record: after a lease ran out, another worker owns the row.
    const mine = () => knex(`${SCHEMA}.notifications`).where({ id: row.id, status: 'sending', attempts: attempt });
    if (!error) {
      const recorded = await mine().update({ status: 'sent', sent_at: now, lease_until: null, last_error: null });
      if (recorded === 0) logger.warn({ notification: row.id }, 'a booking email was sent after its lease ran out');
      return;
    }
    const message = (error instanceof Error ? error.message : String(error)).slice(0, ERROR_EXCERPT);
    const retry = attempt < maxAttempts && (row.kind !== 'reminder' || certainlyNotDelivered(error));
    logger.warn({ notification: row.id, kind: row.kind, attempt, err: error, retry }, 'sending a booking email failed');
    await mine().update(
      retry
        ? {
            status: 'pending',
            last_error: message,
            // While pending again, the lease is the earliest time of the next attempt.
            lease_until: new Date(now.getTime() + options.retrySchedule[attempt - 1]!),
          }
        : { status: 'failed', last_error: message, lease_until: null },
    );
  }

  /** One round: claim what is due and send it. Whether there may be more to do at once. */
  async function round(): Promise<boolean> {
    const { claimed, found } = await claim();
    await Promise.all(
      claimed.map((one) =>
        sendOne(one).catch((error: unknown) =>
          // The row stays `sending`; once its lease runs out the next claim settles it (see above).
          logger.error({ err: error, notification: one.row.id }, 'recording a booking email failed'),
        ),
      ),
    );
    return found >= options.batchSize;
  }

  return {
    nudge,
    async stop() {
      unsubscribe();
      await polling.stop();
    },
  };
}
