import type { Request } from 'express';
import type { Knex } from 'knex';
import { APP_ROLE } from '../db/migrations/sql.js';
import { ROLE_SCOPES } from '../platform/roles.js';
import { hashToken, sameHash } from '../platform/secrets.js';
import type { Principal, Role, Scope } from './operations.js';
import { frameOriginOf } from './frames.js';
import { forbidden, unauthorized } from './problem.js';

/** An operation's `security` list from the spec: any one requirement suffices. */
export type SecurityRequirements = Record<string, string[]>[];

type Scheme = 'bearer' | 'publishableKey';

interface Credential {
  token: string;
  scheme: Scheme;
}

/**
 * Secret keys and sessions come in the Authorization header; publishable keys in the `key` query
 * parameter, where a CORS preflight can see them. A secret in a URL would end up in logs, so it is refused.
 */
function credentialOf(req: Request): Credential | null {
  const header = req.get('authorization');
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized('The Authorization header must be "Bearer <token>".');
    const token = match[1]!;
    if (!/^(sk|ses)_/.test(token)) {
      throw unauthorized('Send a secret key (sk_…) or a session token (ses_…) as the bearer token.');
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
  kind: 'publishable' | 'secret' | 'session';
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
}

/**
 * Finds the credential and, in the same statement, enters its tenant: one round trip for both, since
 * every authenticated request pays for it.
 */
async function lookUp(tx: Knex.Transaction, token: string): Promise<CredentialRow | undefined> {
  const hash = hashToken(token);
  const { rows } = (await tx.raw(
    `SELECT a.*, set_config('role', ?, true),
            set_config('app.tenant_id', a.agency_id::text, true),
            set_config('app.client_id', coalesce(a.client_id::text, ''), true),
            set_config('app.operator', a.operator::text, true)
       FROM dramac_authenticate(?) a`,
    [APP_ROLE, hash],
  )) as { rows: CredentialRow[] };
  const row = rows[0];
  // Belt and braces: the lookup already matched the SHA-256 of the token (which leaks nothing useful by
  // timing); the decision itself is still taken by a constant-time comparison.
  return row && sameHash(Buffer.from(row.hash), hash) ? row : undefined;
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
  const row = await lookUp(tx, credential.token);
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
  const scopes = new Set<Scope>(row.kind === 'session' ? ROLE_SCOPES[row.role!] : (row.scopes ?? []));
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
