import type { Knex } from 'knex';
import { runAll } from './sql.js';

/**
 * The outbox's retention sweep (api/src/webhooks/retention.ts) finds old events by their time, and deletes
 * their delivery log with them: without an index on `event_id` that cascade would scan every delivery.
 */
export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    `CREATE INDEX outbox_created ON outbox (created_at)`,
    `CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id)`,
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [`DROP INDEX webhook_deliveries_event`, `DROP INDEX outbox_created`]);
}
