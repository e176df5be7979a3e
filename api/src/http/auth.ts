import type { Request } from 'express';
import type { Knex } from 'knex';
import { APP_ROLE } from '../db/migrations/sql.js';
import { ROLE_SCOPES } from '../platform/roles.js';
import { hashToken, sameHash } from '../platform/secrets.js';
import type { AccessToken } from '../oauth/provider.js';
import type { Principal, Role, Scope } from './operations.js';
import { frameOriginOf } from './frames.js';
import { UUID } from './pagination.js';
import { forbidden, unauthorized } from './problem.js';

/** An operation's `security` list from the spec: any one requirement suffices. */
export type SecurityRequirements = Record<string, string[]>[];

type Scheme = 'bearer' | 'oauth2' | 'publishableKey';

/** Checks an OAuth access token (see AuthorizationServer.verifyAccessToken): throws when it is not valid. */
export type AccessTokenVerifier = (token: string) => Promise<AccessToken>;

const JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

interface Credential {
  token: string;
  scheme: Scheme;
}

/**
 * Secret keys, sessions and OAuth access tokens (JWTs) come in the Authorization header; publishable keys in
 * the `key` query parameter, where a CORS preflight can see them. A secret in a URL would end up in logs, so
 * it is refused.
 */
function credentialOf(req: Request): Credential | null {
  const header = req.get('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized('The Authorization header must be "Bearer <token>".');
    const token = match[1]!;
    if (JWT.test(token)) return { token, scheme: 'oauth2' };
    if (!/^(sk|ses)_/.test(token)) {
      throw unauthorized(
        'Send a secret key (sk_…), a session token (ses_…) or an OAuth access token as the bearer token.',
      );
    }
    return { token, scheme: 'bearer' };
  }
  const key = req.query.key;
  if (typeof key === 'string') {
    if (!key.startsWith('pk_')) throw unauthorized('The key parameter takes a publishable key (pk_…).');
    return { token: key, scheme: 'publishableKey' };
  }
  return null;
}

interface CredentialRow {
  kind: 'publishable' | 'secret' | 'session' | 'token';
  credential_id: string;
  agency_id: string;
  client_id: string | null;
  site_id: string | null;
  user_id: string | null;
  role: Role | null;
  scopes: Scope[] | null;
  hash: Buffer;
  allowed_origins: string[] | null;
  operator: boolean;
  /** An access token's scopes, as issued. */
  tokenScopes?: Scope[];
}

/**
 * Finds the credential with a lookup function (`dramac_authenticate…`) and, in the same statement, enters its
 * tenant: one round trip for both, since every authenticated request pays for it.
 */
async function enterCredential(tx: Knex.Transaction, lookup: string, args: Knex.Value[]) {
  const { rows } = (await tx.raw(
    `SELECT a.*, set_config('role', ?, true),
            set_config('app.tenant_id', a.agency_id::text, true),
            set_config('app.client_id', coalesce(a.client_id::text, ''), true),
            set_config('app.operator', a.operator::text, true)
       FROM ${lookup} a`,
    [APP_ROLE, ...args],
  )) as { rows: CredentialRow[] };
  return rows[0];
}

async function lookUp(tx: Knex.Transaction, token: string): Promise<CredentialRow | undefined> {
  const hash = hashToken(token);
  const row = await enterCredential(tx, 'dramac_authenticate(?)', [hash]);
  // Belt and braces: the lookup already matched the SHA-256 of the token (which leaks nothing useful by
  // timing); the decision itself is still taken by a constant-time comparison.
  return row && sameHash(Buffer.from(row.hash), hash) ? row : undefined;
}

const nullOrUuid = (value: string | null) => value === null || UUID.test(value);

/**
 * An OAuth access token: its signature and lifetime checked here, then what it speaks for — its client, its
 * user, its grant — looked up as they are now. Its scopes are those it was issued with, narrowed by the
 * lookup (see scopesOf).
 */
async function lookUpAccessToken(
  tx: Knex.Transaction,
  token: string,
  verify: AccessTokenVerifier,
): Promise<CredentialRow | undefined> {
  const claims = await verify(token).catch(() => {
    throw unauthorized('The access token is invalid or expired: get a new one from /oauth/token.');
  });
  if (!nullOrUuid(claims.oauthClientId) || !nullOrUuid(claims.userId)) return undefined;
  const row = await enterCredential(tx, 'dramac_authenticate_oauth(?::uuid, ?::uuid, ?)', [
    claims.oauthClientId,
    claims.userId,
    claims.grantId,
  ]);
  return row && { ...row, tokenScopes: claims.scopes as Scope[] };
}

/**
 * What a credential may do: a session what its user's role allows; a key what it was made with; an access
 * token what it was issued with, within its client's scopes now and its user's role now.
 */
function scopesOf(row: CredentialRow): readonly Scope[] {
  if (row.kind === 'session') return ROLE_SCOPES[row.role!];
  if (row.kind !== 'token') return row.scopes ?? [];
  const role = row.role ? ROLE_SCOPES[row.role] : null;
  return (row.tokenScopes ?? []).filter(
    (scope) => (!row.scopes || row.scopes.includes(scope)) && (!role || role.includes(scope)),
  );
}

/**
 * Enters the tenant of a publishable key given outside the query (the embed script's path) and returns its
 * site; null for an unknown, revoked or other key.
 */
export async function enterPublishableKey(tx: Knex.Transaction, token: string): Promise<string | null> {
  const row = token.startsWith('pk_') ? await lookUp(tx, token) : undefined;
  return row?.kind === 'publishable' ? row.site_id : null;
}

/**
 * Where a publishable key may be used from: its site's allowed origins, and the site's own frame origin
 * (from FRAME_URL), whose pages host the site's widgets in iframes.
 */
const keyOrigins = (row: CredentialRow, frameUrl: string | null) => {
  const frame = frameOriginOf(frameUrl, row.site_id);
  return [...(row.allowed_origins ?? []), ...(frame ? [frame] : [])];
};

/** The origins a publishable key may be used from (none for an unknown, revoked or other key). */
export async function publishableKeyOrigins(knex: Knex, token: string, frameOrigin: string | null): Promise<string[]> {
  if (!token.startsWith('pk_')) return [];
  return knex.transaction(async (tx) => {
    const row = await lookUp(tx, token);
    return row?.kind === 'publishable' ? keyOrigins(row, frameOrigin) : [];
  });
}

/**
 * Authenticates the request against the operation's security requirements, enters the credential's
 * tenant, and checks scopes and (for publishable keys) the Origin. The one place where access is decided.
 */
export async function authenticate(
  tx: Knex.Transaction,
  req: Request,
  requirements: SecurityRequirements,
  /** Where the request comes from (see `requestOrigin`). */
  origin: string | null,
  /** The origin of the platform's widget frames (FRAME_URL), if it has one. */
  frameOrigin: string | null,
  verifyAccessToken: AccessTokenVerifier,
): Promise<Principal> {
  const credential = credentialOf(req);
  const schemes = requirements.flatMap((requirement) => Object.keys(requirement));
  if (!credential) {
    throw unauthorized(
      schemes.includes('bearer')
        ? 'This operation needs a session token or a secret key: Authorization: Bearer <token>.'
        : "This operation needs the site's publishable key: ?key=pk_….",
    );
  }
  const requirement = requirements.find((candidate) => credential.scheme in candidate);
  if (!requirement) {
    throw forbidden(
      'credential_not_accepted',
      credential.scheme === 'publishableKey'
        ? 'Publishable keys reach only the public endpoints; use a secret key or a session.'
        : "This is a public endpoint: call it with the site's publishable key (?key=pk_…).",
    );
  }
  const row =
    credential.scheme === 'oauth2'
      ? await lookUpAccessToken(tx, credential.token, verifyAccessToken)
      : await lookUp(tx, credential.token);
  if (!row) throw unauthorized('The credential is unknown, expired or revoked.');

  if (row.kind === 'publishable') {
    if (!origin || !keyOrigins(row, frameOrigin).includes(origin)) {
      throw forbidden(
        'origin_not_allowed',
        origin
          ? `The origin ${origin} is not allowed for this site. Add it to the site's allowed origins.`
          : "Publishable keys are for browsers: the request must come from one of the site's allowed origins.",
      );
    }
  }
  const scopes = new Set<Scope>(scopesOf(row));
  const missing = requirement[credential.scheme]!.filter((scope) => !scopes.has(scope as Scope));
  if (missing.length > 0) {
    throw forbidden('insufficient_scope', `This operation needs the scope ${missing.join(', ')}.`);
  }
  return {
    kind: row.kind,
    credentialId: row.credential_id,
    agencyId: row.agency_id,
    clientId: row.client_id,
    siteId: row.site_id,
    userId: row.user_id,
    role: row.role,
    scopes,
    operator: row.operator,
  };
}
