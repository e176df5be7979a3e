import type { Knex } from 'knex';
import { AUTHENTICATE_V1 } from './0001_platform.js';
import { APP_ROLE, runAll, TENANT } from './sql.js';

/**
 * The module system: the registry (modules, their immutable versions, element tags, vendor namespaces and
 * content-addressed bundle files), installs on sites with their history, and site themes. The platform
 * operator's agency is flagged here. Module data lives in a schema per module, created when a version is
 * published (api/src/modules/storage.ts). See docs/decisions/0006-module-system.md.
 */
const OPERATOR = '(SELECT app_operator())';
/** A site's rows: the tenant's, and within it the client's sites only for client-limited credentials. */
const ON_VISIBLE_SITE = `agency_id = ${TENANT} AND EXISTS (SELECT 1 FROM sites s WHERE s.id = site_id)`;
/** Who may write a module's registry rows: the operator for first-party modules, else the owning agency. */
const OWNS = (module: string) =>
  `EXISTS (SELECT 1 FROM modules m WHERE m.id = ${module} AND
     CASE WHEN m.first_party THEN ${OPERATOR} ELSE m.owner_agency_id = ${TENANT} END)`;

const REGISTRY = ['module_namespaces', 'modules', 'module_versions', 'module_tags', 'bundle_files'];
const TENANT_TABLES = ['installs', 'install_events', 'site_themes'];

export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    // Who the platform operator is comes from OPERATOR_AGENCY_ID at start-up; requests can never set it.
    `ALTER TABLE agencies ADD COLUMN operator boolean NOT NULL DEFAULT false`,
    `REVOKE INSERT, UPDATE ON agencies FROM ${APP_ROLE}`,
    `GRANT INSERT (id, name, created_at, updated_at), UPDATE (name, updated_at) ON agencies TO ${APP_ROLE}`,
    `CREATE FUNCTION app_operator() RETURNS boolean LANGUAGE sql STABLE
       AS $$ SELECT coalesce(nullif(current_setting('app.operator', true), '')::boolean, false) $$`,

    `DROP FUNCTION dramac_authenticate(bytea)`,
    `CREATE FUNCTION dramac_authenticate(token_hash bytea)
       RETURNS TABLE (kind text, credential_id uuid, agency_id uuid, client_id uuid, site_id uuid,
                      user_id uuid, role text, scopes text[], hash bytea, allowed_origins text[], operator boolean)
       LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
       #variable_conflict use_column
       BEGIN
         RETURN QUERY
           SELECT k.type, k.id, k.agency_id, k.client_id, k.site_id, NULL::uuid, NULL::text, k.scopes, k.hash,
                  CASE WHEN k.type = 'publishable' THEN
                    ARRAY(SELECT o.origin FROM site_origins o WHERE o.site_id = k.site_id) END,
                  a.operator AND k.client_id IS NULL AND k.type = 'secret'
             FROM api_keys k JOIN agencies a ON a.id = k.agency_id
            WHERE k.hash = token_hash AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
         IF FOUND THEN RETURN; END IF;
         RETURN QUERY
           SELECT 'session'::text, s.id, s.agency_id, u.client_id, NULL::uuid, s.user_id, u.role, NULL::text[],
                  s.hash, NULL::text[], a.operator AND u.client_id IS NULL
             FROM sessions s JOIN users u ON u.agency_id = s.agency_id AND u.id = s.user_id
                  JOIN agencies a ON a.id = s.agency_id
            WHERE s.hash = token_hash AND s.expires_at > now();
       END
     $$`,
    `REVOKE ALL ON FUNCTION dramac_authenticate(bytea) FROM PUBLIC`,
    `GRANT EXECUTE ON FUNCTION dramac_authenticate(bytea) TO ${APP_ROLE}`,

    // The registry is one catalog for every agency: readable by all, written only by a module's owner.
    // A vendor namespace (`acme` of `acme.faq`) belongs to the agency that first published under it.
    `CREATE TABLE module_namespaces (
       namespace text PRIMARY KEY,
       owner_agency_id uuid REFERENCES agencies ON DELETE SET NULL,
       created_at timestamptz NOT NULL DEFAULT now())`,
    // A module outlives its publisher's agency (other agencies' sites may run it): the owner becomes NULL
    // and nobody can publish new versions.
    `CREATE TABLE modules (
       id text PRIMARY KEY,
       first_party boolean NOT NULL,
       owner_agency_id uuid REFERENCES agencies ON DELETE SET NULL,
       type text NOT NULL CHECK (type IN ('widget', 'app', 'integration', 'system')),
       name text NOT NULL,
       description text NOT NULL,
       category text,
       latest_version text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE)`,
    // Versions are immutable: the application role may insert them, never update or delete them.
    `CREATE TABLE module_versions (
       module_id text NOT NULL REFERENCES modules ON DELETE CASCADE,
       version text NOT NULL,
       manifest jsonb NOT NULL,
       files jsonb NOT NULL,
       published_by_agency uuid,
       published_by_user uuid,
       published_by_credential uuid,
       published_at timestamptz NOT NULL DEFAULT now(),
       seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
       PRIMARY KEY (module_id, version))`,
    `CREATE TABLE module_tags (
       tag text PRIMARY KEY,
       module_id text NOT NULL REFERENCES modules ON DELETE CASCADE)`,
    `CREATE TABLE bundle_files (
       sha256 text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
       integrity text NOT NULL,
       size integer NOT NULL,
       media_type text NOT NULL,
       content bytea NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now())`,

    `CREATE TABLE installs (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       module_id text NOT NULL,
       version text NOT NULL,
       previous_version text,
       previous_settings jsonb,
       status text NOT NULL CHECK (status IN ('active', 'uninstalled', 'purged')),
       settings jsonb NOT NULL DEFAULT '{}',
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       purge_after timestamptz,
       UNIQUE (site_id, module_id),
       FOREIGN KEY (agency_id, site_id) REFERENCES sites (agency_id, id) ON DELETE CASCADE,
       FOREIGN KEY (module_id, version) REFERENCES module_versions (module_id, version),
       FOREIGN KEY (module_id, previous_version) REFERENCES module_versions (module_id, version))`,
    `CREATE INDEX installs_purge ON installs (purge_after) WHERE status = 'uninstalled'`,
    // The history is append-only: inserted and read, never changed.
    `CREATE TABLE install_events (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       install_id uuid NOT NULL REFERENCES installs ON DELETE CASCADE,
       action text NOT NULL,
       from_version text,
       to_version text,
       actor_kind text NOT NULL,
       actor_user_id uuid,
       actor_credential_id uuid,
       created_at timestamptz NOT NULL DEFAULT now(),
       FOREIGN KEY (agency_id, site_id) REFERENCES sites (agency_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX install_events_install ON install_events (install_id, id)`,
    `CREATE TABLE site_themes (
       site_id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       theme jsonb NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now(),
       FOREIGN KEY (agency_id, site_id) REFERENCES sites (agency_id, id) ON DELETE CASCADE)`,

    ...[...REGISTRY, ...TENANT_TABLES].flatMap((table) => [
      `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    ]),
    ...REGISTRY.map((table) => `CREATE POLICY catalog ON ${table} FOR SELECT USING (true)`),
    `CREATE POLICY claim ON module_namespaces FOR INSERT WITH CHECK (owner_agency_id = ${TENANT})`,
    `CREATE POLICY publish ON modules FOR INSERT
       WITH CHECK (CASE WHEN first_party THEN ${OPERATOR} ELSE owner_agency_id = ${TENANT} END)`,
    `CREATE POLICY publish_update ON modules FOR UPDATE
       USING (CASE WHEN first_party THEN ${OPERATOR} ELSE owner_agency_id = ${TENANT} END)`,
    `CREATE POLICY publish ON module_versions FOR INSERT WITH CHECK (${OWNS('module_id')})`,
    `CREATE POLICY publish ON module_tags FOR INSERT WITH CHECK (${OWNS('module_id')})`,
    // Content-addressed: any publisher may add a file; a hash names the same bytes for everyone.
    `CREATE POLICY publish ON bundle_files FOR INSERT WITH CHECK (${TENANT} IS NOT NULL)`,
    ...TENANT_TABLES.map((table) => `CREATE POLICY tenant ON ${table} USING (${ON_VISIBLE_SITE})`),

    `GRANT SELECT, INSERT ON module_namespaces, module_versions, module_tags, bundle_files, install_events
       TO ${APP_ROLE}`,
    `GRANT SELECT, INSERT, UPDATE (type, name, description, category, latest_version, updated_at) ON modules
       TO ${APP_ROLE}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON installs, site_themes TO ${APP_ROLE}`,
  ]);
}

export async function down(knex: Knex): Promise<void> {
  // Module schemas are made when versions are published; they go with the registry that names them.
  const { rows } = (await knex.raw(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'mod\\_%'`)) as {
    rows: { nspname: string }[];
  };
  await runAll(knex, [
    ...rows.map(({ nspname }) => `DROP SCHEMA "${nspname}" CASCADE`),
    `DROP TABLE site_themes, install_events, installs, bundle_files, module_tags, module_versions, modules,
       module_namespaces`,
    `DROP FUNCTION dramac_authenticate(bytea)`,
    AUTHENTICATE_V1,
    `REVOKE ALL ON FUNCTION dramac_authenticate(bytea) FROM PUBLIC`,
    `GRANT EXECUTE ON FUNCTION dramac_authenticate(bytea) TO ${APP_ROLE}`,
    `DROP FUNCTION app_operator()`,
    `REVOKE INSERT (id, name, created_at, updated_at), UPDATE (name, updated_at) ON agencies FROM ${APP_ROLE}`,
    `GRANT INSERT, UPDATE ON agencies TO ${APP_ROLE}`,
    `ALTER TABLE agencies DROP COLUMN operator`,
  ]);
}
