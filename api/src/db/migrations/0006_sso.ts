import type { Knex } from 'knex';
import { APP_ROLE, CLIENT, runAll, TENANT } from './sql.js';

/**
 * Single sign-on: an agency's OpenID Connect identity provider, and the sign-in attempts in flight
 * through it (api/src/platform/sso.ts). See docs/decisions/0012-sso-relying-party.md.
 */

export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    // One provider per agency. The client secret is sent to the provider, so it cannot be hashed: it is
    // kept sealed (AES-256-GCM under SECRET_KEY). `metadata` is the discovery document read when saved.
    `CREATE TABLE sso_configurations (
       agency_id uuid PRIMARY KEY REFERENCES agencies ON DELETE CASCADE,
       issuer text NOT NULL,
       client_id text NOT NULL,
       client_secret_sealed text NOT NULL,
       client_secret_hint text NOT NULL,
       metadata jsonb NOT NULL,
       allowed_domains text[] NOT NULL CHECK (cardinality(allowed_domains) > 0),
       provision_users boolean NOT NULL DEFAULT false,
       provision_role text NOT NULL DEFAULT 'agency_member'
         CHECK (provision_role IN ('agency_admin', 'agency_member')),
       enabled boolean NOT NULL DEFAULT true,
       enforced boolean NOT NULL DEFAULT false,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now())`,
    // A sign-in on its way through the provider: found by the hash of its `state`, used once, for 10 minutes.
    `CREATE TABLE sso_attempts (
       state_hash bytea PRIMARY KEY,
       agency_id uuid NOT NULL REFERENCES agencies ON DELETE CASCADE,
       code_verifier text NOT NULL,
       nonce text NOT NULL,
       redirect_uri text NOT NULL,
       return_to text NOT NULL,
       expires_at timestamptz NOT NULL)`,
    `CREATE INDEX sso_attempts_expiry ON sso_attempts (agency_id, expires_at)`,

    ...['sso_configurations', 'sso_attempts'].flatMap((table) => [
      `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    ]),
    // The agency's own concern: credentials limited to one client see none of it.
    `CREATE POLICY tenant ON sso_configurations USING (agency_id = ${TENANT} AND ${CLIENT} IS NULL)`,
    `CREATE POLICY tenant ON sso_attempts USING (agency_id = ${TENANT})`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON sso_configurations TO ${APP_ROLE}`,
    // Requests start attempts and sweep their agency's expired ones; only the door below reads them.
    `GRANT SELECT (agency_id, expires_at), INSERT, DELETE ON sso_attempts TO ${APP_ROLE}`,

    // The callback knows only the state: this door takes its attempt (once) before a tenant is known.
    `CREATE FUNCTION dramac_take_sso_attempt(attempt_state_hash bytea)
       RETURNS TABLE (agency_id uuid, code_verifier text, nonce text, redirect_uri text, return_to text)
       LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
         DELETE FROM sso_attempts a
          WHERE a.state_hash = attempt_state_hash AND a.expires_at > now()
         RETURNING a.agency_id, a.code_verifier, a.nonce, a.redirect_uri, a.return_to
     $$`,
    `REVOKE ALL ON FUNCTION dramac_take_sso_attempt(bytea) FROM PUBLIC`,
    `GRANT EXECUTE ON FUNCTION dramac_take_sso_attempt(bytea) TO ${APP_ROLE}`,
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [`DROP FUNCTION dramac_take_sso_attempt(bytea)`, `DROP TABLE sso_attempts, sso_configurations`]);
}
