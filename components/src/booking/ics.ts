/** What a calendar entry needs from a booking (the API's `Booking` fits). */
export interface CalendarEntry {
  id: string;
  service_name: string;
  staff_name: string;
  start: string;
  end: string;
}

/** `2027-01-12T10:00:00-05:00` → `20270112T150000Z` (iCalendar's and Google's UTC form). */
export function utcStamp(instant: string | Date): string {
  return new Date(instant)
    .toISOString()
    .replace(/\.\d{3}/, '')
    .replace(/[-:]/g, '');
}

/** Escapes TEXT values (RFC 5545 §3.3.11). */
function text(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/;/g, '\\;').replace(/,/g, '\\,').replace(/\r?\n/g, '\\n');
}

/** Folds a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 sequence. */
function fold(line: string): string {
  const encoder = new TextEncoder();
  const pieces: string[] = [];
  let current = '';
  let size = 0;
  for (const character of line) {
    const bytes = encoder.encode(character).length;
    const limit = pieces.length === 0 ? 75 : 74; // continuation lines start with a space
    if (size + bytes > limit) {
      pieces.push(current);
      current = '';
      size = 0;
    }
    current += character;
    size += bytes;
  }
  pieces.push(current);
  return pieces.join('\r\n ');
}

/** A one-event iCalendar file for the booking, with CRLF line endings and times in UTC. */
export function bookingIcs(entry: CalendarEntry, options: { now?: Date; description?: string } = {}): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Dramac//Booking//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    'BEGIN:VEVENT',
    `UID:${entry.id}@booking.dramac`,
    `DTSTAMP:${utcStamp(options.now ?? new Date())}`,
    `DTSTART:${utcStamp(entry.start)}`,
    `DTEND:${utcStamp(entry.end)}`,
    `SUMMARY:${text(entry.service_name)}`,
    `DESCRIPTION:${text(options.description ?? entry.staff_name)}`,
    'STATUS:CONFIRMED',
    'END:VEVENT',
    'END:VCALENDAR',
  ];
  return lines.map(fold).join('\r\n') + '\r\n';
}

/** A link that opens Google Calendar with the booking filled in. */
export function googleCalendarUrl(entry: CalendarEntry, details = entry.staff_name): string {
  const url = new URL('https://calendar.google.com/calendar/render');
  url.searchParams.set('action', 'TEMPLATE');
  url.searchParams.set('text', entry.service_name);
  url.searchParams.set('dates', `${utcStamp(entry.start)}/${utcStamp(entry.end)}`);
  url.searchParams.set('details', details);
  return url.href;
}
