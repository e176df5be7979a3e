import type { Knex } from 'knex';
import { DateTime } from 'luxon';
import {
  freeSlots,
  localDays,
  type FreeSlot,
  type Hold,
  type HoursRange,
  type ServiceRules,
  type StaffSchedule,
} from './time.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface ServiceRow {
  id: string;
  site_id: string;
  name: string;
  duration_minutes: number;
  buffer_before_minutes: number;
  buffer_after_minutes: number;
  minimum_notice_minutes: number;
  booking_window_days: number;
  slot_interval_minutes: number;
  capacity: number;
  reminder_offsets_minutes: number[];
  questions: { id: string; label: string; type: string; required?: boolean; options?: string[] }[];
  active: boolean;
}

export const rulesOf = (service: ServiceRow): ServiceRules => ({
  id: service.id,
  durationMinutes: service.duration_minutes,
  bufferBeforeMinutes: service.buffer_before_minutes,
  bufferAfterMinutes: service.buffer_after_minutes,
  minimumNoticeMinutes: service.minimum_notice_minutes,
  bookingWindowDays: service.booking_window_days,
  slotIntervalMinutes: service.slot_interval_minutes,
  capacity: service.capacity,
});

/** The people who give a service (one of them, when asked), in the service's order, with their schedules. */
export async function loadSchedules(
  tx: Knex.Transaction,
  serviceId: string,
  staffId: string | undefined,
  from: number,
  to: number,
): Promise<StaffSchedule[]> {
  // One statement: the people and, as JSON, their overrides on every date any zone of the window can touch
  // (a day's margin on each side covers any offset).
  const query = tx('mod_booking.service_staff as ss')
    .join('mod_booking.staff as st', 'st.id', 'ss.staff_id')
    .where('ss.service_id', serviceId)
    .orderBy(['ss.position', 'st.id'])
    .select(
      'st.id',
      'st.time_zone',
      'st.weekly_hours',
      tx.raw(
        `coalesce((SELECT json_object_agg(to_char(o.date, 'YYYY-MM-DD'), o.hours)
                     FROM mod_booking.schedule_overrides o
                    WHERE o.staff_id = st.id AND o.date BETWEEN ?::date AND ?::date), '{}') AS overrides`,
        [isoDate(from - DAY), isoDate(to + DAY)],
      ),
    );
  if (staffId) query.where('st.id', staffId);
  const people = (await query) as {
    id: string;
    time_zone: string;
    weekly_hours: StaffSchedule['weekly'];
    overrides: Record<string, HoursRange[]>;
  }[];
  return people.map((person) => ({
    id: person.id,
    timeZone: person.time_zone,
    weekly: person.weekly_hours,
    overrides: new Map(Object.entries(person.overrides)),
  }));
}

const isoDate = (instant: number) => new Date(instant).toISOString().slice(0, 10);

/** The holds of these people whose blocked time touches [from, to), per person, sorted by start. */
export async function loadHolds(
  tx: Knex.Transaction,
  staffIds: string[],
  from: number,
  to: number,
): Promise<Map<string, Hold[]>> {
  const holds = new Map<string, Hold[]>(staffIds.map((id) => [id, []]));
  if (staffIds.length === 0) return holds;
  // One row per person, their holds as one JSON array: thousands of holds parse as one JSON text instead of
  // thousands of rows of the wire protocol (most of the query's time on the client when it came as rows).
  const { rows } = (await tx.raw(
    `SELECT staff_id,
            json_agg(json_build_array(
              service_id, capacity, seats_taken,
              (extract(epoch FROM starts_at) * 1000)::bigint,
              (extract(epoch FROM lower(blocked)) * 1000)::bigint,
              (extract(epoch FROM upper(blocked)) * 1000)::bigint
            ) ORDER BY lower(blocked)) AS holds
       FROM mod_booking.slots
      WHERE staff_id = ANY (?::uuid[]) AND blocked && tstzrange(?::timestamptz, ?::timestamptz)
      GROUP BY staff_id`,
    [staffIds, new Date(from).toISOString(), new Date(to).toISOString()],
  )) as { rows: { staff_id: string; holds: [string, number, number, number, number, number][] }[] };
  for (const row of rows) {
    holds.set(
      row.staff_id,
      row.holds.map(([serviceId, capacity, seatsTaken, start, blockedStart, blockedEnd]) => ({
        staffId: row.staff_id,
        serviceId,
        start,
        blockedStart,
        blockedEnd,
        capacity,
        seatsTaken,
      })),
    );
  }
  return holds;
}

/** How far outside [from, to) a hold can still block a slot of the service. */
export const holdMargin = (service: ServiceRow) =>
  (service.buffer_before_minutes + service.buffer_after_minutes + service.duration_minutes) * MINUTE;

/** The free slots of a service in [from, to) (`staffId`: one person's only), as of `now`. */
export async function findFreeSlots(
  tx: Knex.Transaction,
  service: ServiceRow,
  options: { staffId?: string; from: number; to: number; now: number },
): Promise<FreeSlot[]> {
  const staff = await loadSchedules(tx, service.id, options.staffId, options.from, options.to);
  const margin = holdMargin(service);
  const holds = await loadHolds(
    tx,
    staff.map((person) => person.id),
    options.from - margin,
    options.to + margin,
  );
  return freeSlots({ rules: rulesOf(service), staff, holds, from: options.from, to: options.to, now: options.now });
}

/** The answer of `GET /v1/booking/availability`: every day of [first, last] in the visitor's zone. */
export async function availability(
  tx: Knex.Transaction,
  service: ServiceRow,
  options: { staffId?: string; first: string; last: string; zone: string; now: number },
) {
  const days = localDays(options.first, options.last, options.zone);
  const slots = await findFreeSlots(tx, service, {
    staffId: options.staffId,
    from: days[0]!.start,
    to: days.at(-1)!.end,
    now: options.now,
  });
  return availabilityBody(service.id, options.zone, days, slots);
}

/** Free slots (sorted by start) shaped as the availability answer: grouped by the visitor's days, in their offsets. */
export function availabilityBody(
  serviceId: string,
  zone: string,
  days: ReturnType<typeof localDays>,
  slots: readonly FreeSlot[],
) {
  let next = 0;
  return {
    service_id: serviceId,
    time_zone: zone,
    days: days.map((day) => {
      const inDay = [];
      while (next < slots.length && slots[next]!.start < day.end) {
        const slot = slots[next++]!;
        inDay.push({
          start: day.format(slot.start),
          end: day.format(slot.end),
          staff_ids: slot.staffIds,
          seats_left: slot.seatsLeft,
        });
      }
      return { date: day.date, slots: inDay };
    }),
  };
}

/** Days between two `YYYY-MM-DD` dates, counting both. */
export function daysBetween(first: string, last: string): number {
  return DateTime.fromISO(last, { zone: 'UTC' }).diff(DateTime.fromISO(first, { zone: 'UTC' }), 'days').days + 1;
}
