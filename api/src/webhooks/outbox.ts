import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';

/** An event, as the change that caused it records it. */
export interface OutboxEvent {
  type: string;
  agencyId: string;
  clientId: string | null;
  siteId: string | null;
  payload: Record<string, unknown>;
}

type Listener = () => void;
const listeners = new Set<Listener>();

/** Tells the workers of this process that events were committed (they also poll, for other processes'). */
export function onOutboxCommit(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Writes an event to the outbox in the caller's transaction: it exists exactly when the change does. The
 * worker is nudged once the transaction has committed.
 */
export async function emitEvent(
  ctx: { tx: Knex.Transaction; afterCommit(effect: () => void): void },
  event: OutboxEvent,
): Promise<string> {
  const id = uuidv7();
  await ctx.tx('outbox').insert({
    id,
    agency_id: event.agencyId,
    client_id: event.clientId,
    site_id: event.siteId,
    type: event.type,
    payload: event.payload,
  });
  ctx.afterCommit(() => {
    for (const listener of listeners) listener();
  });
  return id;
}

/** The event a site's change emits: the site gives the tenant (agency, client). */
export async function emitSiteEvent(
  ctx: { tx: Knex.Transaction; afterCommit(effect: () => void): void },
  siteId: string,
  type: string,
  payload: Record<string, unknown>,
): Promise<string> {
  const site = (await ctx.tx('sites').where({ id: siteId }).first('agency_id', 'client_id')) as {
    agency_id: string;
    client_id: string;
  };
  return emitEvent(ctx, { type, agencyId: site.agency_id, clientId: site.client_id, siteId, payload });
}

/**
 * The event a module's collection emits for a record, if the module declares one: `<module id>.<thing>.<verb>`
 * where the thing is the collection's name in the singular (`questions` → `question`), or the name itself.
 */
export function collectionEventType(
  declared: Record<string, unknown> | undefined,
  moduleId: string,
  collection: string,
  verb: 'created' | 'updated' | 'deleted',
): string | null {
  if (!declared) return null;
  const singular = collection.endsWith('ies')
    ? `${collection.slice(0, -3)}y`
    : collection.endsWith('s')
      ? collection.slice(0, -1)
      : collection;
  for (const thing of [singular, collection]) {
    const type = `${moduleId}.${thing}.${verb}`;
    if (type in declared) return type;
  }
  return null;
}

/**
 * A record's payload: the fields the event's payload schema declares (when it lists `properties`), taken
 * from the record and its platform fields (`id`, `created_at`, `updated_at`); otherwise all of them.
 */
export function recordPayload(schema: unknown, record: Record<string, unknown>): Record<string, unknown> {
  const properties = (schema as { payload?: { properties?: Record<string, unknown> } } | undefined)?.payload
    ?.properties;
  if (!properties) return record;
  return Object.fromEntries(
    Object.keys(properties)
      .filter((k) => k in record)
      .map((k) => [k, record[k]]),
  );
}
