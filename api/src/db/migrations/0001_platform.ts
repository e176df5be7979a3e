import type { Knex } from 'knex';
import { APP_ROLE, runAll } from './sql.js';

/**
 * The tenancy core: agencies → clients → sites, users and their memberships, keys, sessions and the
 * idempotency store. Every tenant-owned table carries `agency_id` and is guarded by row-level security
 * keyed on the transaction settings `app.tenant_id` (the agency) and `app.client_id` (set when the
 * credential is limited to one client). See docs/decisions/0002-tenancy-with-row-level-security.md.
 */
const TENANT_TABLES = ['agencies', 'clients', 'sites', 'site_origins', 'memberships', 'api_keys', 'sessions'];

export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    // The role every request runs as: no superuser, no BYPASSRLS, so policies always apply.
    `DO $$ BEGIN CREATE ROLE ${APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
       EXCEPTION WHEN duplicate_object THEN NULL; END $$`,
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
    `CREATE TABLE users (
       id uuid PRIMARY KEY,
       email text NOT NULL,
       name text NOT NULL,
       password_hash text,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE UNIQUE INDEX users_email ON users (lower(email))`,
    `CREATE TABLE memberships (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL REFERENCES agencies ON DELETE CASCADE,
       user_id uuid NOT NULL REFERENCES users ON DELETE CASCADE,
       client_id uuid,
       role text NOT NULL CHECK (role IN
         ('agency_owner', 'agency_admin', 'agency_member', 'client_admin', 'client_member')),
       created_at timestamptz NOT NULL DEFAULT now(),
       UNIQUE (agency_id, user_id),
       CHECK ((role LIKE 'client\\_%') = (client_id IS NOT NULL)),
       FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX memberships_user ON memberships (user_id)`,
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
    // A session ends with the membership it was opened under.
    `CREATE TABLE sessions (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       user_id uuid NOT NULL,
       hash bytea NOT NULL UNIQUE,
       created_at timestamptz NOT NULL DEFAULT now(),
       expires_at timestamptz NOT NULL,
       FOREIGN KEY (agency_id, user_id) REFERENCES memberships (agency_id, user_id) ON DELETE CASCADE)`,
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

    ...TENANT_TABLES.concat('users', 'idempotency_keys').flatMap((table) => [
      `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    ]),
    `CREATE POLICY tenant ON agencies USING (id = app_tenant())`,
    `CREATE POLICY tenant ON clients
       USING (agency_id = app_tenant() AND (app_client() IS NULL OR id = app_client()))`,
    `CREATE POLICY tenant ON sites
       USING (agency_id = app_tenant() AND (app_client() IS NULL OR client_id = app_client()))`,
    `CREATE POLICY tenant ON site_origins
       USING (agency_id = app_tenant() AND EXISTS (SELECT 1 FROM sites s WHERE s.id = site_id))`,
    `CREATE POLICY tenant ON memberships
       USING (agency_id = app_tenant() AND (app_client() IS NULL OR client_id = app_client()))`,
    `CREATE POLICY tenant ON api_keys
       USING (agency_id = app_tenant() AND (app_client() IS NULL OR client_id = app_client()))`,
    `CREATE POLICY tenant ON sessions USING (agency_id = app_tenant())`,
    // A user is visible where they hold a membership the current tenant can see.
    `CREATE POLICY tenant ON users
       USING (EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id))`,
    `CREATE POLICY tenant ON idempotency_keys USING (agency_id IS NOT DISTINCT FROM app_tenant())`,

    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${TENANT_TABLES.join(', ')}, idempotency_keys TO ${APP_ROLE}`,
    // Accounts are created only through dramac_ensure_user; tenants may read and rename their users.
    `GRANT SELECT, UPDATE (name, updated_at) ON users TO ${APP_ROLE}`,

    /*
     * The only doors past row-level security, each answering one question before a tenant is known.
     * They run as the migration owner (which has BYPASSRLS: a superuser in development and CI).
     */
    // plpgsql, because it caches its plans per connection: a SQL-language SECURITY DEFINER function can
    // be neither inlined nor cached, and re-planning this lookup cost more than the rest of a request.
    `CREATE FUNCTION dramac_authenticate(token_hash bytea)
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
           SELECT 'session'::text, s.id, s.agency_id, m.client_id, NULL::uuid, s.user_id, m.role, NULL::text[],
                  s.hash, NULL::text[]
             FROM sessions s JOIN memberships m ON m.agency_id = s.agency_id AND m.user_id = s.user_id
            WHERE s.hash = token_hash AND s.expires_at > now();
       END
     $$`,
    `CREATE FUNCTION dramac_find_login(login_email text)
       RETURNS TABLE (id uuid, email text, name text, password_hash text)
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
         SELECT u.id, u.email, u.name, u.password_hash FROM users u WHERE lower(u.email) = lower(login_email)
     $$`,
    `CREATE FUNCTION dramac_user_agencies(member uuid)
       RETURNS TABLE (agency_id uuid, agency_name text, role text, client_id uuid)
       LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
         SELECT a.id, a.name, m.role, m.client_id
           FROM memberships m JOIN agencies a ON a.id = m.agency_id
          WHERE m.user_id = member ORDER BY m.created_at, m.id
     $$`,
    // Creates an account for a new email; for a known one, returns it with its password hash to check.
    `CREATE FUNCTION dramac_ensure_user(new_id uuid, new_email text, new_name text, new_password_hash text)
       RETURNS TABLE (user_id uuid, created boolean, known_password_hash text)
       LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
       DECLARE inserted uuid;
       BEGIN
         INSERT INTO users (id, email, name, password_hash)
           VALUES (new_id, new_email, new_name, new_password_hash)
           ON CONFLICT (lower(email)) DO NOTHING
           RETURNING users.id INTO inserted;
         IF inserted IS NOT NULL THEN
           RETURN QUERY SELECT inserted, true, new_password_hash;
         ELSE
           RETURN QUERY SELECT u.id, false, u.password_hash FROM users u WHERE lower(u.email) = lower(new_email);
         END IF;
       END
     $$`,
    ...['dramac_authenticate(bytea)', 'dramac_find_login(text)', 'dramac_user_agencies(uuid)'].flatMap((fn) => [
      `REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`,
      `GRANT EXECUTE ON FUNCTION ${fn} TO ${APP_ROLE}`,
    ]),
    `REVOKE ALL ON FUNCTION dramac_ensure_user(uuid, text, text, text) FROM PUBLIC`,
    `GRANT EXECUTE ON FUNCTION dramac_ensure_user(uuid, text, text, text) TO ${APP_ROLE}`,
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [
    `DROP FUNCTION dramac_ensure_user(uuid, text, text, text)`,
    `DROP FUNCTION dramac_user_agencies(uuid)`,
    `DROP FUNCTION dramac_find_login(text)`,
    `DROP FUNCTION dramac_authenticate(bytea)`,
    `DROP TABLE idempotency_keys, sessions, api_keys, memberships, users, site_origins, sites, clients, agencies`,
    `DROP FUNCTION app_client()`,
    `DROP FUNCTION app_tenant()`,
    // The role is shared by every database of the cluster, so it stays; it owns nothing here any more.
    `REVOKE USAGE ON SCHEMA public FROM ${APP_ROLE}`,
  ]);
}
