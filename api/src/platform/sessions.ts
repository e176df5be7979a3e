import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { enterTenant, NO_TENANT } from '../db/tenant.js';
import { forbidden, Problem } from '../http/problem.js';
import { withPreparation, type Handlers, type Role, type Schemas } from '../http/operations.js';
import { ROLE_SCOPES } from './roles.js';
import { hashToken, newToken, verifyPassword } from './secrets.js';

const SESSION_DAYS = 7;

/** One agency's account, as sign-in sees it. */
export interface Account {
  id: string;
  agency_id: string;
  agency_name: string;
  email: string;
  name: string;
  role: Role;
  client_id: string | null;
}

/**
 * Opens a session for `account`, in the transaction's current tenant (which must be the account's
 * agency). `agencies` are the accounts the same credentials open, for the client to offer a switch.
 */
export async function openSession(
  tx: Knex.Transaction,
  account: Account,
  agencies: Account[],
): Promise<Schemas['Session']> {
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
  return {
    token,
    expires_at: session.expires_at,
    agency_id: account.agency_id,
    role: account.role,
    client_id: account.client_id,
    scopes: [...ROLE_SCOPES[account.role]],
    user: { id: account.id, email: account.email, name: account.name },
    agencies: agencies.map((a) => ({ id: a.agency_id, name: a.agency_name })),
  };
}

const invalidCredentials = () =>
  new Problem(401, 'invalid_credentials', 'Unauthorized', 'The email or password is wrong.');

/** The accounts that this email and password open, checked before any transaction holds a connection. */
async function accountsOpenedBy(knex: Knex, email: string, password: string): Promise<Account[]> {
  const candidates = await knex.transaction(async (tx) => {
    await enterTenant(tx, NO_TENANT);
    const { rows } = (await tx.raw('SELECT * FROM dramac_find_login(?)', [email])) as {
      rows: (Account & { password_hash: string | null })[];
    };
    return rows;
  });
  // An unknown email costs one hash like a known one, so timing does not tell which emails exist.
  if (candidates.length === 0) await verifyPassword(password, null);
  const opened: Account[] = [];
  for (const { password_hash, ...account } of candidates) {
    if (await verifyPassword(password, password_hash)) opened.push(account);
  }
  return opened;
}

export const sessionHandlers: Pick<Handlers, 'createSession' | 'deleteCurrentSession'> = {
  createSession: withPreparation(
    ({ knex, body }) => accountsOpenedBy(knex, body.email, body.password),
    async ({ tx, body, enterTenant }, accounts) => {
      const account = body.agency_id ? accounts.find((a) => a.agency_id === body.agency_id) : accounts[0];
      if (!account) throw invalidCredentials();
      await enterTenant({ agencyId: account.agency_id, clientId: account.client_id });
      return { status: 201, body: await openSession(tx, account, accounts) };
    },
  ),

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
