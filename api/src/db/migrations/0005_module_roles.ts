import type { Knex } from 'knex';
import { APP_ROLE, inTenant, runAll } from './sql.js';

/**
 * Custom roles per client: named sets of module permissions (`acme.faq.questions.read`), given to the client's
 * users beside their built-in role. The permission an operation needs is checked in one place, the request
 * pipeline (api/src/http/authorize.ts). See docs/decisions/0011-roles-inside-modules.md.
 */
const TABLES = ['client_roles', 'user_client_roles'];

export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    `CREATE TABLE client_roles (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       client_id uuid NOT NULL,
       name text NOT NULL,
       description text,
       permissions text[] NOT NULL DEFAULT '{}',
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       UNIQUE (agency_id, client_id, id),
       FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id) ON DELETE CASCADE)`,
    `CREATE UNIQUE INDEX client_roles_name ON client_roles (client_id, lower(name))`,
    // What the composite key below points at: a client user is (agency, client, id).
    `ALTER TABLE users ADD CONSTRAINT users_client_member UNIQUE (agency_id, client_id, id)`,
    // The user and the role share one client column, so a role can only be given within its own client: the
    // database refuses another client's role, and an agency user (no client) can have none.
    `CREATE TABLE user_client_roles (
       agency_id uuid NOT NULL,
       client_id uuid NOT NULL,
       user_id uuid NOT NULL,
       role_id uuid NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (user_id, role_id),
       FOREIGN KEY (agency_id, client_id, user_id) REFERENCES users (agency_id, client_id, id) ON DELETE CASCADE,
       FOREIGN KEY (agency_id, client_id, role_id) REFERENCES client_roles (agency_id, client_id, id)
         ON DELETE CASCADE)`,
    `CREATE INDEX user_client_roles_role ON user_client_roles (role_id)`,

    ...TABLES.flatMap((table) => [
      `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
      `CREATE POLICY tenant ON ${table} USING (${inTenant()})`,
    ]),
    `GRANT SELECT, INSERT, UPDATE, DELETE ON client_roles TO ${APP_ROLE}`,
    `GRANT SELECT, INSERT, DELETE ON user_client_roles TO ${APP_ROLE}`,
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [
    `DROP TABLE user_client_roles, client_roles`,
    `ALTER TABLE users DROP CONSTRAINT users_client_member`,
  ]);
}
