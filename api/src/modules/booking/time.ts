import { DateTime, IANAZone } from 'luxon';

/**
 * Slot computation, in plain numbers (UTC milliseconds) once the wall-clock hours of each staff member have
 * been placed on the time line in their own zone by Luxon: no offset arithmetic of our own, so daylight
 * saving, date lines and hours past midnight come out as the zone database says.
 */

export const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface HoursRange {
  start: string;
  end: string;
}
export type WeeklyHours = Partial<Record<Weekday, HoursRange[]>>;

export interface StaffSchedule {
  id: string;
  timeZone: string;
  weekly: WeeklyHours;
  /** Hours of single dates (`YYYY-MM-DD` of the staff member's calendar); an empty list is a day off. */
  overrides: ReadonlyMap<string, HoursRange[]>;
}

export interface ServiceRules {
  id: string;
  durationMinutes: number;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  minimumNoticeMinutes: number;
  bookingWindowDays: number;
  slotIntervalMinutes: number;
  capacity: number;
}

/** Time a staff member has given away already: a booking, or a group session with its seats. */
export interface Hold {
  staffId: string;
  serviceId: string;
  start: number;
  blockedStart: number;
  blockedEnd: number;
  capacity: number;
  seatsTaken: number;
}

export interface FreeSlot {
  start: number;
  end: number;
  staffIds: string[];
  seatsLeft: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export function isTimeZone(name: string): boolean {
  return IANAZone.isValidZone(name);
}

/** A `YYYY-MM-DD` date that exists (format checks let 2027-02-30 through). */
export function isCalendarDate(date: string): boolean {
  return DateTime.fromISO(date, { zone: 'UTC' }).isValid;
}

const minutesOf = (time: string) => Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5));

/** What is wrong with one day's hours, or null: ranges of one day must not overlap. */
export function hoursProblem(ranges: readonly HoursRange[]): string | null {
  const spans = ranges
    .map(({ start, end }) => {
      const from = minutesOf(start);
      const to = minutesOf(end) <= from ? minutesOf(end) + 24 * 60 : minutesOf(end);
      return [from, to] as const;
    })
    .sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) return 'has ranges that overlap';
  }
  return null;
}

/** Whether a day starts at 00:00 (after a gap at midnight, Luxon's days go on starting at the hour it moved to). */
const atMidnight = (day: DateTime) => day.hour === 0 && day.minute === 0 && day.second === 0 && day.millisecond === 0;

/** A calendar day of a zone, placed on the time line by Luxon. */
interface ZoneDay {
  date: string;
  /** 1 (Monday) to 7 (Sunday). */
  weekday: number;
  /** Its first instant and the next day's first. */
  start: number;
  end: number;
  /** Its offset at `start`, in minutes. */
  offset: number;
  /**
   * It starts at midnight and has the same offset at the next one, so none changed in between (zones change it
   * at most once a day): a wall-clock time of the day is its start plus the time, no zone lookup.
   */
  steady: boolean;
}

/**
 * Days already placed, by zone and date. Placing one takes Luxon a dozen zone lookups (each an Intl call);
 * every availability request asks for the same few months of the same few zones, so they are kept. A zone's
 * rules do not change while the process runs; the bound only keeps a long-running process small.
 */
const zoneDays = new Map<string, ZoneDay>();
const MAX_ZONE_DAYS = 50_000;

function zoneDay(zone: string, date: string): ZoneDay {
  const key = `${zone} ${date}`;
  let known = zoneDays.get(key);
  if (!known) {
    // Each day from its own midnight (`startOf`): where a zone skips midnight, that one day starts at 01:00.
    // Reached from the day before, as the next day's start is: where midnight happens twice (Havana falls back
    // from 01:00 to 00:00), the first one, whatever the season now, so that each day ends where the next begins.
    // (A date before that the zone skipped lands on this one already.)
    const previous = addDays(date, -1);
    const before = DateTime.fromISO(previous, { zone }).startOf('day');
    const day = before.toISODate() === previous ? before.plus({ days: 1 }).startOf('day') : before;
    const next = day.plus({ days: 1 }).startOf('day');
    // A date the zone skips altogether (Samoa's 30 December 2011) lands on the next one: it lasts no time.
    const skipped = day.toISODate() !== date;
    known = {
      date,
      weekday: day.weekday,
      start: day.toMillis(),
      end: skipped ? day.toMillis() : next.toMillis(),
      offset: day.offset,
      steady: !skipped && day.offset === next.offset && atMidnight(day),
    };
    if (zoneDays.size >= MAX_ZONE_DAYS) zoneDays.clear();
    zoneDays.set(key, known);
  }
  return known;
}

/** The `YYYY-MM-DD` date `days` after another (calendar arithmetic, no zone involved). */
function addDays(date: string, days: number): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day + days)).toISOString().slice(0, 10);
}

/** The date an instant has in a zone. */
const dateIn = (zone: string, instant: number) => DateTime.fromMillis(instant, { zone }).toISODate()!;

/**
 * The instant a wall-clock time of a local day has in a zone (a time in a spring-forward gap moves on);
 * `24:00` is the next day's start.
 */
function instant(zone: string, day: ZoneDay, time: string): number {
  if (time === '24:00') return day.end;
  if (day.steady) return day.start + minutesOf(time) * MINUTE;
  return DateTime.fromMillis(day.start, { zone })
    .set({ hour: Number(time.slice(0, 2)), minute: Number(time.slice(3, 5)) })
    .toMillis();
}

export interface WorkingTime {
  /** Each range of hours as configured, placed on the time line, sorted by start: slots start on its grid. */
  ranges: [number, number][];
  /** The same time merged where ranges touch (a slot may run across midnight into the next range). */
  stretches: [number, number][];
}

/**
 * A staff member's working time around [from, to): each local day's hours (its override, or the weekly hours
 * of its weekday) placed in the staff member's zone, from the day before `from` to the day after `to`, so that
 * what a slot in the window may run into is there too. A range whose end is not after its start (as
 * wall-clock times) runs into the next day.
 */
export function workingTime(staff: StaffSchedule, from: number, to: number): WorkingTime {
  const zone = staff.timeZone;
  const ranges: [number, number][] = [];
  const lastDate = addDays(dateIn(zone, to), 1);
  for (let date = addDays(dateIn(zone, from), -1); date <= lastDate; date = addDays(date, 1)) {
    const day = zoneDay(zone, date);
    if (day.start === day.end) continue;
    const hours = staff.overrides.get(date) ?? staff.weekly[WEEKDAYS[day.weekday - 1]!] ?? [];
    for (const { start, end } of hours) {
      const crosses = end !== '24:00' && minutesOf(end) <= minutesOf(start);
      const begins = instant(zone, day, start);
      const ends = instant(zone, crosses ? zoneDay(zone, addDays(date, 1)) : day, end);
      // Hours wholly inside a spring-forward gap are no time at all.
      if (ends > begins) ranges.push([begins, ends]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const stretches: [number, number][] = [];
  for (const range of ranges) {
    const last = stretches.at(-1);
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
    else stretches.push([...range]);
  }
  return { ranges, stretches };
}

/** The first hold whose blocked time ends after `instant` (holds of one person never overlap: sorted by either end). */
function firstEndingAfter(holds: readonly Hold[], instant: number): number {
  let low = 0;
  let high = holds.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (holds[middle]!.blockedEnd <= instant) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Seats left for the service at `start` with this person: all of them when the padded time is free, the
 * rest of a group session of the same service starting then, or none.
 */
function seatsLeft(holds: readonly Hold[], rules: ServiceRules, start: number): number {
  const blockedStart = start - rules.bufferBeforeMinutes * MINUTE;
  const blockedEnd = start + (rules.durationMinutes + rules.bufferAfterMinutes) * MINUTE;
  const index = firstEndingAfter(holds, blockedStart);
  const first = holds[index];
  if (!first || first.blockedStart >= blockedEnd) return rules.capacity;
  const second = holds[index + 1];
  const alone = !second || second.blockedStart >= blockedEnd;
  if (alone && first.serviceId === rules.id && first.start === start) return first.capacity - first.seatsTaken;
  return 0;
}

/**
 * The free slots of a service in [from, to): for each staff member, slots start at the beginning of each
 * stretch of working time and every interval after, end within it, keep the minimum notice and the booking
 * window counted from `now`, and their time with buffers overlaps no hold. `holds` holds each person's
 * holds sorted by start. A slot is free when anyone is; it lists who.
 */
export function freeSlots(input: {
  rules: ServiceRules;
  staff: readonly StaffSchedule[];
  holds: ReadonlyMap<string, readonly Hold[]>;
  from: number;
  to: number;
  now: number;
}): FreeSlot[] {
  const { rules } = input;
  const duration = rules.durationMinutes * MINUTE;
  const step = rules.slotIntervalMinutes * MINUTE;
  const earliest = Math.max(input.from, input.now + rules.minimumNoticeMinutes * MINUTE);
  const latest = Math.min(input.to, input.now + rules.bookingWindowDays * DAY);
  const byStart = new Map<number, FreeSlot>();
  if (earliest >= latest) return [];
  for (const person of input.staff) {
    const holds = input.holds.get(person.id) ?? [];
    const { ranges, stretches } = workingTime(person, earliest, latest);
    const offered = new Set<number>();
    let stretch = 0;
    for (const [begins, ends] of ranges) {
      while (stretches[stretch]![1] <= begins) stretch++;
      const fitsBy = stretches[stretch]![1];
      // A slot starts on its own range's grid, whatever part of the range the window cuts off, and ends within
      // the stretch the range belongs to: the same slots whichever window is asked.
      const skipped = begins < earliest ? Math.ceil((earliest - begins) / step) : 0;
      for (let start = begins + skipped * step; start < ends && start < latest; start += step) {
        if (start + duration > fitsBy) break;
        if (offered.has(start)) continue;
        offered.add(start);
        const seats = seatsLeft(holds, rules, start);
        if (seats <= 0) continue;
        const slot = byStart.get(start);
        if (slot) {
          slot.staffIds.push(person.id);
          slot.seatsLeft = Math.max(slot.seatsLeft, seats);
        } else {
          byStart.set(start, { start, end: start + duration, staffIds: [person.id], seatsLeft: seats });
        }
      }
    }
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

/**
 * The local calendar days of [first, last] in a zone, each with its [start, end) instants and a formatter of
 * instants as RFC 3339 with the zone's offset, looked up per instant only on a day it changes or outside the day.
 */
export function localDays(
  first: string,
  last: string,
  zone: string,
): { date: string; start: number; end: number; format: (instant: number) => string }[] {
  const iana = IANAZone.create(zone);
  const days = [];
  for (let date = first; date <= last; date = addDays(date, 1)) {
    const { start, end, steady, offset } = zoneDay(zone, date);
    const suffix = offsetSuffix(offset);
    days.push({
      date,
      start,
      end,
      // Within a steady day an instant's local time is its distance from midnight: no Date, no lookup.
      format: (at: number) =>
        steady && at >= start && at < end ? `${date}T${clock(at - start)}${suffix}` : rfc3339(at, iana.offset(at)),
    });
  }
  return days;
}

/** An instant as RFC 3339 at an offset (in minutes), to the second: `2027-03-29T09:00:00+02:00`. */
export function rfc3339(instant: number, offset: number): string {
  const local = new Date(instant + offset * MINUTE).toISOString().slice(0, 19);
  return `${local}${offsetSuffix(offset)}`;
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** An offset in minutes as RFC 3339 writes it: `+02:00`, `-05:00`. */
function offsetSuffix(offset: number): string {
  const minutes = Math.abs(offset);
  return `${offset < 0 ? '-' : '+'}${two(Math.floor(minutes / 60))}:${two(minutes % 60)}`;
}

/** `HH:MM:SS` of a time of day in milliseconds (under 24 h; milliseconds dropped). */
function clock(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
}
