/** Money, dates and times as people read them, in the element's locale. */

const fractionDigits = new Map<string, number>();

/** An amount in minor units (cents) of `currency`, e.g. `1234500, 'EUR'` → `€12,345.00` (en) / `12.345,00 €` (de). */
export function formatMoney(amountMinor: number, currency: string, locale: string): string {
  let format: Intl.NumberFormat;
  try {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency });
  } catch {
    // Not a currency Intl knows: the amount as two-decimal units, with the code.
    return `${(amountMinor / 100).toFixed(2)} ${currency}`;
  }
  let digits = fractionDigits.get(currency);
  if (digits === undefined) {
    digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    fractionDigits.set(currency, digits);
  }
  return format.format(amountMinor / 10 ** digits);
}

/** A calendar date (`2027-03-12`) as a medium date, e.g. `Mar 12, 2027` / `12.03.2027`. */
export function formatDate(date: string, locale: string): string {
  const instant = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(instant.getTime())) return date;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(instant);
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 7],
];

/**
 * An instant relative to `now` for the last (and next) week — `5 minutes ago`, `yesterday` — and as a date
 * and time beyond that.
 */
export function formatWhen(instant: string, locale: string, now: Date = new Date()): string {
  const time = new Date(instant);
  if (Number.isNaN(time.getTime())) return instant;
  let value = (time.getTime() - now.getTime()) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(value) < size) {
      return new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(Math.round(value), unit);
    }
    value /= size;
  }
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(time);
}

/** The same instant in full, for a tooltip beside a relative time. */
export function formatInstant(instant: string, locale: string): string {
  const time = new Date(instant);
  if (Number.isNaN(time.getTime())) return instant;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'full', timeStyle: 'short' }).format(time);
}
