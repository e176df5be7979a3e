/**
 * Calendar arithmetic on plain dates (`YYYY-MM-DD`), free of any time zone: each date is handled as
 * midnight UTC, so adding days never trips over a daylight-saving change.
 */

export type FirstDayOfWeek = 'monday' | 'sunday' | 'saturday';

const WEEK_START: Record<FirstDayOfWeek, number> = { sunday: 0, monday: 1, saturday: 6 };

export function toDate(iso: string): Date {
  return new Date(`${iso}T00:00:00Z`);
}

export function toIso(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function addDays(iso: string, days: number): string {
  const date = toDate(iso);
  date.setUTCDate(date.getUTCDate() + days);
  return toIso(date);
}

/** The same day of another month, or that month's last day when it is shorter (31 Jan + 1 → 28 Feb). */
export function addMonths(iso: string, months: number): string {
  const date = toDate(iso);
  const day = date.getUTCDate();
  date.setUTCDate(1);
  date.setUTCMonth(date.getUTCMonth() + months);
  date.setUTCDate(Math.min(day, daysInMonth(toIso(date))));
  return toIso(date);
}

export function monthStart(iso: string): string {
  return `${iso.slice(0, 7)}-01`;
}

export function monthEnd(iso: string): string {
  return `${iso.slice(0, 7)}-${String(daysInMonth(iso)).padStart(2, '0')}`;
}

export function daysInMonth(iso: string): number {
  const date = toDate(monthStart(iso));
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
}

/** Today's date on the wall calendar of `timeZone`. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(now)
    .reduce<Record<string, string>>((all, part) => ({ ...all, [part.type]: part.value }), {});
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/** The month's weeks, each seven dates long; days of the neighbouring months are `null`. */
export function monthWeeks(month: string, firstDay: FirstDayOfWeek): (string | null)[][] {
  const first = monthStart(month);
  const lead = (toDate(first).getUTCDay() - WEEK_START[firstDay] + 7) % 7;
  const cells: (string | null)[] = [...Array<null>(lead).fill(null)];
  for (let day = 0; day < daysInMonth(first); day++) cells.push(addDays(first, day));
  while (cells.length % 7 !== 0) cells.push(null);
  const weeks: (string | null)[][] = [];
  for (let index = 0; index < cells.length; index += 7) weeks.push(cells.slice(index, index + 7));
  return weeks;
}

/** The seven weekdays in calendar order, as dates of a reference week (for their localised names). */
export function weekdayDates(firstDay: FirstDayOfWeek): string[] {
  // 2023-01-01 was a Sunday.
  return Array.from({ length: 7 }, (_, index) => addDays('2023-01-01', WEEK_START[firstDay] + index));
}

/** The first and last day of the week `iso` lies in. */
export function weekBounds(iso: string, firstDay: FirstDayOfWeek): [string, string] {
  const offset = (toDate(iso).getUTCDay() - WEEK_START[firstDay] + 7) % 7;
  return [addDays(iso, -offset), addDays(iso, 6 - offset)];
}
