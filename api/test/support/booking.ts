import type { PopulatedAgency } from './fixtures.js';
import { asVisitor, created, publishFirstParty, siteWithModule, type ModuleSite } from './modules.js';
import type { TestPlatform } from './platform.js';
import { buildFirstPartyModule, type ModulePublishBody } from '../../../scripts/first-party-module.js';

let built: Promise<ModulePublishBody> | undefined;

/** The booking module's publish body (its manifest, `<dm-booking>` bundled, its OpenAPI document), built once. */
export const bookingModule = async () => structuredClone(await (built ??= buildFirstPartyModule('booking')));

export interface BookingAgency extends ModuleSite {
  /** `/v1/sites/<site>/booking` */
  base: string;
}

/** Publishes the booking module as the platform operator (once per platform). */
export const publishBooking = (platform: TestPlatform) => publishFirstParty(platform, [bookingModule()]);

/**
 * A site with the booking module installed, its own allowed origin and publishable key: of a new agency, or
 * of `owner`'s (sign-ups are rate-limited per address, so a file's tests share a few agencies).
 */
export async function bookingAgency(
  platform: TestPlatform,
  name: string,
  owner?: PopulatedAgency,
): Promise<BookingAgency> {
  const site = await siteWithModule(platform, 'booking', name, owner);
  return { ...site, base: `/v1/sites/${site.siteId}/booking` };
}

/** Creates, failing the test unless it is created. */
export async function create(agency: BookingAgency, path: string, body: unknown) {
  const reply = await agency.call('POST', `${agency.base}${path}`, body);
  if (reply.status !== 201) throw new Error(`POST ${path}: ${reply.status} ${reply.text}`);
  return reply.body;
}

export const NINE_TO_FIVE = { start: '09:00', end: '17:00' };
export const WEEKDAYS_NINE_TO_FIVE = Object.fromEntries(
  ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => [day, [NINE_TO_FIVE]]),
);

export interface PopulatedBooking {
  serviceId: string;
  staffId: string;
  bookingId: string;
  /** A date with an override of the staff member's hours. */
  date: string;
}

/** The booking module on the agency's own site: a person with a date override, a service, one booking. */
export async function populateBooking(platform: TestPlatform, agency: PopulatedAgency): Promise<PopulatedBooking> {
  const { token, siteId } = agency;
  const base = `/v1/sites/${siteId}/booking`;
  await created(platform, token, `/v1/sites/${siteId}/installs`, { module_id: 'booking' });
  const staff = await created(platform, token, `${base}/staff`, {
    name: 'Bookable person',
    time_zone: 'Europe/Berlin',
    weekly_hours: WEEKDAYS_NINE_TO_FIVE,
  });
  const date = '2027-01-12';
  const override = await platform.request('PUT', `${base}/staff/${staff.id}/overrides/${date}`, {
    token,
    body: { hours: [{ start: '10:00', end: '12:00' }] },
  });
  if (override.status !== 200) throw new Error(`override: ${override.status} ${override.text}`);
  const service = await created(platform, token, `${base}/services`, {
    name: 'Consultation',
    duration_minutes: 60,
    booking_window_days: 730,
    staff_ids: [staff.id],
  });
  const booking = await asVisitor(platform, agency, 'POST', '/v1/booking/bookings', {
    service_id: service.id,
    start: '2027-01-11T10:00:00+01:00',
    name: 'A visitor',
    email: 'visitor@example.com',
  });
  if (booking.status !== 201) throw new Error(`booking: ${booking.status} ${booking.text}`);
  return { serviceId: service.id, staffId: staff.id, bookingId: booking.body.booking.id, date };
}
