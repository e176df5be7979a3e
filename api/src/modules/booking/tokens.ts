import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The token that lets a visitor read, cancel and reschedule their booking without an account: the booking's
 * id and an HMAC of it under a key derived from SECRET_KEY. Unguessable without the key, checkable without a
 * lookup, and it names exactly one booking.
 */
const PURPOSE = 'dramac booking manage v1';
const MAC_BYTES = 24;

const mac = (secretKey: string, bookingId: string) =>
  createHmac('sha256', secretKey).update(`${PURPOSE}\n${bookingId}`).digest().subarray(0, MAC_BYTES);

export function manageToken(secretKey: string, bookingId: string): string {
  const id = Buffer.from(bookingId.replaceAll('-', ''), 'hex').toString('base64url');
  return `${id}.${mac(secretKey, bookingId).toString('base64url')}`;
}

/** The booking id a token names, or `null` when it is not one of ours. */
export function bookingOfToken(secretKey: string, token: string): string | null {
  const [id, signature] = token.split('.');
  if (!id || !signature) return null;
  const hex = Buffer.from(id, 'base64url').toString('hex');
  if (hex.length !== 32) return null;
  const bookingId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(secretKey, bookingId);
  return given.length === expected.length && timingSafeEqual(given, expected) ? bookingId : null;
}

/**
 * Where the visitor manages the booking: the page they booked on, with the token in the fragment (never sent
 * to a server, so it stays out of access logs and referrers); `<dm-booking>` there opens the booking.
 */
export function manageUrl(pageUrl: string | null, token: string): string | null {
  if (!pageUrl) return null;
  const url = new URL(pageUrl);
  url.hash = `dm-booking=${token}`;
  return url.href;
}
