import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { request } from 'undici';
import { v7 as uuidv7 } from 'uuid';
import { internetOnly, urlRefusal } from '../modules/hooks.js';
import { queueForModules, type InboxConsumer } from '../modules/inbox.js';
import { startPolling } from '../platform/polling.js';
import { emitEvent, onOutboxCommit } from './outbox.js';
import { sweepOutbox } from './retention.js';
import { signatureHeader } from './signing.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The wait after each failed attempt (Standard Webhooks guidance: about ten attempts over about three days):
 * attempt 1 is immediate, attempt 10 about 2.7 days after the event. Each wait gets ±20 % jitter.
 */
export const DEFAULT_RETRY_SCHEDULE = [
  5 * SECOND,
  MINUTE,
  5 * MINUTE,
  30 * MINUTE,
  HOUR,
  3 * HOUR,
  8 * HOUR,
  16 * HOUR,
  36 * HOUR,
];
const MAX_RETRY_AFTER = 24 * HOUR;
const EXCERPT = 500;

const printable = (text: string | null | undefined) => text?.replaceAll('\0', '') ?? null;

export interface WorkerOptions {
  knex: Knex;
  logger: Logger;
  /** HOOKS_ALLOW_LOCAL: plain HTTP and local addresses (development and tests only). */
  allowLocal: boolean;
  /** One attempt's limit, connection to last byte. */
  timeoutMs: number;
  /** The waits after attempts 1, 2 …; its length + 1 attempts in all. */
  retrySchedule: number[];
  /** How often to look for work written by other processes (this process's commits wake it at once). */
  pollMs: number;
  /** Deliveries claimed per transaction. */
  batchSize: number;
  /** Attempts to one endpoint claimed at once and sent in order, one after another. */
  perEndpoint: number;
  /** The most attempts in flight at once. */
  concurrency: number;
  /** The clock (tests move it forward). */
  now: () => Date;
  /** 0.2: each wait is between 80 % and 120 % of the schedule's. */
  jitter: number;
  /** How long settled events and their delivery log are kept (OUTBOX_RETENTION_DAYS). */
  retentionMs: number;
  /** How often the retention sweep runs. */
  sweepMs: number;
  /** First-party modules that receive events through the module inbox (queued at fan-out). */
  consumers: readonly InboxConsumer[];
  /** Called after a fan-out queued events for modules. */
  onQueuedForModules: () => void;
}

export const DEFAULT_WORKER_OPTIONS = {
  timeoutMs: 10 * SECOND,
  retrySchedule: DEFAULT_RETRY_SCHEDULE,
  pollMs: SECOND,
  batchSize: 100,
  perEndpoint: 10,
  concurrency: 50,
  now: () => new Date(),
  jitter: 0.2,
  retentionMs: 30 * DAY,
  sweepMs: HOUR,
  consumers: [],
  onQueuedForModules: () => {},
};

interface Claimed {
  id: string;
  endpoint_id: string;
  agency_id: string;
  client_id: string | null;
  attempts: number;
  event_id: string;
  type: string;
  site_id: string | null;
  payload: unknown;
  event_created_at: Date;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  /** The `next_attempt_at` this worker wrote: while the row still holds it, no other worker has claimed it. */
  lease: Date;
}

interface Outcome {
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  excerpt: string | null;
  retryAfterMs: number | null;
}

export interface WebhookWorker {
  /** Looks for work now. */
  nudge(): void;
  /** Stops claiming, waits for the attempts in flight to be recorded. */
  stop(): Promise<void>;
}

/** Seconds or an HTTP date, as `Retry-After` gives them. */
function retryAfter(value: string | string[] | undefined, now: Date): number | null {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  const ms = /^\d+$/.test(text.trim()) ? Number(text) * SECOND : Date.parse(text) - now.getTime();
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER) : null;
}

/**
 * Delivers the outbox's events to webhook endpoints. Several processes may run it on one database: every
 * claim is a transaction that locks due deliveries (`FOR UPDATE SKIP LOCKED`) and leases them by moving
 * `next_attempt_at` past the time their attempts may take, and commits before anything is sent. Each attempt
 * then starts only if its lease is still the row's (see `take`). A process that dies mid-attempt leaves the
 * lease to expire, and the attempt is made again (with the same `webhook-id`).
 * It runs as the schema owner, across tenants, like the purge sweep.
 */
export function startWebhookWorker(
  given: Partial<WorkerOptions> & Pick<WorkerOptions, 'knex' | 'logger' | 'allowLocal'>,
): WebhookWorker {
  const options: WorkerOptions = { ...DEFAULT_WORKER_OPTIONS, ...given };
  const { knex, logger } = options;
  const maxAttempts = options.retrySchedule.length + 1;
  /** Long enough for `attempts` attempts sent one after another, and their records. */
  const leaseFor = (from: Date, attempts: number) =>
    new Date(from.getTime() + (attempts + 1) * options.timeoutMs + 5 * SECOND);
  const inFlight = new Set<Promise<void>>();
  /** Endpoints with attempts in flight in this process: not claimed again until those are recorded. */
  const busy = new Set<string>();

  const polling = startPolling({ round, pollMs: options.pollMs, logger, name: 'webhook worker' });
  const nudge = polling.nudge;
  const unsubscribe = onOutboxCommit(nudge);

  // Every process sweeps; concurrent sweeps skip each other's locked rows. One sweep at a time per process.
  let sweeping: Promise<void> | null = null;
  const sweep = () => {
    sweeping ??= sweepOutbox(knex, new Date(options.now().getTime() - options.retentionMs))
      .then((swept) => {
        if (swept > 0) logger.info({ swept }, 'old outbox events deleted');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'sweeping the outbox failed'))
      .finally(() => (sweeping = null));
  };
  sweep();
  const sweepTimer = setInterval(sweep, options.sweepMs).unref();

  /** Makes one delivery row per event and subscribed endpoint, for events not fanned out yet. */
  async function fanOut(): Promise<number> {
    return knex.transaction(async (tx) => {
      const events = (await tx('outbox')
        .whereNull('fanned_out_at')
        .orderBy('id')
        .limit(200)
        .forUpdate()
        .skipLocked()
        .select('id')) as { id: string }[];
      if (events.length === 0) return 0;
      const ids = events.map((event) => event.id);
      const { rows } = (await tx.raw(
        `SELECT o.id AS event_id, e.id AS endpoint_id, e.agency_id, e.client_id
           FROM outbox o
           JOIN webhook_endpoints e
             ON e.agency_id = o.agency_id AND e.enabled AND o.type = ANY (e.event_types)
                AND e.created_at <= o.created_at
                AND (e.client_id IS NULL OR e.client_id = o.client_id)
                AND (e.site_id IS NULL OR e.site_id = o.site_id)
          WHERE o.id = ANY (?::uuid[])
          ORDER BY o.id, e.id`,
        [ids],
      )) as { rows: { event_id: string; endpoint_id: string; agency_id: string; client_id: string | null }[] };
      if (rows.length > 0) {
        await tx('webhook_deliveries')
          .insert(rows.map((row) => ({ id: uuidv7(), ...row, next_attempt_at: options.now() })))
          .onConflict(['endpoint_id', 'event_id'])
          .ignore();
      }
      await queueForModules(tx, ids, options.consumers, options.now());
      await tx('outbox').whereIn('id', ids).update({ fanned_out_at: options.now() });
      return events.length;
    });
  }

  /** Locks due deliveries, leases them, and commits: no other worker claims them while the leases last. */
  async function claim(room: number): Promise<Claimed[]> {
    return knex.transaction(async (tx) => {
      const now = options.now();
      const query = tx('webhook_deliveries as d')
        .join('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
        .join('outbox as o', 'o.id', 'd.event_id')
        .where('d.status', 'pending')
        .where('e.enabled', true)
        .where('d.next_attempt_at', '<=', now)
        .orderBy([
          { column: 'd.next_attempt_at', order: 'asc' },
          { column: 'd.event_id', order: 'asc' },
        ])
        .limit(Math.min(options.batchSize, room))
        .forUpdate('d')
        .skipLocked();
      if (busy.size > 0) query.whereNotIn('d.endpoint_id', [...busy]);
      const candidates = (await query.select(
        'd.id',
        'd.endpoint_id',
        'd.agency_id',
        'd.client_id',
        'd.attempts',
        'd.event_id',
        'o.type',
        'o.site_id',
        'o.payload',
        'o.created_at as event_created_at',
        'e.url',
        'e.secret',
        'e.previous_secret',
        'e.previous_secret_expires_at',
      )) as Claimed[];
      // Each endpoint's attempts in event order, a few at a time; the rest stay for the next claim.
      const byEndpoint = new Map<string, Claimed[]>();
      for (const row of candidates.sort((a, b) => a.event_id.localeCompare(b.event_id))) {
        const group = byEndpoint.get(row.endpoint_id) ?? [];
        if (group.length < options.perEndpoint) group.push(row);
        byEndpoint.set(row.endpoint_id, group);
      }
      const claimed: Claimed[] = [];
      for (const group of byEndpoint.values()) {
        for (const [position, row] of group.entries()) {
          // Every attempt used (a record that could not be written, say): given up, never sent again.
          if (row.attempts >= maxAttempts) {
            await tx('webhook_deliveries').where({ id: row.id }).update({ status: 'failed', next_attempt_at: null });
            continue;
          }
          // Sent one after another: the lease covers every attempt before this one, and this one.
          const lease = leaseFor(now, position + 1);
          await tx('webhook_deliveries').where({ id: row.id }).update({ next_attempt_at: lease });
          claimed.push({ ...row, lease });
        }
      }
      return claimed;
    });
  }

  /**
   * Starts an attempt: counts it and leases the delivery for this one attempt, but only while the claim's
   * lease is still the row's. Otherwise (earlier attempts or their records took longer than it allowed, and
   * another worker claimed the delivery, or it was replayed) it is not ours to send: `null`. From here a
   * crash means another attempt, never none.
   */
  async function take(delivery: Claimed): Promise<Claimed | null> {
    const now = options.now();
    const lease = leaseFor(now, 1);
    const [taken] = (await knex('webhook_deliveries')
      .where({ id: delivery.id, status: 'pending', next_attempt_at: delivery.lease })
      .update({ attempts: knex.raw('attempts + 1'), next_attempt_at: lease, last_attempt_at: now })
      .returning('attempts')) as { attempts: number }[];
    return taken ? { ...delivery, attempts: taken.attempts, lease } : null;
  }

  async function send(delivery: Claimed): Promise<Outcome> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const refusal = urlRefusal(delivery.url, options.allowLocal);
    if (refusal)
      return { statusCode: null, error: `refused: ${refusal}`, latencyMs: 0, excerpt: null, retryAfterMs: null };
    const now = options.now();
    const timestamp = Math.floor(Date.now() / SECOND);
    const body = JSON.stringify({
      type: delivery.type,
      timestamp: new Date(delivery.event_created_at).toISOString(),
      ...(delivery.site_id ? { site_id: delivery.site_id } : {}),
      data: delivery.payload,
    });
    const secrets = [delivery.secret];
    if (delivery.previous_secret && delivery.previous_secret_expires_at && delivery.previous_secret_expires_at > now) {
      secrets.push(delivery.previous_secret);
    }
    try {
      const response = await request(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Dramac-Webhooks/1',
          'webhook-id': delivery.event_id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureHeader(secrets, delivery.event_id, timestamp, body),
        },
        body,
        dispatcher: options.allowLocal ? undefined : internetOnly,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      let excerpt = '';
      for await (const chunk of response.body) {
        excerpt += String(chunk);
        if (excerpt.length >= EXCERPT) break;
      }
      if (excerpt.length >= EXCERPT) response.body.destroy();
      return {
        statusCode: response.statusCode,
        error: null,
        latencyMs: elapsed(),
        excerpt: excerpt.slice(0, EXCERPT) || null,
        retryAfterMs: retryAfter(response.headers['retry-after'], now),
      };
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      const message =
        (error as Error).name === 'TimeoutError'
          ? `no answer within ${options.timeoutMs} ms`
          : (cause ?? (error as Error).message);
      return {
        statusCode: null,
        error: message.slice(0, EXCERPT),
        latencyMs: elapsed(),
        excerpt: null,
        retryAfterMs: null,
      };
    }
  }

  /** Records an attempt's outcome and schedules the next one, or gives up. */
  async function settle(delivery: Claimed, outcome: Outcome): Promise<void> {
    const now = options.now();
    const ok = outcome.statusCode !== null && outcome.statusCode >= 200 && outcome.statusCode < 300;
    const gone = outcome.statusCode === 410;
    await knex.transaction(async (tx) => {
      const log = {
        last_status_code: outcome.statusCode,
        // A receiver's bytes, stored as text: a NUL (which text cannot hold) must not make recording fail.
        last_error: printable(outcome.error ?? (ok ? null : `answered ${outcome.statusCode}`)),
        latency_ms: outcome.latencyMs,
        response_excerpt: printable(outcome.excerpt),
      };
      // Only this very attempt's record: a replay, or a later attempt after a lease ran out, owns it otherwise.
      const mine = () =>
        tx('webhook_deliveries').where({ id: delivery.id, attempts: delivery.attempts, status: 'pending' });
      if (ok) {
        const recorded = await mine()
          .update({ ...log, status: 'succeeded', delivered_at: now, next_attempt_at: null })
          .returning('id');
        if (recorded.length > 0) {
          await tx('webhook_endpoints').where({ id: delivery.endpoint_id }).update({ failure_streak: 0 });
        }
        return;
      }
      const exhausted = delivery.attempts >= maxAttempts;
      let next: Date | null = null;
      if (!gone && !exhausted) {
        const base = options.retrySchedule[delivery.attempts - 1]!;
        const jittered = base * (1 - options.jitter + Math.random() * 2 * options.jitter);
        next = new Date(now.getTime() + Math.max(jittered, outcome.retryAfterMs ?? 0));
      }
      const recorded = await mine()
        .update(next ? { ...log, next_attempt_at: next } : { ...log, status: 'failed', next_attempt_at: null })
        .returning('id');
      if (recorded.length === 0) return;
      const [endpoint] = (await tx('webhook_endpoints')
        .where({ id: delivery.endpoint_id })
        .increment('failure_streak', 1)
        .returning(['failure_streak', 'enabled'])) as { failure_streak: number; enabled: boolean }[];
      // 410 Gone: the receiver asks for no more. Sustained failure: a delivery used every attempt and no attempt
      // to the endpoint succeeded meanwhile (a streak at least as long as the schedule: about three days).
      const reason = gone ? 'gone' : exhausted && (endpoint?.failure_streak ?? 0) >= maxAttempts ? 'failing' : null;
      if (reason && endpoint?.enabled) {
        await tx('webhook_endpoints')
          .where({ id: delivery.endpoint_id })
          .update({ enabled: false, disabled_reason: reason, disabled_at: now, updated_at: now });
        logger.warn({ endpoint: delivery.endpoint_id, reason }, 'webhook endpoint disabled');
        // The notice: an event of its own, for the agency's other endpoints (and its logs).
        await emitEvent(
          { tx, afterCommit: () => {} },
          {
            type: 'platform.webhook.disabled',
            agencyId: delivery.agency_id,
            clientId: delivery.client_id,
            siteId: null,
            payload: { webhook_id: delivery.endpoint_id, reason, url: delivery.url },
          },
        );
      }
    });
  }

  async function attemptInOrder(group: Claimed[]): Promise<void> {
    try {
      for (const claimed of group) {
        const delivery = await take(claimed);
        if (!delivery) continue;
        const outcome = await send(delivery);
        await settle(delivery, outcome).catch((error: unknown) =>
          logger.error({ err: error, delivery: delivery.id }, 'recording a webhook attempt failed'),
        );
        // After a 410 the endpoint is disabled: the rest wait, pending, in case it is enabled again.
        if (outcome.statusCode === 410) break;
      }
    } catch (error) {
      // The rest of the group is claimed again once its leases run out.
      logger.error({ err: error, endpoint: group[0]!.endpoint_id }, 'starting a webhook attempt failed');
    } finally {
      busy.delete(group[0]!.endpoint_id);
      nudge();
    }
  }

  /** One round: fan out, claim what is due, start sending. Whether there may be more to do at once. */
  async function round(): Promise<boolean> {
    const fanned = await fanOut();
    if (fanned > 0 && options.consumers.length > 0) options.onQueuedForModules();
    const room = options.concurrency - busy.size;
    if (room <= 0) return fanned > 0;
    const claimed = await claim(room);
    const groups = new Map<string, Claimed[]>();
    for (const row of claimed) groups.set(row.endpoint_id, [...(groups.get(row.endpoint_id) ?? []), row]);
    for (const [endpointId, group] of groups) {
      busy.add(endpointId);
      const running = attemptInOrder(group);
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
    }
    return fanned > 0 || claimed.length > 0;
  }

  return {
    nudge,
    async stop() {
      unsubscribe();
      clearInterval(sweepTimer);
      await polling.stop();
      await Promise.allSettled([...inFlight, sweeping]);
    },
  };
}
