import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../../db/delete.js';
import { withPreparation, type Context, type Handlers, type OperationId, type Schemas } from '../../http/operations.js';
import { paginate } from '../../http/pagination.js';
import { badRequest, conflict, invalidField, notFound, Problem } from '../../http/problem.js';
import { normalizeOrigin } from '../../http/origins.js';
import { emitSiteEvent } from '../../webhooks/outbox.js';
import { requireInstalled } from '../installed.js';
import { availability, daysBetween, findFreeSlots, loadSchedules, rulesOf, type ServiceRow } from './availability.js';
import { onBookingEmailsQueued, queueBookingEmails, type BookingChange } from './notifications.js';
import {
  freeSlots,
  hoursProblem,
  isCalendarDate,
  isTimeZone,
  WEEKDAYS,
  type HoursRange,
  type WeeklyHours,
} from './time.js';
import { bookingOfToken, manageToken, manageUrl } from './tokens.js';

const MODULE_ID = 'booking';
const MINUTE = 60_000;
/** The most days one availability request covers (two months, whichever they are). */
const MAX_DAYS = 62;

const SERVICE_FIELDS = [
  'name',
  'description',
  'duration_minutes',
  'buffer_before_minutes',
  'buffer_after_minutes',
  'minimum_notice_minutes',
  'booking_window_days',
  'slot_interval_minutes',
  'capacity',
  'active',
] as const;

type BookingRow = {
  id: string;
  agency_id: string;
  site_id: string;
  service_id: string;
  staff_id: string;
  slot_id: string | null;
  starts_at: Date;
  ends_at: Date;
  time_zone: string;
  seats: number;
  status: 'confirmed' | 'cancelled';
  name: string;
  email: string;
  phone: string | null;
  answers: Record<string, string | boolean>;
  page_url: string | null;
  sequence: number;
  cancelled_at: Date | null;
  cancelled_by: 'visitor' | 'staff' | null;
  cancellation_reason: string | null;
  rescheduled_at: Date | null;
  created_at: Date;
  updated_at: Date;
  service_name: string;
  staff_name: string;
};

type AnyContext = Context<OperationId>;

/** A site of the tenant with the booking module installed on it, or 404. */
const bookingSite = (tx: Knex.Transaction, siteId: string) => requireInstalled(tx, siteId, MODULE_ID, 'booking');

/** The site a public operation works on: the publishable key's, or `site_id` for everyone else. */
async function publicSite(ctx: AnyContext & { query: { site_id?: string } }): Promise<string> {
  let siteId = ctx.principal.siteId;
  if (ctx.principal.kind !== 'publishable') {
    if (!ctx.query.site_id) {
      throw badRequest('site_id_required', 'Say which site: ?site_id=…', [
        { path: '/query/site_id', message: 'is required with a secret key, a session or a token' },
      ]);
    }
    siteId = ctx.query.site_id;
  }
  await bookingSite(ctx.tx, siteId!);
  return siteId!;
}

// ——— services ———

const SERVICE_COLUMNS = [
  's.*',
  `coalesce((SELECT array_agg(ss.staff_id ORDER BY ss.position, ss.staff_id) FROM mod_booking.service_staff ss
     WHERE ss.service_id = s.id), '{}') AS staff_ids`,
];

function serviceBody(row: Record<string, unknown>): Schemas['BookingService'] {
  return {
    id: row.id as string,
    site_id: row.site_id as string,
    name: row.name as string,
    description: row.description as string,
    duration_minutes: row.duration_minutes as number,
    price:
      row.price_amount === null ? null : { amount: Number(row.price_amount), currency: row.price_currency as string },
    buffer_before_minutes: row.buffer_before_minutes as number,
    buffer_after_minutes: row.buffer_after_minutes as number,
    minimum_notice_minutes: row.minimum_notice_minutes as number,
    booking_window_days: row.booking_window_days as number,
    slot_interval_minutes: row.slot_interval_minutes as number,
    capacity: row.capacity as number,
    questions: row.questions as Schemas['BookingQuestion'][],
    reminder_offsets_minutes: row.reminder_offsets_minutes as number[],
    staff_ids: row.staff_ids as string[],
    active: row.active as boolean,
    created_at: row.created_at as string,
    updated_at: row.updated_at as string,
  };
}

async function serviceOf(tx: Knex.Transaction, siteId: string, serviceId: string) {
  const row = (await tx('mod_booking.services as s')
    .where({ 's.site_id': siteId, 's.id': serviceId })
    .first(tx.raw(SERVICE_COLUMNS.join(', ')))) as Record<string, unknown> | undefined;
  if (!row) throw notFound('service');
  return row;
}

function checkQuestions(questions: Schemas['BookingQuestion'][] | undefined) {
  const seen = new Set<string>();
  questions?.forEach((question, index) => {
    if (seen.has(question.id)) throw invalidField(`questions/${index}/id`, `repeats the id ${question.id}`);
    seen.add(question.id);
    if (question.type === 'select' && !question.options?.length) {
      throw invalidField(`questions/${index}/options`, 'must list the choices of a select question');
    }
  });
}

/** The service's columns from a create or update body (`staff_ids` is saved apart). */
function serviceColumns(body: Schemas['BookingServiceFields']) {
  const columns: Record<string, unknown> = {};
  for (const field of SERVICE_FIELDS) if (body[field] !== undefined) columns[field] = body[field];
  if (body.price !== undefined) {
    columns.price_amount = body.price?.amount ?? null;
    columns.price_currency = body.price?.currency ?? null;
  }
  if (body.questions !== undefined) {
    checkQuestions(body.questions);
    columns.questions = JSON.stringify(body.questions);
  }
  if (body.reminder_offsets_minutes !== undefined) columns.reminder_offsets_minutes = body.reminder_offsets_minutes;
  return columns;
}

async function assignStaff(ctx: AnyContext, siteId: string, serviceId: string, staffIds: string[]) {
  const { tx } = ctx;
  const found = (await tx('mod_booking.staff')
    .where({ site_id: siteId })
    .whereIn('id', staffIds)
    .pluck('id')) as string[];
  const missing = staffIds.findIndex((id) => !found.includes(id));
  if (missing !== -1) throw invalidField(`staff_ids/${missing}`, 'is not a staff member of this site');
  await tx('mod_booking.service_staff').where({ service_id: serviceId }).delete();
  if (staffIds.length > 0) {
    await tx('mod_booking.service_staff').insert(
      staffIds.map((staffId, position) => ({
        agency_id: ctx.agencyId,
        site_id: siteId,
        service_id: serviceId,
        staff_id: staffId,
        position,
      })),
    );
  }
}

// ——— staff ———

const STAFF_COLUMNS = ['id', 'site_id', 'name', 'email', 'time_zone', 'weekly_hours', 'created_at', 'updated_at'];

function checkWeeklyHours(hours: WeeklyHours) {
  for (const day of WEEKDAYS) {
    const problem = hours[day] && hoursProblem(hours[day]);
    if (problem) throw invalidField(`weekly_hours/${day}`, problem);
  }
}

function checkTimeZone(zone: string, path: string) {
  if (!isTimeZone(zone)) {
    throw new Problem(422, 'invalid_time_zone', 'Unprocessable', `${zone} is not an IANA time zone.`, [
      { path, message: 'is not an IANA time zone (like Europe/Berlin)' },
    ]);
  }
}

function checkDate(date: string, path: string) {
  if (!isCalendarDate(date))
    throw badRequest('validation_failed', `${date} is not a date.`, [{ path, message: 'is not a date' }]);
}

async function staffOf(tx: Knex.Transaction, siteId: string, staffId: string) {
  const staff = await tx('mod_booking.staff').where({ site_id: siteId, id: staffId }).first(STAFF_COLUMNS);
  if (!staff) throw notFound('staff member');
  return staff as Schemas['BookingStaff'];
}

/**
 * Deletes a service or a person unless anything was ever booked with them (`409 has_bookings`): bookings are
 * history, and history is not deleted with them. Their row is locked first, so a booking made meanwhile
 * (which takes a key-share lock on it) waits, and then finds it gone.
 */
async function deleteUnlessBooked(
  tx: Knex.Transaction,
  table: 'services' | 'staff',
  id: string,
  refusal: string,
): Promise<void> {
  await tx(`mod_booking.${table}`).where({ id }).forUpdate().first('id');
  const column = table === 'services' ? 'service_id' : 'staff_id';
  if (await tx('mod_booking.bookings').where(column, id).first('id')) throw conflict('has_bookings', refusal);
  await deleteRows(tx(`mod_booking.${table}`).where({ id }));
}

// ——— bookings ———

const BOOKING_COLUMNS = ['b.*', 'sv.name AS service_name', 'st.name AS staff_name'];

const bookings = (tx: Knex.Transaction) =>
  tx('mod_booking.bookings as b')
    .join('mod_booking.services as sv', 'sv.id', 'b.service_id')
    .join('mod_booking.staff as st', 'st.id', 'b.staff_id');

function bookingBody(row: BookingRow): Schemas['Booking'] {
  return {
    id: row.id,
    site_id: row.site_id,
    service_id: row.service_id,
    service_name: row.service_name,
    staff_id: row.staff_id,
    staff_name: row.staff_name,
    start: row.starts_at as unknown as string,
    end: row.ends_at as unknown as string,
    time_zone: row.time_zone,
    seats: row.seats,
    status: row.status,
    name: row.name,
    email: row.email,
    phone: row.phone,
    answers: row.answers,
    cancelled_at: row.cancelled_at as unknown as string | null,
    cancelled_by: row.cancelled_by,
    cancellation_reason: row.cancellation_reason,
    rescheduled_at: row.rescheduled_at as unknown as string | null,
    created_at: row.created_at as unknown as string,
    updated_at: row.updated_at as unknown as string,
  };
}

async function bookingOf(tx: Knex.Transaction, siteId: string, bookingId: string, lock = false): Promise<BookingRow> {
  const query = bookings(tx).where({ 'b.site_id': siteId, 'b.id': bookingId }).first(BOOKING_COLUMNS);
  if (lock) query.forUpdate('b');
  const row = (await query) as BookingRow | undefined;
  if (!row) throw notFound('booking');
  return row;
}

async function loadService(tx: Knex.Transaction, siteId: string, serviceId: string): Promise<ServiceRow> {
  const service = (await tx('mod_booking.services').where({ site_id: siteId, id: serviceId }).first()) as
    ServiceRow | undefined;
  if (!service) throw notFound('service');
  return service;
}

/** The answers a service's questions allow: every required one given, each of its type, no others. */
function checkAnswers(service: ServiceRow, answers: Record<string, string | boolean>) {
  const questions = new Map(service.questions.map((question) => [question.id, question]));
  for (const id of Object.keys(answers)) {
    if (!questions.has(id)) throw invalidField(`answers/${id}`, 'answers no question of this service');
  }
  for (const question of service.questions) {
    const answer = answers[question.id];
    const path = `answers/${question.id}`;
    if (answer !== undefined && (question.type === 'checkbox') !== (typeof answer === 'boolean')) {
      throw invalidField(path, question.type === 'checkbox' ? 'must be true or false' : 'must be text');
    }
    // A required checkbox is a consent: only `true` answers it.
    if (answer === undefined || answer === '' || answer === false) {
      if (question.required) throw invalidField(path, 'is required');
      continue;
    }
    if (question.type === 'select' && !question.options?.includes(answer as string)) {
      throw invalidField(path, 'is not one of the choices');
    }
    if (question.type === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(answer as string)) {
      throw invalidField(path, 'is not an email address');
    }
    if (question.type === 'phone' && !/^[+0-9 ()./-]{3,40}$/.test(answer as string)) {
      throw invalidField(path, 'is not a phone number');
    }
  }
}

const slotTaken = () => conflict('slot_taken', 'Someone else has just booked this time. Pick another slot.');

const slotUnavailable = (detail: string) =>
  new Problem(422, 'slot_unavailable', 'Unprocessable', detail, [{ path: '/body/start', message: detail }]);

/**
 * Holds `seats` of the slot at `start` with one of `staffIds` (in order) — the database decides: a group
 * session of the service starting then takes them while it has room, else a new hold is inserted, which the
 * exclusion constraint refuses when it would overlap another of that person's holds. Another request may
 * commit in between: a refused insert looks again for the group session it may have made.
 */
async function takeSlot(
  tx: Knex.Transaction,
  row: { agencyId: string; siteId: string; service: ServiceRow; start: number; seats: number },
  staffIds: string[],
): Promise<{ slotId: string; staffId: string } | null> {
  const { service, start, seats } = row;
  const startsAt = new Date(start).toISOString();
  const blocked = `[${new Date(start - service.buffer_before_minutes * MINUTE).toISOString()},${new Date(
    start + (service.duration_minutes + service.buffer_after_minutes) * MINUTE,
  ).toISOString()})`;
  const joinGroup = async (staffId: string) => {
    if (service.capacity === 1) return null;
    const [joined] = (await tx('mod_booking.slots')
      .where({ staff_id: staffId, service_id: service.id, starts_at: startsAt })
      .whereRaw('seats_taken + ? <= capacity', [seats])
      .update({ seats_taken: tx.raw('seats_taken + ?', [seats]) })
      .returning('id')) as { id: string }[];
    return joined?.id ?? null;
  };
  for (const staffId of staffIds) {
    const group = await joinGroup(staffId);
    if (group) return { slotId: group, staffId };
    if (seats > service.capacity) continue;
    const { rows } = (await tx.raw(
      `INSERT INTO mod_booking.slots (id, agency_id, site_id, staff_id, service_id, starts_at, blocked, capacity, seats_taken)
       VALUES (?, ?, ?, ?, ?, ?, ?::tstzrange, ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
      [uuidv7(), row.agencyId, row.siteId, staffId, service.id, startsAt, blocked, service.capacity, seats],
    )) as { rows: { id: string }[] };
    if (rows[0]) return { slotId: rows[0].id, staffId };
    const raced = await joinGroup(staffId);
    if (raced) return { slotId: raced, staffId };
  }
  return null;
}

/** Gives a booking's seats back; the hold goes with its last seat. */
async function releaseSlot(tx: Knex.Transaction, booking: Pick<BookingRow, 'slot_id' | 'seats'>) {
  if (!booking.slot_id) return;
  // The update re-reads the row after a concurrent one (another seat given back at the same time): it
  // decrements only while seats remain after it, and otherwise the hold goes.
  const [kept] = (await tx('mod_booking.slots')
    .where({ id: booking.slot_id })
    .where('seats_taken', '>', booking.seats)
    .update({ seats_taken: tx.raw('seats_taken - ?', [booking.seats]) })
    .returning('id')) as { id: string }[];
  if (!kept) await tx('mod_booking.slots').where({ id: booking.slot_id }).delete();
}

/**
 * Finds who can take `seats` at `start` as availability would offer it, and holds it. `409 slot_taken` when
 * the time is a slot of the service but no one is free then any more; `422 slot_unavailable` when it is no
 * slot at all (outside the hours, the notice or the window, off the grid).
 */
async function book(
  ctx: AnyContext,
  siteId: string,
  service: ServiceRow,
  request: { start: string; staffId?: string; seats: number },
): Promise<{ slotId: string; staffId: string; start: number }> {
  const start = Date.parse(request.start);
  if (!service.active) throw slotUnavailable('The service is not offered at the moment.');
  if (request.seats > service.capacity) {
    throw slotUnavailable(`A slot of this service has ${service.capacity} seat${service.capacity === 1 ? '' : 's'}.`);
  }
  const window = { staffId: request.staffId, from: start, to: start + 1, now: Date.now() };
  const free = (await findFreeSlots(ctx.tx, service, window)).find((slot) => slot.start === start);
  if (!free) {
    // Would it be a slot if nobody had booked anything? Then it was taken; else it never was one.
    if (await isSlotOfSchedule(ctx.tx, service, window)) throw slotTaken();
    throw slotUnavailable('No slot of this service starts then: ask availability for the free times.');
  }
  const held = await takeSlot(
    ctx.tx,
    { agencyId: ctx.agencyId, siteId, service, start, seats: request.seats },
    free.staffIds,
  );
  if (!held) throw slotTaken();
  return { ...held, start };
}

/** Whether `window.from` would be a slot of the service if no one had booked anything. */
async function isSlotOfSchedule(
  tx: Knex.Transaction,
  service: ServiceRow,
  window: { staffId?: string; from: number; to: number; now: number },
): Promise<boolean> {
  const staff = await loadSchedules(tx, service.id, window.staffId, window.from, window.to);
  return freeSlots({ rules: rulesOf(service), staff, holds: new Map(), ...window }).some(
    (slot) => slot.start === window.from,
  );
}

/** The page the visitor booked on, if it is on one of the site's allowed origins. */
async function pageUrlOf(ctx: AnyContext, siteId: string, given: string | undefined): Promise<string | null> {
  const origin = ctx.request.get('origin');
  const candidate = given ?? (ctx.principal.kind === 'publishable' && origin ? `${origin}/` : undefined);
  if (!candidate) return null;
  const isAllowed = async (url: string) => {
    const normalized =
      URL.canParse(url) && /^https?:$/.test(new URL(url).protocol) && normalizeOrigin(new URL(url).origin);
    return Boolean(
      normalized &&
      'origin' in normalized &&
      (await ctx.tx('site_origins').where({ site_id: siteId, origin: normalized.origin }).first('id')),
    );
  };
  if (await isAllowed(candidate)) return candidate;
  // A page of the iframe embed (the key's site, under the frames' own origin) is no page to come back to.
  const fromFrame = ctx.principal.kind === 'publishable' && origin !== undefined && !(await isAllowed(origin));
  if (given === undefined || fromFrame) return null;
  throw invalidField('page_url', "is not a web page on one of the site's allowed origins");
}

const eventPayload = (row: BookingRow, extra: Record<string, unknown> = {}) => ({
  id: row.id,
  service_id: row.service_id,
  staff_id: row.staff_id,
  start: new Date(row.starts_at).toISOString(),
  end: new Date(row.ends_at).toISOString(),
  time_zone: row.time_zone,
  seats: row.seats,
  status: row.status,
  name: row.name,
  email: row.email,
  phone: row.phone,
  ...extra,
});

/** The change's event and emails, in the request's transaction; the mailer is nudged once it commits. */
async function announce(
  ctx: AnyContext,
  row: BookingRow,
  change: BookingChange,
  service: Pick<ServiceRow, 'reminder_offsets_minutes'>,
  moved?: { from: BookingRow },
) {
  const type = { confirmation: 'created', rescheduled: 'rescheduled', cancellation: 'cancelled' }[change];
  const extra = moved && { previous_start: new Date(moved.from.starts_at).toISOString() };
  await emitSiteEvent(ctx, row.site_id, `booking.booking.${type}`, eventPayload(row, extra));
  const previous = moved?.from;
  const handover =
    previous && previous.staff_id !== row.staff_id
      ? { staffId: previous.staff_id, startsAt: previous.starts_at, endsAt: previous.ends_at }
      : undefined;
  await queueBookingEmails(ctx.tx, row, change, service.reminder_offsets_minutes, new Date(), handover);
  ctx.afterCommit(onBookingEmailsQueued);
}

async function cancel(ctx: AnyContext, siteId: string, bookingId: string, by: 'visitor' | 'staff', reason?: string) {
  const booking = await bookingOf(ctx.tx, siteId, bookingId, true);
  if (booking.status === 'cancelled') throw conflict('booking_cancelled', 'The booking is cancelled already.');
  if (by === 'visitor' && new Date(booking.starts_at).getTime() <= Date.now()) {
    throw conflict('booking_started', 'The booking has started or is over: it can no longer be cancelled.');
  }
  await releaseSlot(ctx.tx, booking);
  await ctx
    .tx('mod_booking.bookings')
    .where({ id: booking.id })
    .update({
      status: 'cancelled',
      slot_id: null,
      cancelled_at: ctx.tx.fn.now(),
      cancelled_by: by,
      cancellation_reason: reason ?? null,
      sequence: booking.sequence + 1,
      updated_at: ctx.tx.fn.now(),
    });
  const updated = await bookingOf(ctx.tx, siteId, bookingId);
  const service = await loadService(ctx.tx, siteId, booking.service_id);
  await announce(ctx, updated, 'cancellation', service);
  return bookingBody(updated);
}

async function reschedule(
  ctx: AnyContext,
  siteId: string,
  bookingId: string,
  body: Schemas['BookingReschedule'],
  by: 'visitor' | 'staff',
) {
  const booking = await bookingOf(ctx.tx, siteId, bookingId, true);
  if (booking.status === 'cancelled') throw conflict('booking_cancelled', 'A cancelled booking cannot be moved.');
  if (by === 'visitor' && new Date(booking.starts_at).getTime() <= Date.now()) {
    throw conflict('booking_started', 'The booking has started or is over: it can no longer be moved.');
  }
  const service = await loadService(ctx.tx, siteId, booking.service_id);
  // Its own time is free for it: give it back first (a refusal below rolls everything back).
  await releaseSlot(ctx.tx, booking);
  const held = await book(ctx, siteId, service, {
    start: body.start,
    staffId: body.staff_id,
    seats: booking.seats,
  });
  await ctx
    .tx('mod_booking.bookings')
    .where({ id: booking.id })
    .update({
      slot_id: held.slotId,
      staff_id: held.staffId,
      starts_at: new Date(held.start),
      ends_at: new Date(held.start + service.duration_minutes * MINUTE),
      rescheduled_at: ctx.tx.fn.now(),
      sequence: booking.sequence + 1,
      updated_at: ctx.tx.fn.now(),
    });
  const updated = await bookingOf(ctx.tx, siteId, bookingId);
  await announce(ctx, updated, 'rescheduled', service, { from: booking });
  return bookingBody(updated);
}

/** The booking a visitor's token names, on the key's site; a token of another booking or site is a 404. */
async function managed(ctx: AnyContext & { query: { token: string } }): Promise<{ siteId: string; bookingId: string }> {
  const bookingId = bookingOfToken(ctx.secretKey, ctx.query.token);
  if (!bookingId) throw notFound('booking');
  const siteId = ctx.principal.siteId!;
  await bookingSite(ctx.tx, siteId);
  return { siteId, bookingId };
}

type BookingHandlers = Pick<
  Handlers,
  | 'listBookingServices'
  | 'createBookingService'
  | 'getBookingService'
  | 'updateBookingService'
  | 'deleteBookingService'
  | 'listBookingStaff'
  | 'createBookingStaff'
  | 'getBookingStaff'
  | 'updateBookingStaff'
  | 'deleteBookingStaff'
  | 'listBookingOverrides'
  | 'putBookingOverride'
  | 'deleteBookingOverride'
  | 'listBookings'
  | 'getBooking'
  | 'cancelBooking'
  | 'rescheduleBooking'
  | 'listPublicBookingServices'
  | 'getBookingAvailability'
  | 'createBooking'
  | 'getManagedBooking'
  | 'cancelManagedBooking'
  | 'rescheduleManagedBooking'
>;

export const bookingHandlers: BookingHandlers = {
  async listBookingServices({ tx, params, query }) {
    await bookingSite(tx, params.siteId);
    const rows = tx('mod_booking.services as s')
      .where('s.site_id', params.siteId)
      .select(tx.raw(SERVICE_COLUMNS.join(', ')));
    return { status: 200, body: await paginate(rows, { column: 's.id', field: 'id' }, query, serviceBody) };
  },

  async createBookingService(ctx) {
    const { tx, params, body } = ctx;
    await bookingSite(tx, params.siteId);
    const id = uuidv7();
    await tx('mod_booking.services').insert({
      id,
      agency_id: ctx.agencyId,
      site_id: params.siteId,
      slot_interval_minutes: body.slot_interval_minutes ?? body.duration_minutes,
      ...serviceColumns(body),
    });
    await assignStaff(ctx, params.siteId, id, body.staff_ids ?? []);
    return { status: 201, body: serviceBody(await serviceOf(tx, params.siteId, id)) };
  },

  async getBookingService({ tx, params }) {
    await bookingSite(tx, params.siteId);
    return { status: 200, body: serviceBody(await serviceOf(tx, params.siteId, params.serviceId)) };
  },

  async updateBookingService(ctx) {
    const { tx, params, body } = ctx;
    await bookingSite(tx, params.siteId);
    await serviceOf(tx, params.siteId, params.serviceId);
    const columns = serviceColumns(body);
    await tx('mod_booking.services')
      .where({ id: params.serviceId })
      .update({ ...columns, updated_at: tx.fn.now() });
    if (body.staff_ids) await assignStaff(ctx, params.siteId, params.serviceId, body.staff_ids);
    return { status: 200, body: serviceBody(await serviceOf(tx, params.siteId, params.serviceId)) };
  },

  async deleteBookingService({ tx, params }) {
    await bookingSite(tx, params.siteId);
    await serviceOf(tx, params.siteId, params.serviceId);
    await deleteUnlessBooked(
      tx,
      'services',
      params.serviceId,
      'The service has bookings, which are kept: deactivate it instead.',
    );
    return { status: 204 };
  },

  async listBookingStaff({ tx, params, query }) {
    await bookingSite(tx, params.siteId);
    const rows = tx('mod_booking.staff').where({ site_id: params.siteId }).select(STAFF_COLUMNS);
    return { status: 200, body: await paginate(rows, 'id', query, (row) => row as Schemas['BookingStaff']) };
  },

  async createBookingStaff(ctx) {
    const { tx, params, body } = ctx;
    await bookingSite(tx, params.siteId);
    checkTimeZone(body.time_zone, '/body/time_zone');
    checkWeeklyHours(body.weekly_hours ?? {});
    const [staff] = await tx('mod_booking.staff')
      .insert({
        id: uuidv7(),
        agency_id: ctx.agencyId,
        site_id: params.siteId,
        name: body.name,
        email: body.email ?? null,
        time_zone: body.time_zone,
        weekly_hours: JSON.stringify(body.weekly_hours ?? {}),
      })
      .returning(STAFF_COLUMNS);
    return { status: 201, body: staff as Schemas['BookingStaff'] };
  },

  async getBookingStaff({ tx, params }) {
    await bookingSite(tx, params.siteId);
    return { status: 200, body: await staffOf(tx, params.siteId, params.staffId) };
  },

  async updateBookingStaff({ tx, params, body }) {
    await bookingSite(tx, params.siteId);
    await staffOf(tx, params.siteId, params.staffId);
    if (body.time_zone !== undefined) checkTimeZone(body.time_zone, '/body/time_zone');
    if (body.weekly_hours !== undefined) checkWeeklyHours(body.weekly_hours);
    const [staff] = await tx('mod_booking.staff')
      .where({ id: params.staffId })
      .update({
        ...(body.name !== undefined && { name: body.name }),
        ...(body.email !== undefined && { email: body.email }),
        ...(body.time_zone !== undefined && { time_zone: body.time_zone }),
        ...(body.weekly_hours !== undefined && { weekly_hours: JSON.stringify(body.weekly_hours) }),
        updated_at: tx.fn.now(),
      })
      .returning(STAFF_COLUMNS);
    return { status: 200, body: staff as Schemas['BookingStaff'] };
  },

  async deleteBookingStaff({ tx, params }) {
    await bookingSite(tx, params.siteId);
    await staffOf(tx, params.siteId, params.staffId);
    await deleteUnlessBooked(
      tx,
      'staff',
      params.staffId,
      'They have bookings, which are kept: take them off their services instead.',
    );
    return { status: 204 };
  },

  async listBookingOverrides({ tx, params, query }) {
    await bookingSite(tx, params.siteId);
    await staffOf(tx, params.siteId, params.staffId);
    const rows = tx('mod_booking.schedule_overrides')
      .where({ staff_id: params.staffId })
      .orderBy('date')
      .limit(1000)
      .select(tx.raw(`to_char(date, 'YYYY-MM-DD') AS date`), 'hours');
    if (query.from) {
      checkDate(query.from, '/query/from');
      rows.where('date', '>=', query.from);
    }
    if (query.to) {
      checkDate(query.to, '/query/to');
      rows.where('date', '<=', query.to);
    }
    return { status: 200, body: { data: (await rows) as Schemas['BookingOverride'][] } };
  },

  async putBookingOverride(ctx) {
    const { tx, params, body } = ctx;
    await bookingSite(tx, params.siteId);
    await staffOf(tx, params.siteId, params.staffId);
    checkDate(params.date, '/path/date');
    const problem = hoursProblem(body.hours);
    if (problem) throw invalidField('hours', problem);
    await tx('mod_booking.schedule_overrides')
      .insert({
        agency_id: ctx.agencyId,
        site_id: params.siteId,
        staff_id: params.staffId,
        date: params.date,
        hours: JSON.stringify(body.hours),
      })
      .onConflict(['staff_id', 'date'])
      .merge(['hours']);
    return { status: 200, body: { date: params.date, hours: body.hours as HoursRange[] } };
  },

  async deleteBookingOverride({ tx, params }) {
    await bookingSite(tx, params.siteId);
    await staffOf(tx, params.siteId, params.staffId);
    checkDate(params.date, '/path/date');
    const deleted = (await tx('mod_booking.schedule_overrides')
      .where({ staff_id: params.staffId, date: params.date })
      .delete()
      .returning('date')) as unknown[];
    if (deleted.length === 0) throw notFound('override');
    return { status: 204 };
  },

  async listBookings({ tx, params, query }) {
    await bookingSite(tx, params.siteId);
    const limit = query.limit ?? 20;
    const rows = bookings(tx)
      .where('b.site_id', params.siteId)
      .orderBy([{ column: 'b.starts_at' }, { column: 'b.id' }])
      .limit(limit + 1)
      .select(BOOKING_COLUMNS);
    if (query.from) rows.where('b.starts_at', '>=', query.from);
    if (query.to) rows.where('b.starts_at', '<', query.to);
    if (query.status) rows.where('b.status', query.status);
    if (query.staff_id) rows.where('b.staff_id', query.staff_id);
    if (query.service_id) rows.where('b.service_id', query.service_id);
    if (query.cursor) {
      const [at, id] = Buffer.from(query.cursor, 'base64url').toString().split('|');
      if (!at || !id || Number.isNaN(Date.parse(at)) || !/^[0-9a-f-]{36}$/.test(id)) {
        throw badRequest('invalid_cursor', 'The cursor is not one this API returned; start again without it.');
      }
      rows.whereRaw('(b.starts_at, b.id) > (?::timestamptz, ?::uuid)', [at, id]);
    }
    const found = (await rows) as BookingRow[];
    const page = found.slice(0, limit);
    const last = page.at(-1);
    return {
      status: 200,
      body: {
        data: page.map(bookingBody),
        has_more: found.length > limit,
        next_cursor:
          found.length > limit && last
            ? Buffer.from(`${new Date(last.starts_at).toISOString()}|${last.id}`).toString('base64url')
            : null,
      },
    };
  },

  async getBooking({ tx, params }) {
    await bookingSite(tx, params.siteId);
    return { status: 200, body: bookingBody(await bookingOf(tx, params.siteId, params.bookingId)) };
  },

  async cancelBooking(ctx) {
    await bookingSite(ctx.tx, ctx.params.siteId);
    return { status: 200, body: await cancel(ctx, ctx.params.siteId, ctx.params.bookingId, 'staff', ctx.body?.reason) };
  },

  async rescheduleBooking(ctx) {
    await bookingSite(ctx.tx, ctx.params.siteId);
    return { status: 200, body: await reschedule(ctx, ctx.params.siteId, ctx.params.bookingId, ctx.body, 'staff') };
  },

  async listPublicBookingServices(ctx) {
    const siteId = await publicSite(ctx);
    const rows = (await ctx
      .tx('mod_booking.services as s')
      .where({ 's.site_id': siteId, 's.active': true })
      .orderBy('s.id')
      .limit(200)
      .select(
        's.id',
        's.name',
        's.description',
        's.duration_minutes',
        's.price_amount',
        's.price_currency',
        's.capacity',
        's.questions',
        ctx.tx.raw(
          `coalesce((SELECT json_agg(json_build_object('id', st.id, 'name', st.name) ORDER BY ss.position, st.id)
             FROM mod_booking.service_staff ss JOIN mod_booking.staff st ON st.id = ss.staff_id
            WHERE ss.service_id = s.id), '[]') AS staff`,
        ),
      )) as Record<string, unknown>[];
    return {
      status: 200,
      body: {
        data: rows.map((row) => ({
          id: row.id as string,
          name: row.name as string,
          description: row.description as string,
          duration_minutes: row.duration_minutes as number,
          price:
            row.price_amount === null
              ? null
              : { amount: Number(row.price_amount), currency: row.price_currency as string },
          capacity: row.capacity as number,
          questions: row.questions as Schemas['BookingQuestion'][],
          staff: row.staff as { id: string; name: string }[],
        })),
      },
    };
  },

  async getBookingAvailability(ctx) {
    const { tx, query } = ctx;
    const siteId = await publicSite(ctx);
    const zone = query.time_zone ?? 'UTC';
    checkTimeZone(zone, '/query/time_zone');
    checkDate(query.from, '/query/from');
    checkDate(query.to, '/query/to');
    const days = daysBetween(query.from, query.to);
    if (days < 1 || days > MAX_DAYS) {
      throw badRequest('validation_failed', `Ask for 1 to ${MAX_DAYS} days at once.`, [
        { path: '/query/to', message: `must be on or after from, at most ${MAX_DAYS - 1} days later` },
      ]);
    }
    const service = await loadService(tx, siteId, query.service_id);
    if (!service.active && ctx.principal.kind === 'publishable') throw notFound('service');
    const body = await availability(tx, service, {
      staffId: query.staff_id,
      first: query.from,
      last: query.to,
      zone,
      now: Date.now(),
    });
    return { status: 200, body };
  },

  createBooking: withPreparation(
    async ({ principal, limits, request, body }) => {
      if (principal.kind !== 'publishable') return;
      await limits.consume('bookings', `${request.ip}|${principal.siteId}`);
      await limits.consume('bookingsPerEmail', `${body.email.toLowerCase()}|${principal.siteId}`);
    },
    async (ctx) => {
      const { tx, body } = ctx;
      const siteId = await publicSite(ctx);
      const zone = body.time_zone ?? 'UTC';
      checkTimeZone(zone, '/body/time_zone');
      const service = await loadService(tx, siteId, body.service_id);
      checkAnswers(service, body.answers ?? {});
      const pageUrl = await pageUrlOf(ctx, siteId, body.page_url);
      const held = await book(ctx, siteId, service, {
        start: body.start,
        staffId: body.staff_id,
        seats: body.seats ?? 1,
      });
      const id = uuidv7();
      await tx('mod_booking.bookings').insert({
        id,
        agency_id: ctx.agencyId,
        site_id: siteId,
        service_id: service.id,
        staff_id: held.staffId,
        slot_id: held.slotId,
        starts_at: new Date(held.start),
        ends_at: new Date(held.start + service.duration_minutes * MINUTE),
        time_zone: zone,
        seats: body.seats ?? 1,
        name: body.name,
        email: body.email,
        phone: body.phone ?? null,
        answers: JSON.stringify(body.answers ?? {}),
        page_url: pageUrl,
      });
      const booking = await bookingOf(tx, siteId, id);
      await announce(ctx, booking, 'confirmation', service);
      const token = manageToken(ctx.secretKey, id);
      return {
        status: 201,
        body: { booking: bookingBody(booking), manage_token: token, manage_url: manageUrl(pageUrl, token) },
      };
    },
  ),

  async getManagedBooking(ctx) {
    const { siteId, bookingId } = await managed(ctx);
    return { status: 200, body: bookingBody(await bookingOf(ctx.tx, siteId, bookingId)) };
  },

  async cancelManagedBooking(ctx) {
    const { siteId, bookingId } = await managed(ctx);
    return { status: 200, body: await cancel(ctx, siteId, bookingId, 'visitor', ctx.body?.reason) };
  },

  async rescheduleManagedBooking(ctx) {
    const { siteId, bookingId } = await managed(ctx);
    return { status: 200, body: await reschedule(ctx, siteId, bookingId, ctx.body, 'visitor') };
  },
};
