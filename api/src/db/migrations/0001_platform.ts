import type { Knex } from 'knex';
import { APP_ROLE, CLIENT, inTenant, runAll, TENANT } from './sql.js';

/**
 * The tenancy core: agencies → clients → sites, the agency's user accounts, keys, sessions and the
 * idempotency store. Every table carries `agency_id` and is guarded by row-level security keyed on the
 * transaction settings `app.tenant_id` (the agency) and `app.client_id` (set when the credential is
 * limited to one client). See docs/decisions/0002-tenancy-with-row-level-security.md.
 */
const TABLES = ['agencies', 'clients', 'sites', 'site_origins', 'users', 'api_keys', 'sessions', 'idempotency_keys'];

/**
 * The credential lookup as first released (migration 0002 replaces it, and restores it when rolled back).
 * plpgsql, because it caches its plans per connection: a SQL-language SECURITY DEFINER function can be
 * neither inlined nor cached, and re-planning this lookup cost more than the rest of a request.
 */
export const AUTHENTICATE_V1 = `CREATE FUNCTION dramac_authenticate(token_hash bytea)
       RETURNS TABLE (kind text, credential_id uuid, agency_id uuid, client_id uuid, site_id uuid,
                      user_id uuid, role text, scopes text[], hash bytea, allowed_origins text[])
       LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
       #variable_conflict use_column
       BEGIN
         RETURN QUERY
           SELECT k.type, k.id, k.agency_id, k.client_id, k.site_id, NULL::uuid, NULL::text, k.scopes, k.hash,
                  CASE WHEN k.type = 'publishable' THEN
                    ARRAY(SELECT o.origin FROM site_origins o WHERE o.site_id = k.site_id) END
             FROM api_keys k
            WHERE k.hash = token_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
         IF FOUND THEN RETURN; END IF;
         RETURN QUERY
           SELECT 'session'::text, s.id, s.agency_id, u.client_id, NULL::uuid, s.user_id, u.role, NULL::text[],
                  s.hash, NULL::text[]
             FROM sessions s JOIN users u ON u.agency_id = s.agency_id AND u.id = s.user_id
            WHERE s.hash = token_hash AND s.expires_at > now();
       END
     $$`;

export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    // The role every request runs as: no superuser, no BYPASSRLS, so policies always apply. Roles belong to the
    // server, not the database: two databases migrated at once race to create it (unique_violation).
    `DO $$ BEGIN CREATE ROLE ${APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
       EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
    `GRANT USAGE ON SCHEMA public TO ${APP_ROLE}`,

    `CREATE FUNCTION app_tenant() RETURNS uuid LANGUAGE sql STABLE
       AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$`,
    `CREATE FUNCTION app_client() RETURNS uuid LANGUAGE sql STABLE
       AS $$ SELECT nullif(current_setting('app.client_id', true), '')::uuid $$`,

    `CREATE TABLE agencies (
       id uuid PRIMARY KEY,
       name text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE TABLE clients (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL REFERENCES agencies ON DELETE CASCADE,
       name text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       UNIQUE (agency_id, id))`,
    // Composite foreign keys keep every child in its parent's agency, whatever a query does.
    `CREATE TABLE sites (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       client_id uuid NOT NULL,
       name text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       UNIQUE (agency_id, id),
       FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX sites_client ON sites (client_id, id)`,
    `CREATE TABLE site_origins (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       origin text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       UNIQUE (site_id, origin),
       FOREIGN KEY (agency_id, site_id) REFERENCES sites (agency_id, id) ON DELETE CASCADE)`,
    // An account belongs to one agency (docs/decisions/0005-accounts-belong-to-an-agency.md): the same
    // email may have an account in several agencies, each with its own password and role.
    `CREATE TABLE users (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL REFERENCES agencies ON DELETE CASCADE,
       email text NOT NULL,
       name text NOT NULL,
       password_hash text,
       role text NOT NULL CHECK (role IN
         ('agency_owner', 'agency_admin', 'agency_member', 'client_admin', 'client_member')),
       client_id uuid,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       UNIQUE (agency_id, id),
       CHECK ((role LIKE 'client\\_%') = (client_id IS NOT NULL)),
       FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id) ON DELETE CASCADE)`,
    `CREATE UNIQUE INDEX users_agency_email ON users (agency_id, lower(email))`,
    `CREATE INDEX users_email ON users (lower(email))`,
    `CREATE TABLE api_keys (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL REFERENCES agencies ON DELETE CASCADE,
       type text NOT NULL CHECK (type IN ('publishable', 'secret')),
       name text NOT NULL,
       prefix text NOT NULL,
       hash bytea NOT NULL UNIQUE,
       site_id uuid,
       client_id uuid,
       scopes text[] NOT NULL DEFAULT '{}',
       created_at timestamptz NOT NULL DEFAULT now(),
       expires_at timestamptz,
       revoked_at timestamptz,
       CHECK ((type = 'publishable') = (site_id IS NOT NULL)),
       FOREIGN KEY (agency_id, site_id) REFERENCES sites (agency_id, id) ON DELETE CASCADE,
       FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id) ON DELETE CASCADE)`,
    // A session ends with the account it belongs to.
    `CREATE TABLE sessions (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       user_id uuid NOT NULL,
       hash bytea NOT NULL UNIQUE,
       created_at timestamptz NOT NULL DEFAULT now(),
       expires_at timestamptz NOT NULL,
       FOREIGN KEY (agency_id, user_id) REFERENCES users (agency_id, id) ON DELETE CASCADE)`,
    // Anonymous requests (sign-up) keep their idempotency keys with no agency.
    `CREATE TABLE idempotency_keys (
       id uuid PRIMARY KEY,
       agency_id uuid REFERENCES agencies ON DELETE CASCADE,
       principal text NOT NULL,
       key text NOT NULL,
       request_hash text NOT NULL,
       status integer,
       body jsonb,
       created_at timestamptz NOT NULL DEFAULT now(),
       UNIQUE (principal, key))`,
    `CREATE INDEX idempotency_keys_age ON idempotency_keys (principal, created_at)`,

    ...TABLES.flatMap((table) => [
      `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    ]),
    // The agency and its clients: readable within the tenant, writable only by credentials not limited
    // to one client (permissive policies add up: SELECT sees either; writes need `manage`).
    `CREATE POLICY tenant ON agencies FOR SELECT USING (id = ${TENANT})`,
    `CREATE POLICY manage ON agencies USING (id = ${TENANT} AND ${CLIENT} IS NULL)`,
    `CREATE POLICY tenant ON clients FOR SELECT USING (${inTenant('id')})`,
    `CREATE POLICY manage ON clients USING (agency_id = ${TENANT} AND ${CLIENT} IS NULL)`,
    `CREATE POLICY tenant ON sites USING (${inTenant('client_id')})`,
    `CREATE POLICY tenant ON site_origins
       USING (agency_id = ${TENANT} AND EXISTS (SELECT 1 FROM sites s WHERE s.id = site_id))`,
    `CREATE POLICY tenant ON users USING (${inTenant('client_id')})`,
    `CREATE POLICY tenant ON api_keys USING (${inTenant('client_id')})`,
    `CREATE POLICY tenant ON sessions USING (agency_id = ${TENANT})`,
    `CREATE POLICY tenant ON idempotency_keys USING (agency_id IS NOT DISTINCT FROM ${TENANT})`,

    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${TABLES.filter((t) => t !== 'users').join(', ')} TO ${APP_ROLE}`,
    // Password hashes can be written, never read back: only the login door below reads them.
    `GRANT SELECT (id, agency_id, email, name, role, client_id, created_at, updated_at), INSERT, DELETE,
       UPDATE (name, role, client_id, password_hash, updated_at) ON users TO ${APP_ROLE}`,

    /*
     * The only doors past row-level security, each answering one question before a tenant is known.
     * They run as the migration owner (which has BYPASSRLS: a superuser in development and CI).
     */
    AUTHENTICATE_V1,
    // The account an email signs in to: in the agency asked for, or else its oldest. It returns the
    // password's parameters (scheme, cost, salt) but never the hash: dramac_password_matches compares.
    `CREATE FUNCTION dramac_find_login(login_email text, in_agency uuid)
       RETURNS TABLE (id uuid, agency_id uuid, password_parameters text)
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
         SELECT u.id, u.agency_id, substring(u.password_hash FROM '^(.*)[$][^$]*$')
           FROM users u
          WHERE lower(u.email) = lower(login_email) AND (in_agency IS NULL OR u.agency_id = in_agency)
          ORDER BY u.created_at, u.id
          LIMIT 1
     $$`,
    `CREATE FUNCTION dramac_password_matches(account uuid, candidate text) RETURNS boolean
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
         SELECT coalesce((SELECT u.password_hash = candidate FROM users u WHERE u.id = account), false)
     $$`,
    ...['dramac_authenticate(bytea)', 'dramac_find_login(text, uuid)', 'dramac_password_matches(uuid, text)'].flatMap(
      (fn) => [`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`, `GRANT EXECUTE ON FUNCTION ${fn} TO ${APP_ROLE}`],
    ),
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [
    `DROP FUNCTION dramac_password_matches(uuid, text)`,
    `DROP FUNCTION dramac_find_login(text, uuid)`,
    `DROP FUNCTION dramac_authenticate(bytea)`,
    `DROP TABLE idempotency_keys, sessions, api_keys, users, site_origins, sites, clients, agencies`,
    `DROP FUNCTION app_client()`,
    `DROP FUNCTION app_tenant()`,
    // The role is shared by every database of the cluster, so it stays; it owns nothing here any more.
    `REVOKE USAGE ON SCHEMA public FROM ${APP_ROLE}`,
  ]);
}
