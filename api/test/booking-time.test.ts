import { Settings } from 'luxon';
import { afterEach, describe, expect, it } from 'vitest';
import { localDays, workingTime, type StaffSchedule } from '../src/modules/booking/time.js';

// What the API tests cannot reach: dates long past (the booking window starts today).

const HOUR = 3_600_000;
const everyDay = (start: string, end: string): StaffSchedule['weekly'] =>
  Object.fromEntries(
    ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].map((day) => [
      day,
      [{ start, end }],
    ]),
  );

describe('a date a zone skips altogether', () => {
  // Samoa moved across the date line at the end of 29 December 2011: its calendar has no 30 December.
  const samoa: StaffSchedule = {
    id: 'staff',
    timeZone: 'Pacific/Apia',
    weekly: everyDay('09:00', '10:00'),
    overrides: new Map(),
  };

  // 28 Dec 12:00 UTC is the 28th in Apia, 31 Dec 12:00 UTC already 1 January: a day either side of those.
  it('places no working hours on it, and the days around it keep theirs', () => {
    const { ranges } = workingTime(samoa, Date.UTC(2011, 11, 28, 12), Date.UTC(2011, 11, 31, 12));
    const local = ranges.map(([start]) =>
      localDays('2011-12-27', '2012-01-02', 'Pacific/Apia')
        .find((day) => start >= day.start && start < day.end)!
        .format(start),
    );
    expect(local).toEqual([
      '2011-12-27T09:00:00-10:00',
      '2011-12-28T09:00:00-10:00',
      '2011-12-29T09:00:00-10:00',
      '2011-12-31T09:00:00+14:00',
      '2012-01-01T09:00:00+14:00',
      '2012-01-02T09:00:00+14:00',
    ]);
    expect(ranges.every(([start, end]) => end - start === HOUR)).toBe(true);
  });

  it('is a day of no length in the visitor’s calendar', () => {
    const days = localDays('2011-12-29', '2011-12-31', 'Pacific/Apia');
    expect(days.map((day) => [day.date, (day.end - day.start) / HOUR])).toEqual([
      ['2011-12-29', 24],
      ['2011-12-30', 0],
      ['2011-12-31', 24],
    ]);
  });
});

describe('a midnight that happens twice', () => {
  afterEach(() => {
    Settings.now = () => Date.now();
  });

  // Havana falls back from 01:00 to 00:00 on Sunday 1 November 2026: its midnight comes at 04:00 and 05:00 UTC.
  it('starts the day at the first, where the day before ends, whatever the season it is asked in', () => {
    // Luxon reads an ambiguous wall-clock time by the offset of the season it is asked in: ask in winter.
    Settings.now = () => Date.UTC(2026, 11, 15);
    const days = localDays('2026-10-31', '2026-11-02', 'America/Havana');
    expect(days.map((day) => [day.date, new Date(day.start).toISOString(), (day.end - day.start) / HOUR])).toEqual([
      ['2026-10-31', '2026-10-31T04:00:00.000Z', 24],
      ['2026-11-01', '2026-11-01T04:00:00.000Z', 25],
      ['2026-11-02', '2026-11-02T05:00:00.000Z', 24],
    ]);
  });
});
