import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { startPolling } from '../platform/polling.js';

const SECOND = 1_000;
/** Waits after failed attempts; after the last one the row is `failed` with its error. */
const RETRY_SCHEDULE = [5 * SECOND, 60 * SECOND, 10 * 60 * SECOND, 60 * 60 * SECOND];

/** An outbox event, as a module's consumer receives it. */
export interface InboxEvent {
  id: string;
  type: string;
  agencyId: string;
  siteId: string;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/** What a consumer may do besides writing in `tx`: run something once the transaction has committed. */
export interface InboxContext {
  tx: Knex.Transaction;
  agencyId: string;
  afterCommit(effect: () => void): void;
}

/** A first-party module that acts on events of the sites it is installed on. */
export interface InboxConsumer {
  moduleId: string;
  /** The event types it receives. */
  types: readonly string[];
  /** Handles one event in `ctx.tx`, which also marks it done: it commits with its effects, or not at all. */
  handle(ctx: InboxContext, event: InboxEvent): Promise<void>;
}

/**
 * Queues, in the fan-out's transaction, one inbox row per event and subscribed module installed (active) on
 * the event's site.
 */
export async function queueForModules(
  tx: Knex.Transaction,
  eventIds: readonly string[],
  consumers: readonly InboxConsumer[],
  now: Date,
): Promise<void> {
  for (const consumer of consumers) {
    const rows = (await tx('outbox as o')
      .join('installs as i', 'i.site_id', 'o.site_id')
      .whereIn('o.id', eventIds)
      .whereIn('o.type', consumer.types)
      .where({ 'i.module_id': consumer.moduleId, 'i.status': 'active' })
      .select('o.id', 'o.agency_id', 'o.site_id')) as { id: string; agency_id: string; site_id: string }[];
    if (rows.length === 0) continue;
    await tx('module_inbox')
      .insert(
        rows.map((row) => ({
          id: uuidv7(),
          agency_id: row.agency_id,
          site_id: row.site_id,
          module_id: consumer.moduleId,
          event_id: row.id,
          next_attempt_at: now,
        })),
      )
      .onConflict(['module_id', 'event_id'])
      .ignore();
  }
}

export interface ModuleInbox {
  nudge(): void;
  stop(): Promise<void>;
}

export interface ModuleInboxOptions {
  knex: Knex;
  logger: Logger;
  consumers: readonly InboxConsumer[];
  pollMs: number;
  now: () => Date;
  retrySchedule: readonly number[];
}

/**
 * Hands queued events to their modules, one event per transaction: the row is locked (`SKIP LOCKED`, so
 * several processes share the work), the consumer's changes are made, and the row is marked done in that same
 * transaction — an event is acted on once even if a process dies half-way (its transaction rolls back, and the
 * row is taken again). Runs as the schema owner across tenants, like the other workers; consumers scope their
 * writes to the event's site.
 */
export function startModuleInbox(
  given: Partial<ModuleInboxOptions> & Pick<ModuleInboxOptions, 'knex' | 'logger' | 'consumers'>,
): ModuleInbox {
  const options: ModuleInboxOptions = {
    pollMs: SECOND,
    now: () => new Date(),
    retrySchedule: RETRY_SCHEDULE,
    ...given,
  };
  const { knex, logger } = options;
  const consumers = new Map(options.consumers.map((consumer) => [consumer.moduleId, consumer]));

  /** Handles the next due event; false when there is none. */
  async function handleOne(): Promise<boolean> {
    const effects: (() => void)[] = [];
    const handled = await knex.transaction(async (tx) => {
      const row = (await tx('module_inbox as m')
        .join('outbox as o', 'o.id', 'm.event_id')
        .where('m.status', 'pending')
        .where('m.next_attempt_at', '<=', options.now())
        .orderBy('m.next_attempt_at')
        .forUpdate('m')
        .skipLocked()
        .first(
          'm.id',
          'm.module_id',
          'm.attempts',
          'o.id as event_id',
          'o.type',
          'o.agency_id',
          'o.site_id',
          'o.payload',
          'o.created_at',
        )) as
        | {
            id: string;
            module_id: string;
            attempts: number;
            event_id: string;
            type: string;
            agency_id: string;
            site_id: string;
            payload: Record<string, unknown>;
            created_at: Date;
          }
        | undefined;
      if (!row) return false;
      // Uninstalled since the event was queued: the module no longer acts on that site.
      const installed = await tx('installs')
        .where({ site_id: row.site_id, module_id: row.module_id, status: 'active' })
        .first('id');
      if (!installed) {
        await tx('module_inbox')
          .where({ id: row.id })
          .update({ status: 'done', handled_at: options.now(), last_error: 'not installed on the site any more' });
        return true;
      }
      const consumer = consumers.get(row.module_id);
      try {
        await tx.transaction(async (work) => {
          if (!consumer) throw new Error(`no consumer for module ${row.module_id} in this process`);
          await consumer.handle(
            { tx: work, agencyId: row.agency_id, afterCommit: (effect) => effects.push(effect) },
            {
              id: row.event_id,
              type: row.type,
              agencyId: row.agency_id,
              siteId: row.site_id,
              payload: row.payload,
              createdAt: row.created_at,
            },
          );
        });
        await tx('module_inbox')
          .where({ id: row.id })
          .update({ status: 'done', handled_at: options.now(), attempts: row.attempts + 1 });
      } catch (error) {
        // The consumer's savepoint is rolled back; the row records the attempt.
        effects.length = 0;
        logger.error({ err: error, inbox: row.id, event: row.event_id }, `${row.module_id} could not handle an event`);
        const wait = options.retrySchedule[row.attempts];
        await tx('module_inbox')
          .where({ id: row.id })
          .update({
            attempts: row.attempts + 1,
            last_error: String(error instanceof Error ? error.message : error).slice(0, 500),
            ...(wait === undefined
              ? { status: 'failed' }
              : { next_attempt_at: new Date(options.now().getTime() + wait) }),
          });
      }
      return true;
    });
    for (const effect of effects) effect();
    return handled;
  }

  const polling = startPolling({
    pollMs: options.pollMs,
    logger,
    name: 'module inbox',
    async round() {
      for (let handled = 0; handled < 50; handled += 1) {
        if (!(await handleOne())) return false;
      }
      return true;
    },
  });
  return { nudge: polling.nudge, stop: polling.stop };
}
