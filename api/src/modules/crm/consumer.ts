import type { InboxConsumer, InboxEvent } from '../inbox.js';
import { addTimeline, contactByEmail, insertContact, normalizeEmail, type CrmContext } from './contacts.js';
import { MODULE_ID } from './contacts.js';

interface PersonEvent {
  name?: string;
  email?: string;
  phone?: string | null;
  start?: string;
  time_zone?: string;
}

const SUMMARIES: Record<string, (payload: PersonEvent) => string> = {
  'booking.booking.created': (booking) => `Booked an appointment for ${when(booking)}`,
  'booking.booking.rescheduled': (booking) => `Moved their appointment to ${when(booking)}`,
  'booking.booking.cancelled': (booking) => `Cancelled their appointment of ${when(booking)}`,
};

function when(payload: PersonEvent): string {
  if (!payload.start) return 'an unknown time';
  return `${payload.start.slice(0, 16).replace('T', ' ')} UTC`;
}

/** "Ada Lovelace" → Ada, Lovelace; "Plato" → Plato, (none). */
function splitName(name: string): { first_name: string; last_name: string } {
  const parts = name.trim().split(/\s+/);
  if (parts.length < 2) return { first_name: parts[0] ?? '', last_name: '' };
  return { first_name: parts.slice(0, -1).join(' ').slice(0, 100), last_name: parts.at(-1)!.slice(0, 100) };
}

/**
 * The CRM's view of other modules' events: a booking (and later an order, a chat) names a person by email;
 * they become a contact if they are not one yet, and the event joins their timeline (once: the timeline keeps
 * the event's id).
 */
export const crmInboxConsumer: InboxConsumer = {
  moduleId: MODULE_ID,
  types: Object.keys(SUMMARIES),
  async handle(inbox, event: InboxEvent) {
    const payload = event.payload as PersonEvent;
    if (!payload.email) return;
    const ctx: CrmContext = inbox;
    const email = normalizeEmail(payload.email);
    const source = event.type.split('.')[0]!;
    const contact =
      (await contactByEmail(ctx.tx, event.siteId, email)) ??
      (await insertContact(ctx, event.siteId, {
        ...splitName(payload.name ?? ''),
        emails: [email],
        phones: payload.phone ? [payload.phone] : [],
        source,
      }));
    await addTimeline(ctx, event.siteId, contact.id, {
      type: event.type,
      summary: SUMMARIES[event.type]!(payload),
      data: event.payload,
      occurredAt: event.createdAt,
      eventId: event.id,
    });
  },
};
