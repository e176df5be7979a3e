import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { enterTenant, NO_TENANT } from '../db/tenant.js';
import { forbidden, Problem } from '../http/problem.js';
import { withPreparation, type Handlers, type Role, type Schemas } from '../http/operations.js';
import type { RateLimits } from '../http/rate-limits.js';
import { effectivePermissions } from '../modules/permissions.js';
import { ROLE_SCOPES } from './roles.js';
import { candidatePasswordHash, hashToken, newToken } from './secrets.js';
import { assertPasswordSignInAllowed } from './sso.js';

const SESSION_DAYS = 7;

const USER = ['id', 'agency_id', 'email', 'name', 'role', 'client_id'];

/** An account, as a session shows it. */
export interface Account {
  id: string;
  agency_id: string;
  email: string;
  name: string;
  role: Role;
  client_id: string | null;
}

/** A session as the API shows it: its account, with what the account may do. */
async function sessionOf(
  tx: Knex.Transaction,
  account: Account,
  token: string | null,
  expiresAt: string,
): Promise<Schemas['Session']> {
  return {
    token,
    expires_at: expiresAt,
    agency_id: account.agency_id,
    role: account.role,
    client_id: account.client_id,
    scopes: [...ROLE_SCOPES[account.role]],
    module_permissions: await effectivePermissions(tx, {
      id: account.id,
      role: account.role,
      clientId: account.client_id,
    }),
    user: { id: account.id, email: account.email, name: account.name },
  };
}

/** Opens a session for `account`, in the transaction's current tenant (which must be the account's agency). */
export async function openSession(tx: Knex.Transaction, account: Account): Promise<Schemas['Session']> {
  const token = newToken('ses');
  const [session] = await tx('sessions')
    .insert({
      id: uuidv7(),
      agency_id: account.agency_id,
      user_id: account.id,
      hash: hashToken(token),
      expires_at: tx.raw(`now() + interval '${SESSION_DAYS} days'`),
    })
    .returning('expires_at');
  return sessionOf(tx, account, token, session.expires_at);
}

const invalidCredentials = () =>
  new Problem(401, 'invalid_credentials', 'Unauthorized', 'The email or password is wrong.');

/** Runs `fn` in a short transaction of its own, before any tenant is known. */
const beforeTenant = <T>(knex: Knex, fn: (tx: Knex.Transaction) => Promise<T>) =>
  knex.transaction(async (tx) => {
    await enterTenant(tx, NO_TENANT);
    return fn(tx);
  });

/**
 * The account these credentials open, or null. One account is checked — the one in `agencyId`, or the
 * email's oldest — at the cost of one hash whatever exists, so neither timing nor answers tell how many
 * accounts an email has. The hash is computed while no connection is held, and compared in the database:
 * stored hashes never reach the application.
 */
async function accountOpenedBy(knex: Knex, body: { email: string; password: string; agency_id?: string }) {
  const account = await beforeTenant(knex, async (tx) => {
    const { rows } = (await tx.raw('SELECT * FROM dramac_find_login(?, ?)', [body.email, body.agency_id ?? null])) as {
      rows: { id: string; agency_id: string; password_parameters: string | null }[];
    };
    return rows[0];
  });
  const candidate = await candidatePasswordHash(body.password, account?.password_parameters ?? null);
  if (!account || !candidate) return null;
  const matches = await beforeTenant(knex, async (tx) => {
    const { rows } = (await tx.raw('SELECT dramac_password_matches(?, ?) AS matches', [account.id, candidate])) as {
      rows: { matches: boolean }[];
    };
    return rows[0]?.matches === true;
  });
  return matches ? { id: account.id, agencyId: account.agency_id } : null;
}

/**
 * Checks a sign-in, within the rate limits on attempts (per address) and on failures (per address and
 * email): the account it opens, or null. Shared by `POST /v1/sessions` and the OAuth sign-in page.
 */
export async function checkSignIn(
  knex: Knex,
  limits: RateLimits,
  ip: string,
  body: { email: string; password: string; agency_id?: string },
) {
  const failuresKey = `${ip}:${body.email.toLowerCase()}`;
  await limits.consume('signIn', ip);
  await limits.check('signInFailures', failuresKey);
  const opened = await accountOpenedBy(knex, body);
  if (opened) await limits.forgive('signInFailures', failuresKey);
  else await limits.penalise('signInFailures', failuresKey);
  return opened;
}

export const sessionHandlers: Pick<Handlers, 'createSession' | 'getCurrentSession' | 'deleteCurrentSession'> = {
  createSession: withPreparation(
    ({ knex, body, request, limits }) => checkSignIn(knex, limits, String(request.ip), body),
    async ({ tx, enterTenant, publicUrl }, opened) => {
      if (!opened) throw invalidCredentials();
      await enterTenant({ agencyId: opened.agencyId, clientId: null });
      // Read again inside this transaction: the account may have changed (or gone) since the check.
      const account = (await tx('users').where({ id: opened.id }).first(USER)) as Account | undefined;
      if (!account) throw invalidCredentials();
      await assertPasswordSignInAllowed(tx, account, publicUrl);
      return { status: 201, body: await openSession(tx, account) };
    },
  ),

  async getCurrentSession({ tx, principal }) {
    if (principal.kind !== 'session') {
      throw forbidden('credential_not_accepted', 'This is a key, not a session: GET /v1/keys/{id} describes it.');
    }
    const session = await tx('sessions as s')
      .join('users as u', 'u.id', 's.user_id')
      .where('s.id', principal.credentialId)
      .first('s.expires_at', ...USER.map((column) => `u.${column}`));
    const { expires_at: expiresAt, ...account } = session as Account & { expires_at: string };
    return { status: 200, body: await sessionOf(tx, account, null, expiresAt) };
  },

  async deleteCurrentSession({ tx, principal }) {
    if (principal.kind !== 'session') {
      throw forbidden(
        'credential_not_accepted',
        'Only a session can be signed out; revoke keys with DELETE /v1/keys/{id}.',
      );
    }
    await tx('sessions').where({ id: principal.credentialId }).delete();
    return { status: 204 };
  },
};
