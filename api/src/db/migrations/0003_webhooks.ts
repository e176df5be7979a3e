import type { Knex } from 'knex';
import { APP_ROLE, inTenant, runAll } from './sql.js';

/**
 * Events and their webhook deliveries. `outbox` holds every event, written in the transaction of the change
 * that caused it; the worker (api/src/webhooks/worker.ts) fans each one out to the subscribed endpoints as
 * one `webhook_deliveries` row per endpoint and delivers them. Requests see their tenant's rows only; the
 * worker runs as the schema owner across tenants, as the purge sweep does.
 */
const TABLES = ['outbox', 'webhook_endpoints', 'webhook_deliveries'];

export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    // `id` (a UUIDv7: time-ordered) is the event's id and every delivery's `webhook-id`.
    `CREATE TABLE outbox (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL REFERENCES agencies ON DELETE CASCADE,
       client_id uuid,
       site_id uuid,
       type text NOT NULL,
       payload jsonb NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       fanned_out_at timestamptz)`,
    `CREATE INDEX outbox_pending ON outbox (id) WHERE fanned_out_at IS NULL`,
    // The secret signs, so it is kept as it is (a hash could not sign); it is shown only when made.
    `CREATE TABLE webhook_endpoints (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL REFERENCES agencies ON DELETE CASCADE,
       client_id uuid,
       site_id uuid,
       url text NOT NULL,
       description text,
       event_types text[] NOT NULL,
       secret text NOT NULL,
       previous_secret text,
       previous_secret_expires_at timestamptz,
       enabled boolean NOT NULL DEFAULT true,
       disabled_reason text,
       disabled_at timestamptz,
       failure_streak integer NOT NULL DEFAULT 0,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       UNIQUE (agency_id, id),
       CHECK (site_id IS NULL OR client_id IS NOT NULL),
       FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id) ON DELETE CASCADE,
       FOREIGN KEY (agency_id, site_id) REFERENCES sites (agency_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX webhook_endpoints_agency ON webhook_endpoints (agency_id) WHERE enabled`,
    `CREATE TABLE webhook_deliveries (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       client_id uuid,
       endpoint_id uuid NOT NULL,
       event_id uuid NOT NULL REFERENCES outbox ON DELETE CASCADE,
       status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
       attempts integer NOT NULL DEFAULT 0,
       next_attempt_at timestamptz,
       last_attempt_at timestamptz,
       last_status_code integer,
       last_error text,
       latency_ms integer,
       response_excerpt text CHECK (char_length(response_excerpt) <= 500),
       delivered_at timestamptz,
       created_at timestamptz NOT NULL DEFAULT now(),
       UNIQUE (endpoint_id, event_id),
       FOREIGN KEY (agency_id, endpoint_id) REFERENCES webhook_endpoints (agency_id, id) ON DELETE CASCADE)`,
    // What the worker claims: due, pending deliveries, oldest event first.
    `CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, event_id) WHERE status = 'pending'`,
    `CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id)`,

    ...TABLES.flatMap((table) => [
      `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    ]),
    ...TABLES.map((table) => `CREATE POLICY tenant ON ${table} USING (${inTenant()})`),
    // Requests write events and read them back; only the worker marks them fanned out.
    `GRANT SELECT, INSERT ON outbox TO ${APP_ROLE}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_endpoints TO ${APP_ROLE}`,
    `GRANT SELECT, UPDATE (status, attempts, next_attempt_at) ON webhook_deliveries TO ${APP_ROLE}`,
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [`DROP TABLE webhook_deliveries, webhook_endpoints, outbox`]);
}
