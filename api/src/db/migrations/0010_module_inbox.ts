import type { Knex } from 'knex';
import { runAll, TENANT } from './sql.js';

/**
 * First-party modules that act on other modules' events (the CRM adds a booking's visitor to its contacts)
 * receive them through an inbox: when the webhook worker fans an outbox event out, it also queues one row per
 * subscribed module installed on the event's site, in the same transaction — so no event is missed, and each
 * is handled once (the module's change and the row's `done` commit together). Only the workers, which run as
 * the schema owner, touch it. See docs/decisions/0014-crm-module.md.
 */
export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    `CREATE TABLE module_inbox (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL REFERENCES agencies ON DELETE CASCADE,
       site_id uuid NOT NULL,
       module_id text NOT NULL,
       event_id uuid NOT NULL REFERENCES outbox ON DELETE CASCADE,
       status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
       attempts integer NOT NULL DEFAULT 0,
       next_attempt_at timestamptz NOT NULL DEFAULT now(),
       last_error text,
       handled_at timestamptz,
       UNIQUE (module_id, event_id))`,
    `CREATE INDEX module_inbox_due ON module_inbox (next_attempt_at) WHERE status = 'pending'`,
    `CREATE INDEX module_inbox_event ON module_inbox (event_id)`,
    // Guarded like every table, though no request reads it (the application role has no grant on it).
    `ALTER TABLE module_inbox ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE module_inbox FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant ON module_inbox USING (agency_id = ${TENANT})`,
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [`DROP TABLE module_inbox`]);
}
