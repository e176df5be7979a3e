import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bookingAgency, create, publishBooking, WEEKDAYS_NINE_TO_FIVE, type BookingAgency } from './support/booking.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
/** The agency whose sites most tests book on, each test on a site of its own. */
let salon: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  await publishBooking(platform);
  salon = await populateAgency(platform, 'Salon');
});
afterAll(() => platform.close());

const HOUR = 3_600_000;

/** A service given by new staff members, on a fresh site (so no test's bookings meet another's). */
async function setUp(
  name: string,
  service: Record<string, unknown>,
  staff: Record<string, unknown>[] = [{ time_zone: 'Europe/Berlin', weekly_hours: WEEKDAYS_NINE_TO_FIVE }],
) {
  const agency = await bookingAgency(platform, name, salon);
  const people = [];
  for (const [index, person] of staff.entries()) {
    people.push(await create(agency, '/staff', { name: `Person ${index + 1}`, ...person }));
  }
  const created = await create(agency, '/services', {
    name: 'Intro call',
    duration_minutes: 60,
    booking_window_days: 730,
    staff_ids: people.map((person) => person.id),
    ...service,
  });
  return { agency, service: created, staff: people };
}

async function availability(agency: BookingAgency, query: Record<string, string>) {
  const reply = await agency.visit('GET', `/v1/booking/availability?${new URLSearchParams(query)}`);
  expect(reply.status, reply.text).toBe(200);
  return reply.body as {
    time_zone: string;
    days: { date: string; slots: { start: string; staff_ids: string[]; seats_left: number }[] }[];
  };
}

/** The slots' local starts (`HH:MM`) of one date, as the visitor's offsets show them. */
function startsOn(body: Awaited<ReturnType<typeof availability>>, date: string): string[] {
  return body.days.find((day) => day.date === date)!.slots.map((slot) => slot.start.slice(11, 16));
}

function bookBody(serviceId: string, start: string, extra: Record<string, unknown> = {}) {
  return { service_id: serviceId, start, name: 'Ada Visitor', email: 'ada@example.com', ...extra };
}

describe('schedules and time zones', () => {
  it('offers weekly hours in the staff member’s zone, at the service’s interval, on working days only', async () => {
    const { agency, service } = await setUp('Weekly', { slot_interval_minutes: 30 });
    // Monday 2027-01-11 and the weekend before it, in Berlin (UTC+1 in January).
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-01-09',
      to: '2027-01-11',
      time_zone: 'Europe/Berlin',
    });
    expect(body.days.map((day) => day.date)).toEqual(['2027-01-09', '2027-01-10', '2027-01-11']);
    expect(startsOn(body, '2027-01-09')).toEqual([]);
    expect(startsOn(body, '2027-01-11')).toEqual(
      ['09', '10', '11', '12', '13', '14', '15', '16'].flatMap((hour) => [`${hour}:00`, `${hour}:30`]).slice(0, -1),
    );
    expect(body.days[2]!.slots[0]!.start).toBe('2027-01-11T09:00:00+01:00');
  });

  it('keeps 09:00–17:00 Berlin at 09:00 local across both daylight-saving changes', async () => {
    const { agency, service } = await setUp('Dst', {});
    // Spring forward on Sunday 2027-03-28; fall back on Sunday 2027-10-31.
    for (const [before, after] of [
      ['2027-03-26', '2027-03-29'],
      ['2027-10-29', '2027-11-01'],
    ] as const) {
      const body = await availability(agency, { service_id: service.id, from: before, to: after, time_zone: 'UTC' });
      const first = (date: string) => body.days.find((day) => day.date === date)!.slots[0]!.start;
      const last = (date: string) => body.days.find((day) => day.date === date)!.slots.at(-1)!.start;
      if (before.startsWith('2027-03')) {
        expect([first(before), last(before)]).toEqual(['2027-03-26T08:00:00+00:00', '2027-03-26T15:00:00+00:00']);
        expect([first(after), last(after)]).toEqual(['2027-03-29T07:00:00+00:00', '2027-03-29T14:00:00+00:00']);
      } else {
        expect(first(before)).toBe('2027-10-29T07:00:00+00:00');
        expect(first(after)).toBe('2027-11-01T08:00:00+00:00');
      }
      const berlin = await availability(agency, {
        service_id: service.id,
        from: before,
        to: after,
        time_zone: 'Europe/Berlin',
      });
      for (const date of [before, after]) expect(startsOn(berlin, date)[0]).toBe('09:00');
    }
  });

  it('shows a New York visitor the right hours while the two zones change on different dates', async () => {
    const { agency, service } = await setUp('NewYork', {});
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-03-12',
      to: '2027-03-29',
      time_zone: 'America/New_York',
    });
    // Both in winter time: six hours apart. New York moves on 14 March, Berlin on 28 March.
    expect(body.days.find((d) => d.date === '2027-03-12')!.slots[0]!.start).toBe('2027-03-12T03:00:00-05:00');
    expect(body.days.find((d) => d.date === '2027-03-22')!.slots[0]!.start).toBe('2027-03-22T04:00:00-04:00');
    expect(body.days.find((d) => d.date === '2027-03-29')!.slots[0]!.start).toBe('2027-03-29T03:00:00-04:00');
  });

  it('puts slots on the visitor’s own dates across the date line', async () => {
    const { agency, service } = await setUp('DateLine', {}, [
      { time_zone: 'Pacific/Kiritimati', weekly_hours: { monday: [{ start: '09:00', end: '11:00' }] } },
    ]);
    // Monday 09:00 at UTC+14 is Sunday 08:00 at UTC-11: a day earlier for the visitor.
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-01-10',
      to: '2027-01-11',
      time_zone: 'Pacific/Pago_Pago',
    });
    expect(startsOn(body, '2027-01-10')).toEqual(['08:00', '09:00']);
    expect(startsOn(body, '2027-01-11')).toEqual([]);
    expect(body.days[0]!.slots[0]!.start).toBe('2027-01-10T08:00:00-11:00');
  });

  it('runs hours past midnight into the next day, with a slot across midnight', async () => {
    const { agency, service } = await setUp('Night', { duration_minutes: 90, slot_interval_minutes: 60 }, [
      { time_zone: 'Europe/London', weekly_hours: { friday: [{ start: '22:00', end: '02:00' }] } },
    ]);
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-01-15',
      to: '2027-01-16',
      time_zone: 'Europe/London',
    });
    expect(startsOn(body, '2027-01-15')).toEqual(['22:00', '23:00']);
    expect(startsOn(body, '2027-01-16')).toEqual(['00:00']);
    expect(body.days[0]!.slots[1]!.start).toBe('2027-01-15T23:00:00+00:00');
  });

  it('keeps every day whole where a zone skips midnight', async () => {
    // Santiago moves from 00:00 to 01:00 on Sunday 5 September 2027: that day has no 00:00, the others do.
    const everyDay = Object.fromEntries(
      ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => [
        day,
        [{ start: '00:00', end: '02:00' }],
      ]),
    );
    const { agency, service } = await setUp('Santiago', {}, [
      { time_zone: 'America/Santiago', weekly_hours: everyDay },
    ]);
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-09-04',
      to: '2027-09-07',
      time_zone: 'America/Santiago',
    });
    expect(body.days.map((day) => [day.date, startsOn(body, day.date)])).toEqual([
      ['2027-09-04', ['00:00', '01:00']],
      ['2027-09-05', ['01:00']],
      ['2027-09-06', ['00:00', '01:00']],
      ['2027-09-07', ['00:00', '01:00']],
    ]);
    expect(body.days[2]!.slots[0]!.start).toBe('2027-09-06T00:00:00-03:00');
  });

  it('offers the same slots whichever window is asked, and books a slot that runs into the next day’s hours', async () => {
    const { agency, service } = await setUp('Windows', { duration_minutes: 90, slot_interval_minutes: 90 }, [
      {
        time_zone: 'UTC',
        weekly_hours: { monday: [{ start: '20:00', end: '24:00' }], tuesday: [{ start: '00:00', end: '04:00' }] },
      },
    ]);
    const ask = (from: string, to: string) =>
      availability(agency, { service_id: service.id, from, to, time_zone: 'UTC' });
    const both = await ask('2027-01-11', '2027-01-12');
    const monday = await ask('2027-01-11', '2027-01-11');
    const tuesday = await ask('2027-01-12', '2027-01-12');
    // Each range keeps its own grid; a slot may run from Monday's range into Tuesday's.
    expect(startsOn(both, '2027-01-11')).toEqual(['20:00', '21:30', '23:00']);
    expect(startsOn(both, '2027-01-12')).toEqual(['00:00', '01:30']);
    expect(startsOn(monday, '2027-01-11')).toEqual(startsOn(both, '2027-01-11'));
    expect(startsOn(tuesday, '2027-01-12')).toEqual(startsOn(both, '2027-01-12'));
    const across = await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, '2027-01-11T23:00:00Z'));
    expect(across.status, across.text).toBe(201);
    expect(across.body.booking.end).toBe('2027-01-12T00:30:00.000Z');
  });

  it('gives hours inside a spring-forward gap no time at all', async () => {
    const { agency, service, staff } = await setUp('Gap', {});
    const path = `${agency.base}/staff/${staff[0].id}/overrides/2027-03-28`;
    expect((await agency.call('PUT', path, { hours: [{ start: '02:00', end: '03:00' }] })).status).toBe(200);
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-03-28',
      to: '2027-03-29',
      time_zone: 'Europe/Berlin',
    });
    expect(startsOn(body, '2027-03-28')).toEqual([]);
    expect(startsOn(body, '2027-03-29')).toHaveLength(8);
  });

  it('lets date overrides replace a day’s hours or take it off', async () => {
    const { agency, service, staff } = await setUp('Overrides', {});
    const path = `${agency.base}/staff/${staff[0].id}/overrides`;
    expect((await agency.call('PUT', `${path}/2027-01-11`, { hours: [] })).status).toBe(200);
    expect((await agency.call('PUT', `${path}/2027-01-12`, { hours: [{ start: '13:00', end: '15:00' }] })).status).toBe(
      200,
    );
    expect((await agency.call('PUT', `${path}/2027-01-16`, { hours: [{ start: '10:00', end: '11:00' }] })).status).toBe(
      200,
    );
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-01-11',
      to: '2027-01-16',
      time_zone: 'Europe/Berlin',
    });
    expect(startsOn(body, '2027-01-11')).toEqual([]);
    expect(startsOn(body, '2027-01-12')).toEqual(['13:00', '14:00']);
    expect(startsOn(body, '2027-01-13')).toHaveLength(8);
    expect(startsOn(body, '2027-01-16')).toEqual(['10:00']);
    const listed = await agency.call('GET', `${path}?from=2027-01-12&to=2027-01-31`);
    expect(listed.body.data.map((o: { date: string }) => o.date)).toEqual(['2027-01-12', '2027-01-16']);
    expect((await agency.call('DELETE', `${path}/2027-01-11`)).status).toBe(204);
    const again = await availability(agency, {
      service_id: service.id,
      from: '2027-01-11',
      to: '2027-01-11',
      time_zone: 'Europe/Berlin',
    });
    expect(startsOn(again, '2027-01-11')).toHaveLength(8);
    expect((await agency.call('DELETE', `${path}/2027-01-11`)).status).toBe(404);
  });
});

describe('rules of a service', () => {
  it('keeps buffers before and after a booking free', async () => {
    const { agency, service } = await setUp('Buffers', {
      slot_interval_minutes: 15,
      buffer_before_minutes: 15,
      buffer_after_minutes: 15,
    });
    const booked = await agency.visit(
      'POST',
      '/v1/booking/bookings',
      bookBody(service.id, '2027-01-11T11:00:00+01:00'),
    );
    expect(booked.status, booked.text).toBe(201);
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-01-11',
      to: '2027-01-11',
      time_zone: 'Europe/Berlin',
    });
    const starts = startsOn(body, '2027-01-11');
    // Held: 10:45–12:15. A slot's own buffers must not touch it: the last before ends by 10:30, the first after
    // starts at 12:30.
    expect(starts.filter((s) => s < '11:00').at(-1)).toBe('09:30');
    expect(starts.find((s) => s > '11:00')).toBe('12:30');
    expect(starts).not.toContain('11:00');
  });

  it('keeps the minimum notice and the booking window', async () => {
    const { agency, service } = await setUp(
      'Notice',
      { slot_interval_minutes: 30, minimum_notice_minutes: 180, booking_window_days: 2 },
      [
        {
          time_zone: 'UTC',
          weekly_hours: Object.fromEntries(
            ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((d) => [
              d,
              [{ start: '00:00', end: '24:00' }],
            ]),
          ),
        },
      ],
    );
    const now = Date.now();
    const today = new Date(now).toISOString().slice(0, 10);
    const later = new Date(now + 5 * 24 * HOUR).toISOString().slice(0, 10);
    const body = await availability(agency, { service_id: service.id, from: today, to: later, time_zone: 'UTC' });
    const starts = body.days.flatMap((day) => day.slots.map((slot) => Date.parse(slot.start)));
    expect(starts[0]).toBeGreaterThanOrEqual(now + 3 * HOUR);
    expect(starts[0]).toBeLessThan(now + 3.5 * HOUR + 60_000);
    expect(starts.at(-1)).toBeLessThan(now + 48 * HOUR);
    expect(starts.at(-1)).toBeGreaterThan(now + 46 * HOUR);
    // A time inside the notice is no slot at all.
    const tooSoon = new Date(Math.ceil((now + HOUR) / (30 * 60_000)) * 30 * 60_000).toISOString();
    const refused = await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, tooSoon));
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('slot_unavailable');
  });

  it('fills a group session to its capacity and no further', async () => {
    const { agency, service } = await setUp('Group', { capacity: 3 });
    const start = '2027-01-11T10:00:00+01:00';
    const seatsLeft = async () =>
      (
        await availability(agency, {
          service_id: service.id,
          from: '2027-01-11',
          to: '2027-01-11',
          time_zone: 'Europe/Berlin',
        })
      ).days[0]!.slots.find((slot) => slot.start === start)?.seats_left ?? 0;
    expect(await seatsLeft()).toBe(3);
    expect((await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, start, { seats: 2 }))).status).toBe(
      201,
    );
    expect(await seatsLeft()).toBe(1);
    const tooMany = await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, start, { seats: 2 }));
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.code).toBe('slot_taken');
    expect((await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, start))).status).toBe(201);
    expect(await seatsLeft()).toBe(0);
    expect((await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, start))).status).toBe(409);
    // The session blocks other starts that overlap it.
    const overlapping = await agency.visit(
      'POST',
      '/v1/booking/bookings',
      bookBody(service.id, '2027-01-11T10:30:00+01:00'),
    );
    expect(overlapping.status).toBe(422);
  });

  it('books 50 concurrent requests for one slot exactly once', async () => {
    const { agency, service } = await setUp('Rush', {});
    const start = '2027-01-12T14:00:00+01:00';
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, start, { email: `v${index}@example.com` })),
      ),
    );
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(49);
    for (const reply of replies.filter((r) => r.status === 409)) {
      expect(reply.headers.get('content-type')).toContain('application/problem+json');
      expect(reply.body.code).toBe('slot_taken');
      expect(reply.body.detail).toMatch(/booked this time/);
    }
    const list = await agency.call('GET', `${agency.base}/bookings?status=confirmed`);
    expect(list.body.data).toHaveLength(1);
  });

  it('offers a second staff member when the first is booked, and books whoever is free', async () => {
    const { agency, service, staff } = await setUp('Team', {}, [
      { time_zone: 'Europe/Berlin', weekly_hours: WEEKDAYS_NINE_TO_FIVE },
      { time_zone: 'Europe/Berlin', weekly_hours: WEEKDAYS_NINE_TO_FIVE },
    ]);
    const start = '2027-01-13T09:00:00+01:00';
    const first = await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, start));
    const second = await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, start));
    expect([first.body.booking.staff_id, second.body.booking.staff_id]).toEqual([staff[0].id, staff[1].id]);
    expect((await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, start))).status).toBe(409);
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-01-13',
      to: '2027-01-13',
      time_zone: 'Europe/Berlin',
    });
    expect(startsOn(body, '2027-01-13')[0]).toBe('10:00');
    expect(body.days[0]!.slots[0]!.staff_ids).toEqual([staff[0].id, staff[1].id]);
    const onlySecond = await availability(agency, {
      service_id: service.id,
      staff_id: staff[1].id,
      from: '2027-01-14',
      to: '2027-01-14',
      time_zone: 'Europe/Berlin',
    });
    expect(onlySecond.days[0]!.slots.every((slot) => slot.staff_ids.join() === staff[1].id)).toBe(true);
  });
});

describe('bookings', () => {
  it('confirms with a manage token the visitor can read, reschedule and cancel with', async () => {
    const { agency, service } = await setUp('Manage', {
      questions: [
        { id: 'topic', label: 'What about?', type: 'select', options: ['Hair', 'Nails'], required: true },
        { id: 'first_visit', label: 'First visit?', type: 'checkbox' },
      ],
    });
    const created = await agency.visit(
      'POST',
      '/v1/booking/bookings',
      bookBody(service.id, '2027-02-01T10:00:00+01:00', {
        time_zone: 'America/New_York',
        answers: { topic: 'Hair', first_visit: true },
        page_url: `${agency.origin}/book?x=1`,
      }),
    );
    expect(created.status, created.text).toBe(201);
    const { booking, manage_token: token, manage_url: url } = created.body;
    expect(booking).toMatchObject({
      status: 'confirmed',
      service_name: 'Intro call',
      time_zone: 'America/New_York',
      answers: { topic: 'Hair', first_visit: true },
    });
    expect(url).toBe(`${agency.origin}/book?x=1#dm-booking=${token}`);

    const read = await agency.visit('GET', `/v1/booking/manage?token=${token}`);
    expect(read.body.id).toBe(booking.id);
    // A token altered by one character names nothing.
    const forged = `${token.slice(0, -2)}${token.endsWith('A') ? 'B' : 'A'}${token.slice(-1)}`;
    expect((await agency.visit('GET', `/v1/booking/manage?token=${forged}`)).status).toBe(404);

    const moved = await agency.visit('POST', `/v1/booking/manage/reschedule?token=${token}`, {
      start: '2027-02-01T15:00:00+01:00',
    });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.rescheduled_at).not.toBeNull();
    expect(new Date(moved.body.start).toISOString()).toBe('2027-02-01T14:00:00.000Z');
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-02-01',
      to: '2027-02-01',
      time_zone: 'Europe/Berlin',
    });
    expect(startsOn(body, '2027-02-01')).toContain('10:00');
    expect(startsOn(body, '2027-02-01')).not.toContain('15:00');

    const cancelled = await agency.visit('POST', `/v1/booking/manage/cancel?token=${token}`, { reason: 'Ill' });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cancelled_by: 'visitor', cancellation_reason: 'Ill' });
    expect((await agency.visit('POST', `/v1/booking/manage/cancel?token=${token}`, {})).body.code).toBe(
      'booking_cancelled',
    );
    const free = await availability(agency, {
      service_id: service.id,
      from: '2027-02-01',
      to: '2027-02-01',
      time_zone: 'Europe/Berlin',
    });
    expect(startsOn(free, '2027-02-01')).toContain('15:00');

    const events = await platform.db
      .knex('outbox')
      .where({ site_id: agency.siteId })
      .whereLike('type', 'booking.%')
      .orderBy('id')
      .pluck('type');
    expect(events).toEqual(['booking.booking.created', 'booking.booking.rescheduled', 'booking.booking.cancelled']);
  });

  it('leaves a booking as it was when its new time is taken', async () => {
    const { agency, service } = await setUp('Taken', {});
    const a = await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, '2027-02-02T10:00:00+01:00'));
    await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, '2027-02-02T11:00:00+01:00'));
    const refused = await agency.call('POST', `${agency.base}/bookings/${a.body.booking.id}/reschedule`, {
      start: '2027-02-02T11:00:00+01:00',
    });
    expect(refused.status).toBe(409);
    const still = await agency.call('GET', `${agency.base}/bookings/${a.body.booking.id}`);
    expect(new Date(still.body.start).toISOString()).toBe('2027-02-02T09:00:00.000Z');
    expect(still.body.rescheduled_at).toBeNull();
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-02-02',
      to: '2027-02-02',
      time_zone: 'Europe/Berlin',
    });
    expect(startsOn(body, '2027-02-02')).not.toContain('10:00');
    // Staff cancel too; the visitor's token of another site's booking finds nothing here.
    const other = await setUp('TakenOther', {});
    expect((await other.agency.visit('GET', `/v1/booking/manage?token=${a.body.manage_token}`)).status).toBe(404);
    const cancelled = await agency.call('POST', `${agency.base}/bookings/${a.body.booking.id}/cancel`, {});
    expect(cancelled.body.cancelled_by).toBe('staff');
  });

  it('lists bookings by start time, page by page, and filters them', async () => {
    const { agency, service } = await setUp('Listing', {});
    for (const hour of ['15', '09', '12']) {
      await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, `2027-02-03T${hour}:00:00+01:00`));
    }
    const first = await agency.call('GET', `${agency.base}/bookings?limit=2`);
    expect(first.body.data.map((b: { start: string }) => new Date(b.start).getUTCHours())).toEqual([8, 11]);
    const second = await agency.call('GET', `${agency.base}/bookings?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((b: { start: string }) => new Date(b.start).getUTCHours())).toEqual([14]);
    expect(second.body.has_more).toBe(false);
    const filtered = await agency.call(
      'GET',
      `${agency.base}/bookings?${new URLSearchParams({ from: '2027-02-03T10:00:00Z', to: '2027-02-03T13:00:00Z' })}`,
    );
    expect(filtered.body.data).toHaveLength(1);
    expect((await agency.call('GET', `${agency.base}/bookings?cursor=bm9wZQ`)).body.code).toBe('invalid_cursor');
  });

  it('keeps bookings: a service or a person with bookings is deactivated or unassigned, not deleted', async () => {
    const { agency, service, staff } = await setUp('Deleting', {});
    await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, '2027-02-04T09:00:00+01:00'));
    for (const path of [`/services/${service.id}`, `/staff/${staff[0].id}`]) {
      const refused = await agency.call('DELETE', `${agency.base}${path}`);
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('has_bookings');
    }
    const inactive = await agency.call('PATCH', `${agency.base}/services/${service.id}`, { active: false });
    expect(inactive.body.active).toBe(false);
    const offered = await agency.visit('GET', '/v1/booking/services');
    expect(offered.body.data).toEqual([]);
    // Without bookings they go, and the person leaves the services they gave.
    const spare = await create(agency, '/staff', { name: 'Spare', time_zone: 'UTC' });
    const unused = await create(agency, '/services', { name: 'Unused', duration_minutes: 30, staff_ids: [spare.id] });
    expect((await agency.call('DELETE', `${agency.base}/staff/${spare.id}`)).status).toBe(204);
    expect((await agency.call('GET', `${agency.base}/services/${unused.id}`)).body.staff_ids).toEqual([]);
    expect((await agency.call('DELETE', `${agency.base}/services/${unused.id}`)).status).toBe(204);
    expect((await agency.call('GET', `${agency.base}/services/${unused.id}`)).status).toBe(404);
  });

  it('lets a client’s front desk book, cancel and move bookings, but not change services, people or schedules', async () => {
    const { agency, service, staff } = await setUp('FrontDesk', {});
    const email = `desk-${Date.now()}@example.com`;
    const user = await platform.request('POST', '/v1/users', {
      token: agency.token,
      body: {
        email,
        name: 'Front desk',
        role: 'client_member',
        client_id: agency.clientId,
        password: 'front desk pass',
      },
    });
    expect(user.status, user.text).toBe(201);
    const desk = await platform.signIn(email, 'front desk pass');
    const as = (method: string, path: string, body?: unknown) => platform.request(method, path, { token: desk, body });
    const booked = await as(
      'POST',
      `/v1/booking/bookings?site_id=${agency.siteId}`,
      bookBody(service.id, '2027-02-08T09:00:00+01:00'),
    );
    expect(booked.status, booked.text).toBe(201);
    const id = booked.body.booking.id;
    expect(
      (await as('POST', `${agency.base}/bookings/${id}/reschedule`, { start: '2027-02-08T10:00:00+01:00' })).status,
    ).toBe(200);
    expect((await as('POST', `${agency.base}/bookings/${id}/cancel`, {})).status).toBe(200);
    for (const [method, path, body] of [
      ['PATCH', `/staff/${staff[0].id}`, { email: 'someone@else.example' }],
      ['PATCH', `/services/${service.id}`, { active: false }],
      ['PUT', `/staff/${staff[0].id}/overrides/2027-02-09`, { hours: [] }],
    ] as const) {
      const refused = await as(method, `${agency.base}${path}`, body);
      expect([refused.status, refused.body.code], `${method} ${path}`).toEqual([403, 'insufficient_scope']);
    }
  });

  it('gives seats of a group session back one by one, also when cancelled at the same time', async () => {
    const { agency, service } = await setUp('GroupCancel', { capacity: 4 });
    const start = '2027-02-05T10:00:00+01:00';
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push((await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, start))).body.booking.id);
    }
    const cancelled = await Promise.all(
      made.map((id) => agency.call('POST', `${agency.base}/bookings/${id}/cancel`, {})),
    );
    expect(cancelled.map((reply) => reply.status)).toEqual([200, 200, 200]);
    const body = await availability(agency, {
      service_id: service.id,
      from: '2027-02-05',
      to: '2027-02-05',
      time_zone: 'Europe/Berlin',
    });
    expect(body.days[0]!.slots.find((slot) => slot.start === start)?.seats_left).toBe(4);
    expect(await platform.db.knex('mod_booking.slots').where({ site_id: agency.siteId })).toEqual([]);
  });
});

describe('bad input', () => {
  it('answers clear 4xx problems and stores nothing', async () => {
    const { agency, service, staff } = await setUp('BadInput', {
      questions: [{ id: 'topic', label: 'Topic', type: 'text', required: true }],
    });
    const cases: [string, string, unknown, number, string][] = [
      [
        'GET',
        `/v1/booking/availability?service_id=${service.id}&from=2027-01-01&to=2027-01-02&time_zone=Mars%2FOlympus`,
        undefined,
        422,
        'invalid_time_zone',
      ],
      [
        'GET',
        `/v1/booking/availability?service_id=${service.id}&from=2027-01-05&to=2027-01-01`,
        undefined,
        400,
        'validation_failed',
      ],
      [
        'GET',
        `/v1/booking/availability?service_id=${service.id}&from=2027-01-01&to=2027-03-05`,
        undefined,
        400,
        'validation_failed',
      ],
      [
        'GET',
        `/v1/booking/availability?service_id=${service.id}&from=2027-02-30&to=2027-03-01`,
        undefined,
        400,
        'validation_failed',
      ],
      ['POST', '/v1/booking/bookings', bookBody(service.id, '2027-01-11T10:00:00+01:00'), 400, 'validation_failed'],
      [
        'POST',
        '/v1/booking/bookings',
        bookBody(service.id, '2027-01-11T10:00:00+01:00', { answers: { topic: 'x', other: 'y' } }),
        400,
        'validation_failed',
      ],
      [
        'POST',
        '/v1/booking/bookings',
        bookBody(service.id, '2027-01-11T10:00:00+01:00', {
          answers: { topic: 'x' },
          page_url: 'https://evil.example/',
        }),
        400,
        'validation_failed',
      ],
      [
        'POST',
        '/v1/booking/bookings',
        bookBody(service.id, '2027-01-11T10:07:00+01:00', { answers: { topic: 'x' } }),
        422,
        'slot_unavailable',
      ],
      [
        'POST',
        '/v1/booking/bookings',
        bookBody(service.id, '2027-01-11T10:00:00+01:00', { answers: { topic: 'x' }, email: 'not-an-email' }),
        400,
        'validation_failed',
      ],
      [
        'POST',
        '/v1/booking/bookings',
        bookBody(service.id, '2027-01-11T10:00:00+01:00', { answers: { topic: false } }),
        400,
        'validation_failed',
      ],
      [
        'POST',
        '/v1/booking/bookings',
        bookBody(service.id, '2027-01-11T10:00:00+01:00', {
          answers: { topic: 'x' },
          page_url: 'https://shop.example:99999/',
        }),
        400,
        'validation_failed',
      ],
    ];
    for (const [method, path, body, status, code] of cases) {
      const reply = await agency.visit(method, path, body);
      expect([reply.status, reply.body.code], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status, code]);
    }
    const overlapping = await agency.call('PATCH', `${agency.base}/staff/${staff[0].id}`, {
      weekly_hours: {
        monday: [
          { start: '09:00', end: '12:00' },
          { start: '11:00', end: '13:00' },
        ],
      },
    });
    expect([overlapping.status, overlapping.body.errors[0].path]).toEqual([400, '/body/weekly_hours/monday']);
    const badZone = await agency.call('POST', `${agency.base}/staff`, { name: 'X', time_zone: 'Europe/Atlantis' });
    expect(badZone.status).toBe(422);
    const unknownStaff = await agency.call('POST', `${agency.base}/services`, {
      name: 'Y',
      duration_minutes: 30,
      staff_ids: [service.id],
    });
    expect([unknownStaff.status, unknownStaff.body.errors[0].path]).toEqual([400, '/body/staff_ids/0']);
    expect(await platform.db.knex('mod_booking.bookings').where({ site_id: agency.siteId }).count()).toEqual([
      { count: 0 },
    ]);
  });

  it('limits how many bookings one address makes on a site per minute', async () => {
    const { agency, service } = await setUp('Flood', {});
    const start = '2027-01-14T09:00:00+01:00';
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, start, { email: `f${index}@example.com` })),
      ),
    );
    expect(replies.filter((reply) => reply.status === 429)).toHaveLength(0);
    const limited = await agency.visit(
      'POST',
      '/v1/booking/bookings',
      bookBody(service.id, '2027-01-14T11:00:00+01:00'),
    );
    expect([limited.status, limited.body.code]).toEqual([429, 'rate_limited']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Staff are not limited by visitors' allowance.
    const byStaff = await agency.call(
      'POST',
      `/v1/booking/bookings?site_id=${agency.siteId}`,
      bookBody(service.id, '2027-01-14T11:00:00+01:00'),
    );
    expect(byStaff.status).toBe(201);
  });

  it('limits how many bookings one email address gets on a site per hour', async () => {
    const { agency, service } = await setUp('Inbox', { slot_interval_minutes: 30, duration_minutes: 30 });
    const at = (index: number) => new Date(Date.parse('2027-01-18T08:00:00Z') + index * 30 * 60_000).toISOString();
    for (let index = 0; index < 10; index++) {
      const booked = await agency.visit('POST', '/v1/booking/bookings', bookBody(service.id, at(index)));
      expect(booked.status, booked.text).toBe(201);
    }
    const limited = await agency.visit(
      'POST',
      '/v1/booking/bookings',
      bookBody(service.id, at(10), { email: 'ADA@example.com' }),
    );
    expect([limited.status, limited.body.code]).toEqual([429, 'rate_limited']);
    const someoneElse = await agency.visit(
      'POST',
      '/v1/booking/bookings',
      bookBody(service.id, at(10), { email: 'grace@example.com' }),
    );
    expect(someoneElse.status).toBe(201);
  });

  it('answers 404 where the module is not installed, and for other agencies’ sites', async () => {
    const { agency } = await setUp('Mine', {});
    const other = await bookingAgency(platform, 'Theirs');
    expect((await other.call('GET', `${agency.base}/services`)).status).toBe(404);
    await other.call('DELETE', `/v1/sites/${other.siteId}/installs/booking`);
    const gone = await other.call('GET', `${other.base}/services`);
    expect([gone.status, gone.body.code]).toEqual([404, 'module_not_installed']);
    expect((await other.visit('GET', '/v1/booking/services')).body.code).toBe('module_not_installed');
  });
});
