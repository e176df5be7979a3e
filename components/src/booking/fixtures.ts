/**
 * Canned booking data and a stand-in for the booking API at the fetch level, shared by the stories and the
 * tests: the element's real client builds real requests, and these answer them.
 *
 * Free slots are generated for whatever range is asked: 09:00 and 15:00 UTC on Tuesdays and Thursdays from
 * today on, grouped by the days of the asked time zone and written with its offset, as the API does.
 */
import type { components } from '@dramac/sdk';
import { addDays, toDate, todayIn } from './dates.js';

export type BookingPublicService = components['schemas']['BookingPublicService'];
export type BookingAvailability = components['schemas']['BookingAvailability'];
export type Booking = components['schemas']['Booking'];
export type BookingConfirmation = components['schemas']['BookingConfirmation'];
type Problem = components['schemas']['Problem'];

export const fixtureApiBase = 'https://api.dramac.test';
export const fixtureKey = 'pk_test_booking';
export const fixtureToken = 'eyJib29raW5nIjoiMSJ9.c2lnbmF0dXJlX29mX3RoZV90b2tlbg';

export const staffIds = {
  ada: '6d1f6f43-5b0e-4a53-9a55-3c1f1b3f0001',
  grace: '6d1f6f43-5b0e-4a53-9a55-3c1f1b3f0002',
} as const;

export const introCall: BookingPublicService = {
  id: '3b8f2a34-1c7e-4d6b-8f61-0a2b3c4d0001',
  name: 'Intro call',
  description: 'A first, free conversation about your project.',
  duration_minutes: 30,
  price: null,
  capacity: 1,
  questions: [
    { id: 'company', label: 'Company', type: 'text', required: true },
    { id: 'topic', label: 'Topic', type: 'select', required: false, options: ['Website', 'Shop', 'Other'] },
    { id: 'notes', label: 'Anything we should know?', type: 'textarea', required: false },
    { id: 'newsletter', label: 'Send me the newsletter', type: 'checkbox', required: false },
  ],
  staff: [{ id: staffIds.ada, name: 'Ada Lovelace' }],
};

export const workshop: BookingPublicService = {
  id: '3b8f2a34-1c7e-4d6b-8f61-0a2b3c4d0002',
  name: 'Strategy workshop',
  description: 'Two hours with two of our consultants.',
  duration_minutes: 120,
  price: { amount: 49000, currency: 'EUR' },
  capacity: 6,
  questions: [],
  staff: [
    { id: staffIds.ada, name: 'Ada Lovelace' },
    { id: staffIds.grace, name: 'Grace Hopper' },
  ],
};

export const fixtureServices: BookingPublicService[] = [introCall, workshop];

/** The booking the manage view shows: the intro call on Thursday 14 January 2027, 15:00 UTC. */
export const managedBooking: Booking = {
  id: '9a0b1c2d-3e4f-4a5b-8c6d-7e8f90a10001',
  site_id: '1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f0001',
  service_id: introCall.id,
  service_name: introCall.name,
  staff_id: staffIds.ada,
  staff_name: 'Ada Lovelace',
  start: '2027-01-14T16:00:00+01:00',
  end: '2027-01-14T16:30:00+01:00',
  time_zone: 'Europe/Berlin',
  seats: 1,
  status: 'confirmed',
  name: 'Margaret Hamilton',
  email: 'margaret@example.com',
  phone: null,
  answers: { company: 'Apollo' },
  cancelled_at: null,
  cancelled_by: null,
  cancellation_reason: null,
  rescheduled_at: null,
  created_at: '2026-12-01T10:00:00Z',
  updated_at: '2026-12-01T10:00:00Z',
};

/** How the stand-in API behaves. */
export interface BookingScenario {
  services?: BookingPublicService[];
  /** Availability has no free slot at all. */
  noSlots?: boolean;
  /** These requests never get an answer (a loading state). */
  pending?: 'services' | 'availability' | 'manage';
  /** These requests fail with a 500 problem. */
  fail?: 'services' | 'availability' | 'manage';
  /** How `POST /v1/booking/bookings` answers (default: 201). */
  book?: 'created' | 'slot_taken' | 'slot_unavailable' | 'validation_failed';
  /** The booking `GET /v1/booking/manage` returns. */
  booking?: Booking;
}

/** An instant as the API writes it: the wall time of `timeZone` with its offset (`2027-01-12T10:00:00-05:00`). */
export function instantIn(instant: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'longOffset',
    })
      .formatToParts(instant)
      .map((part) => [part.type, part.value]),
  );
  const offset = parts.timeZoneName === 'GMT' ? '+00:00' : String(parts.timeZoneName).replace('GMT', '');
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}

/** Free slots for `from`…`to` in `timeZone`: 09:00 and 15:00 UTC on Tuesdays and Thursdays, from today on. */
export function fixtureAvailability(
  service: BookingPublicService,
  from: string,
  to: string,
  timeZone: string,
  noSlots = false,
): BookingAvailability {
  const today = todayIn(timeZone);
  const days: BookingAvailability['days'] = [];
  for (let date = from; date <= to; date = addDays(date, 1)) days.push({ date, slots: [] });
  if (noSlots) return { service_id: service.id, time_zone: timeZone, days };
  // UTC days one either side, so every slot that falls on an asked local day is found.
  for (let utcDay = addDays(from, -1); utcDay <= addDays(to, 1); utcDay = addDays(utcDay, 1)) {
    if (![2, 4].includes(toDate(utcDay).getUTCDay())) continue;
    for (const hour of ['09', '15']) {
      const start = new Date(`${utcDay}T${hour}:00:00Z`);
      const end = new Date(start.getTime() + service.duration_minutes * 60_000);
      const local = instantIn(start, timeZone);
      const day = days.find((candidate) => candidate.date === local.slice(0, 10));
      if (!day || day.date < today) continue;
      day.slots.push({
        start: local,
        end: instantIn(end, timeZone),
        staff_ids: service.staff.map((member) => member.id),
        seats_left: service.capacity,
      });
    }
  }
  return { service_id: service.id, time_zone: timeZone, days };
}

function problem(status: number, code: string, errors?: { path: string; message: string }[]): Response {
  const body: Problem = { type: `urn:dramac:problem:${code}`, title: code, status, code, ...(errors && { errors }) };
  return Response.json(body, { status, headers: { 'content-type': 'application/problem+json' } });
}

function never(request: Request): Promise<Response> {
  return new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(request.signal.reason)));
}

interface BookingCreateBody {
  service_id: string;
  staff_id?: string;
  start: string;
  time_zone?: string;
  name: string;
  email: string;
  phone?: string;
  answers?: Record<string, string | boolean>;
}

/** The API's answers to the booking element's requests, in a scenario. */
export function bookingResponder(scenario: BookingScenario = {}): (request: Request) => Promise<Response> {
  const services = scenario.services ?? fixtureServices;
  let current = scenario.booking ?? managedBooking;
  return async (request) => {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname}`;
    const kind = url.pathname.endsWith('/services')
      ? 'services'
      : url.pathname.endsWith('/availability')
        ? 'availability'
        : url.pathname.endsWith('/manage')
          ? 'manage'
          : undefined;
    if (kind && scenario.pending === kind) return never(request);
    if (kind && scenario.fail === kind) return problem(500, 'internal_error');

    switch (route) {
      case 'GET /v1/booking/services':
        return Response.json({ data: services });
      case 'GET /v1/booking/availability': {
        const service = services.find((candidate) => candidate.id === url.searchParams.get('service_id')) ?? introCall;
        const from = url.searchParams.get('from') ?? '';
        const to = url.searchParams.get('to') ?? '';
        const timeZone = url.searchParams.get('time_zone') ?? 'UTC';
        return Response.json(fixtureAvailability(service, from, to, timeZone, scenario.noSlots));
      }
      case 'POST /v1/booking/bookings': {
        if (scenario.book === 'slot_taken') return problem(409, 'slot_taken');
        if (scenario.book === 'slot_unavailable') return problem(422, 'slot_unavailable');
        if (scenario.book === 'validation_failed')
          return problem(400, 'validation_failed', [{ path: '/body/email', message: 'must match format "email"' }]);
        const body = (await request.clone().json()) as BookingCreateBody;
        const service = services.find((candidate) => candidate.id === body.service_id) ?? introCall;
        const staff = service.staff.find((member) => member.id === body.staff_id) ?? service.staff[0];
        const timeZone = body.time_zone ?? 'UTC';
        const end = new Date(new Date(body.start).getTime() + service.duration_minutes * 60_000);
        const booking: Booking = {
          ...managedBooking,
          service_id: service.id,
          service_name: service.name,
          staff_id: staff?.id ?? staffIds.ada,
          staff_name: staff?.name ?? '',
          start: body.start,
          end: instantIn(end, timeZone),
          time_zone: timeZone,
          name: body.name,
          email: body.email,
          phone: body.phone ?? null,
          answers: body.answers ?? {},
        };
        const confirmation: BookingConfirmation = {
          booking,
          manage_token: fixtureToken,
          manage_url: `https://www.example.com/book#dm-booking=${fixtureToken}`,
        };
        return Response.json(confirmation, { status: 201 });
      }
      case 'GET /v1/booking/manage':
        return Response.json(current);
      case 'POST /v1/booking/manage/cancel': {
        const { reason } = (await request
          .clone()
          .json()
          .catch(() => ({}))) as { reason?: string };
        current = {
          ...current,
          status: 'cancelled',
          cancelled_at: new Date().toISOString(),
          cancelled_by: 'visitor',
          cancellation_reason: reason ?? null,
        };
        return Response.json(current);
      }
      case 'POST /v1/booking/manage/reschedule': {
        if (scenario.book === 'slot_taken') return problem(409, 'slot_taken');
        const { start } = (await request.clone().json()) as { start: string };
        const duration = new Date(current.end).getTime() - new Date(current.start).getTime();
        const end = instantIn(new Date(new Date(start).getTime() + duration), current.time_zone);
        current = { ...current, start, end, rescheduled_at: new Date().toISOString() };
        return Response.json(current);
      }
      default:
        return problem(404, 'not_found');
    }
  };
}

/** A `fetch` answering the booking element's requests in a scenario (stories pass it as `.fetch`). */
export function bookingFetch(scenario: BookingScenario = {}): typeof globalThis.fetch {
  const respond = bookingResponder(scenario);
  return async (input, init) => respond(new Request(input, init));
}
