import ical, { ICalAttendeeRole, ICalAttendeeStatus, ICalCalendarMethod, ICalEventStatus } from 'ical-generator';
import type { MailMessage } from '../../platform/mail.js';

export type EmailKind = 'confirmation' | 'rescheduled' | 'cancellation' | 'reminder';
export type Recipient = 'visitor' | 'staff';

/** What an email about a booking says, read at send time. */
export interface BookingFacts {
  bookingId: string;
  /** The booking's sequence: bumped on every reschedule and cancellation (the invitation's SEQUENCE). */
  sequence: number;
  startsAt: Date;
  endsAt: Date;
  /** The visitor's. */
  name: string;
  email: string;
  timeZone: string;
  cancellationReason: string | null;
  serviceName: string;
  staffName: string;
  staffEmail: string | null;
  staffTimeZone: string;
  siteName: string;
  /** The visitor's manage link, when the booking was made on a page. */
  manageUrl: string | null;
}

const LOCALE = 'en-GB';

/** The zone's formatter, or UTC's when the zone is not one Intl knows. */
function formatter(timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat(LOCALE, { ...options, timeZone });
  } catch {
    return new Intl.DateTimeFormat(LOCALE, { ...options, timeZone: 'UTC' });
  }
}

/** "Tue 3 Mar, 10:00" in the zone. */
export function shortWhen(date: Date, timeZone: string): string {
  return formatter(timeZone, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
}

/** "Tuesday, 3 March 2026, 10:00–10:30 (Europe/Paris)" in the zone. */
export function longWhen(start: Date, end: Date, timeZone: string): string {
  const day = formatter(timeZone, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
  const time = formatter(timeZone, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const zone = `(${day.resolvedOptions().timeZone})`;
  // A time range alone would print both dates when it runs past midnight: say the second day in words too.
  if (day.format(start) !== day.format(end)) {
    return `${day.format(start)}, ${time.format(start)} – ${day.format(end)}, ${time.format(end)} ${zone}`;
  }
  return `${day.format(start)}, ${time.formatRange(start, end)} ${zone}`;
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A link only when it is a web address: a booking's page URL is the visitor's to give. */
function webLink(url: string | null): string | null {
  if (!url) return null;
  try {
    return ['http:', 'https:'].includes(new URL(url).protocol) ? url : null;
  } catch {
    return null;
  }
}

/**
 * The invitation (METHOD:REQUEST) or its withdrawal (METHOD:CANCEL, STATUS:CANCELLED): one UID per booking and
 * SEQUENCE = the booking's, so calendars update the event they already hold. Times in UTC.
 */
export function bookingCalendar(
  facts: BookingFacts,
  cancel: boolean,
  options: { organizer: { name: string; email: string }; description: string; stamp: Date },
): string {
  const calendar = ical({
    prodId: { company: 'Dramac', product: 'Booking', language: 'EN' },
    method: cancel ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST,
  });
  calendar.createEvent({
    id: `${facts.bookingId}@booking.dramac`,
    sequence: facts.sequence,
    stamp: options.stamp,
    start: facts.startsAt,
    end: facts.endsAt,
    summary: facts.serviceName,
    description: options.description,
    organizer: options.organizer,
    attendees: [
      {
        name: facts.name,
        email: facts.email,
        role: ICalAttendeeRole.REQ,
        status: cancel ? ICalAttendeeStatus.DECLINED : ICalAttendeeStatus.ACCEPTED,
        rsvp: false,
      },
    ],
    status: cancel ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
  });
  return calendar.toString();
}

const VISITOR_LINE: Record<EmailKind, string> = {
  confirmation: 'your booking is confirmed.',
  rescheduled: 'your booking has been moved. Here is the new time.',
  cancellation: 'your booking has been cancelled.',
  reminder: 'a reminder of your booking.',
};
const STAFF_LINE: Record<EmailKind, string> = {
  confirmation: 'you have a new booking.',
  rescheduled: 'a booking with you has been moved. Here is the new time.',
  cancellation: 'a booking with you has been cancelled.',
  reminder: 'a reminder of a booking with you.',
};
const SUBJECT: Record<EmailKind, string> = {
  confirmation: 'Confirmed',
  rescheduled: 'Rescheduled',
  cancellation: 'Cancelled',
  reminder: 'Reminder',
};

/**
 * One email about a booking to the visitor or the staff member: plain text and HTML (every value escaped), the
 * time in the recipient's zone, the visitor's manage link (to the visitor only: it lets its holder cancel),
 * and for confirmations, moves and cancellations the calendar invitation as `invite.ics`.
 */
export function bookingEmail(
  facts: BookingFacts,
  kind: EmailKind,
  recipient: Recipient,
  options: { fromAddress: string; now: Date },
): MailMessage {
  const toStaff = recipient === 'staff';
  const zone = toStaff ? facts.staffTimeZone : facts.timeZone;
  const greeting = toStaff ? facts.staffName : facts.name;
  const manage = toStaff || kind === 'cancellation' ? null : webLink(facts.manageUrl);
  const subject = toStaff
    ? `${kind === 'confirmation' ? 'New booking' : SUBJECT[kind]}: ${facts.serviceName} with ${facts.name} on ${shortWhen(facts.startsAt, zone)}`
    : `${SUBJECT[kind]}: ${facts.serviceName} on ${shortWhen(facts.startsAt, zone)}`;
  const details: [string, string][] = [
    ['What', facts.serviceName],
    ['When', longWhen(facts.startsAt, facts.endsAt, zone)],
    ...(toStaff
      ? ([
          ['Who', `${facts.name} <${facts.email}>`],
          ['Booked on', facts.siteName],
        ] as [string, string][])
      : ([
          ['With', facts.staffName],
          ['Booked on', facts.siteName],
        ] as [string, string][])),
    ...(kind === 'cancellation' && facts.cancellationReason
      ? ([['Reason', facts.cancellationReason]] as [string, string][])
      : []),
  ];
  const opening = `Hello ${greeting}, ${(toStaff ? STAFF_LINE : VISITOR_LINE)[kind]}`;
  const text = [
    opening,
    '',
    ...details.map(([label, value]) => `${label}: ${value}`),
    ...(manage ? ['', `To change or cancel it: ${manage}`] : []),
    '',
  ].join('\n');
  const html = [
    '<!doctype html>',
    '<html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(opening)}</p>`,
    '<table>',
    ...details.map(
      ([label, value]) =>
        `<tr><th align="left" style="padding-right: 1em">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`,
    ),
    '</table>',
    ...(manage ? [`<p><a href="${escapeHtml(manage)}">Change or cancel your booking</a></p>`] : []),
    '</body></html>',
    '',
  ].join('\n');
  const message: MailMessage = {
    to: toStaff ? { name: facts.staffName, address: facts.staffEmail! } : { name: facts.name, address: facts.email },
    subject,
    text,
    html,
  };
  const replyTo = toStaff
    ? { name: facts.name, address: facts.email }
    : facts.staffEmail
      ? { name: facts.staffName, address: facts.staffEmail }
      : undefined;
  if (replyTo) message.replyTo = replyTo;
  if (kind !== 'reminder') {
    const cancel = kind === 'cancellation';
    const description = [
      `${facts.serviceName} with ${toStaff ? facts.name : facts.staffName} (${facts.siteName})`,
      ...(manage ? [`Change or cancel: ${manage}`] : []),
    ].join('\n');
    const organizer = facts.staffEmail
      ? { name: facts.staffName, email: facts.staffEmail }
      : { name: facts.siteName, email: options.fromAddress };
    message.attachments = [
      {
        filename: 'invite.ics',
        content: bookingCalendar(facts, cancel, { organizer, description, stamp: options.now }),
        contentType: `text/calendar; method=${cancel ? 'CANCEL' : 'REQUEST'}; charset=utf-8`,
      },
    ];
  }
  return message;
}
