import type { Knex } from 'knex';
import { APP_ROLE, inTenant, runAll } from './sql.js';

/**
 * The OAuth 2 authorization server (api/src/oauth): the clients agencies register, and the store of
 * oidc-provider (grants, codes, refresh tokens, device codes, interactions) with its signing keys. Agencies
 * manage their clients through the API, under row-level security; the provider's store is reached by the
 * server alone, as the schema owner, like the webhook worker.
 */

export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    // `id` is the OAuth client_id. A `service` authenticates as itself (client credentials); an `app` acts for
    // a signed-in user (authorization code with PKCE). The secret is kept as its SHA-256 only.
    `CREATE TABLE oauth_clients (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL REFERENCES agencies ON DELETE CASCADE,
       client_id uuid,
       type text NOT NULL CHECK (type IN ('service', 'app')),
       name text NOT NULL,
       scopes text[] NOT NULL,
       redirect_uris text[] NOT NULL DEFAULT '{}',
       secret_hash bytea NOT NULL,
       secret_prefix text NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now(),
       CHECK ((type = 'app') = (cardinality(redirect_uris) > 0)),
       FOREIGN KEY (agency_id, client_id) REFERENCES clients (agency_id, id) ON DELETE CASCADE)`,
    `ALTER TABLE oauth_clients ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE oauth_clients FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant ON oauth_clients USING (${inTenant()})`,
    `GRANT SELECT, INSERT, DELETE ON oauth_clients TO ${APP_ROLE}`,

    `CREATE TABLE oauth_store (
       model text NOT NULL,
       id text NOT NULL,
       payload jsonb NOT NULL,
       grant_id text,
       user_code text,
       uid text,
       expires_at timestamptz,
       consumed_at timestamptz,
       PRIMARY KEY (model, id))`,
    `CREATE INDEX oauth_store_grant ON oauth_store (grant_id) WHERE grant_id IS NOT NULL`,
    `CREATE INDEX oauth_store_user_code ON oauth_store (user_code) WHERE user_code IS NOT NULL`,
    `CREATE INDEX oauth_store_uid ON oauth_store (uid) WHERE uid IS NOT NULL`,
    `CREATE INDEX oauth_store_expiry ON oauth_store (expires_at)`,
    // Signing keys (JWKS) and cookie keys, made on first start and shared by every API process.
    `CREATE TABLE oauth_keys (
       id text PRIMARY KEY,
       use text NOT NULL CHECK (use IN ('signing', 'cookies')),
       material jsonb NOT NULL,
       created_at timestamptz NOT NULL DEFAULT now())`,
    // Requests' role has no grant on these; row-level security without a policy closes them twice over.
    ...['oauth_store', 'oauth_keys'].flatMap((table) => [
      `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
      `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    ]),

    /*
     * Who an access token speaks for, checked on every request that presents one: its OAuth client (gone or
     * narrowed since the token was made: no access beyond what it has now), its user (their role and tenant
     * now), and its grant (revoked: the token is dead before it expires). Enters the tenant like
     * dramac_authenticate does.
     */
    `CREATE FUNCTION dramac_authenticate_oauth(token_client uuid, token_user uuid, token_grant text)
       RETURNS TABLE (kind text, credential_id uuid, agency_id uuid, client_id uuid, site_id uuid,
                      user_id uuid, role text, scopes text[], hash bytea, allowed_origins text[], operator boolean)
       LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
       #variable_conflict use_column
       DECLARE
         client oauth_clients%ROWTYPE;
       BEGIN
         IF token_grant IS NOT NULL AND NOT EXISTS (
              SELECT 1 FROM oauth_store g
               WHERE g.model = 'Grant' AND g.id = token_grant AND (g.expires_at IS NULL OR g.expires_at > now())) THEN
           RETURN;
         END IF;
         IF token_client IS NOT NULL THEN
           SELECT * INTO client FROM oauth_clients c WHERE c.id = token_client;
           IF NOT FOUND THEN RETURN; END IF;
         END IF;
         IF token_user IS NOT NULL THEN
           -- An app acts for people of its own agency, within its client if it is limited to one: the token
           -- has the narrower of the two limits. (The CLI, no registered client, acts for anyone.)
           RETURN QUERY
             SELECT 'token'::text, token_client, u.agency_id, coalesce(client.client_id, u.client_id), NULL::uuid,
                    u.id, u.role, client.scopes, NULL::bytea, NULL::text[],
                    a.operator AND coalesce(client.client_id, u.client_id) IS NULL
               FROM users u JOIN agencies a ON a.id = u.agency_id
              WHERE u.id = token_user
                AND (token_client IS NULL OR (u.agency_id = client.agency_id
                     AND (client.client_id IS NULL OR u.client_id IS NULL OR u.client_id = client.client_id)));
         ELSIF token_client IS NOT NULL THEN
           RETURN QUERY
             SELECT 'token'::text, token_client, client.agency_id, client.client_id, NULL::uuid, NULL::uuid, NULL::text,
                    client.scopes, NULL::bytea, NULL::text[], a.operator AND client.client_id IS NULL
               FROM agencies a
              WHERE a.id = client.agency_id AND client.type = 'service';
         END IF;
       END
     $$`,
    `REVOKE ALL ON FUNCTION dramac_authenticate_oauth(uuid, uuid, text) FROM PUBLIC`,
    `GRANT EXECUTE ON FUNCTION dramac_authenticate_oauth(uuid, uuid, text) TO ${APP_ROLE}`,
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [
    `DROP FUNCTION dramac_authenticate_oauth(uuid, uuid, text)`,
    `DROP TABLE oauth_keys, oauth_store, oauth_clients`,
  ]);
}
