import type { Knex } from 'knex';
import { APP_ROLE, inTenant, runAll } from './sql.js';

/**
 * What an install of an integration module shares with its vendor: an OAuth client the vendor calls back
 * with, and the secret that signs the platform's calls to the vendor (kept as it is: it must sign). Gone
 * with the OAuth client when the module is uninstalled.
 */
export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    // The vendor's OAuth client goes with its install, however the install goes (uninstalled, or its site
    // or client deleted).
    `ALTER TABLE oauth_clients ADD COLUMN install_id uuid UNIQUE REFERENCES installs ON DELETE CASCADE`,
    `CREATE TABLE integrations (
       install_id uuid PRIMARY KEY REFERENCES installs ON DELETE CASCADE,
       agency_id uuid NOT NULL REFERENCES agencies ON DELETE CASCADE,
       client_id uuid NOT NULL,
       oauth_client_id uuid NOT NULL UNIQUE REFERENCES oauth_clients ON DELETE CASCADE,
       signing_secret text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now())`,
    `ALTER TABLE integrations ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE integrations FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant ON integrations USING (${inTenant()})`,
    `GRANT SELECT, INSERT, DELETE ON integrations TO ${APP_ROLE}`,
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [`DROP TABLE integrations`, `ALTER TABLE oauth_clients DROP COLUMN install_id`]);
}
