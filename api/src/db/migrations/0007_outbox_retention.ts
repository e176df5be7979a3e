import type { Knex } from 'knex';
import { APP_ROLE, runAll } from './sql.js';

/**
 * The outbox's retention sweep (api/src/webhooks/retention.ts) finds old events by their time, and deletes
 * their delivery log with them: without an index on `event_id` that cascade would scan every delivery. An
 * endpoint's recovery (`POST /v1/webhooks/{id}/recover`), a request, queues the deliveries of the events the
 * outbox kept for it.
 */
export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    `CREATE INDEX outbox_created ON outbox (created_at)`,
    `CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id)`,
    `GRANT INSERT (id, agency_id, client_id, endpoint_id, event_id, next_attempt_at) ON webhook_deliveries TO ${APP_ROLE}`,
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [
    `REVOKE INSERT ON webhook_deliveries FROM ${APP_ROLE}`,
    `DROP INDEX webhook_deliveries_event`,
    `DROP INDEX outbox_created`,
  ]);
}
