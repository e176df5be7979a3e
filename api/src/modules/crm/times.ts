import { DateTime } from 'luxon';
import { invalidField } from '../../http/problem.js';

/** Years the database stores as dates and times (it has no year 0, and its range ends long before 9999). */
const inRange = (time: DateTime) => time.isValid && time.year >= 1 && time.year <= 9999;

/** A calendar date that exists (`2027-02-30` does not: the request validator checks only the shape). */
export const isDate = (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value) && inRange(DateTime.fromISO(value));

/** An RFC 3339 instant that exists. */
export const isInstant = (value: string) => inRange(DateTime.fromISO(value, { setZone: true }));

/** Checks that the dates and instants a body gives exist, naming the first that does not (400). */
export function checkTimes(
  body: Record<string, unknown>,
  fields: { dates?: readonly string[]; instants?: readonly string[] },
): void {
  for (const field of fields.dates ?? []) {
    const value = body[field];
    if (typeof value === 'string' && !isDate(value)) throw invalidField(field, 'is not a date that exists');
  }
  for (const field of fields.instants ?? []) {
    const value = body[field];
    if (typeof value === 'string' && !isInstant(value)) throw invalidField(field, 'is not a time that exists');
  }
}
