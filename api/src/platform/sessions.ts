import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { Handlers, Role, Schemas } from '../http/operations.js';
import { forbidden, Problem, unauthorized } from '../http/problem.js';
import { ROLE_SCOPES } from './roles.js';
import { hashToken, newToken, verifyPassword } from './secrets.js';

const SESSION_DAYS = 7;

interface Membership {
  agency_id: string;
  agency_name: string;
  role: Role;
  client_id: string | null;
}

/** Opens a session in the transaction's current tenant, which must be `membership.agency_id`. */
export async function openSession(
  tx: Knex.Transaction,
  user: { id: string; email: string; name: string },
  membership: Membership,
  agencies: Membership[],
): Promise<Schemas['Session']> {
  const token = newToken('ses');
  const [session] = await tx('sessions')
    .insert({
      id: uuidv7(),
      agency_id: membership.agency_id,
      user_id: user.id,
      hash: hashToken(token),
      expires_at: tx.raw(`now() + interval '${SESSION_DAYS} days'`),
    })
    .returning('expires_at');
  return {
    token,
    expires_at: session.expires_at,
    agency_id: membership.agency_id,
    role: membership.role,
    client_id: membership.client_id,
    scopes: [...ROLE_SCOPES[membership.role]],
    user: { id: user.id, email: user.email, name: user.name },
    agencies: agencies.map((a) => ({ id: a.agency_id, name: a.agency_name })),
  };
}

export async function membershipsOf(tx: Knex.Transaction, userId: string): Promise<Membership[]> {
  const { rows } = (await tx.raw('SELECT * FROM dramac_user_agencies(?)', [userId])) as { rows: Membership[] };
  return rows;
}

export const sessionHandlers: Pick<Handlers, 'createSession' | 'deleteCurrentSession'> = {
  async createSession({ tx, body, enterTenant }) {
    const { rows } = (await tx.raw('SELECT * FROM dramac_find_login(?)', [body.email])) as {
      rows: { id: string; email: string; name: string; password_hash: string | null }[];
    };
    const user = rows[0];
    if (!(await verifyPassword(body.password, user?.password_hash ?? null)) || !user) {
      throw new Problem(401, 'invalid_credentials', 'Unauthorized', 'The email or password is wrong.');
    }
    const agencies = await membershipsOf(tx, user.id);
    const membership = body.agency_id ? agencies.find((a) => a.agency_id === body.agency_id) : agencies[0];
    if (!membership) {
      throw forbidden(
        'not_a_member',
        body.agency_id ? 'You are not a member of that agency.' : 'You belong to no agency.',
      );
    }
    await enterTenant({ agencyId: membership.agency_id, clientId: membership.client_id });
    return { status: 201, body: await openSession(tx, user, membership, agencies) };
  },

  async deleteCurrentSession({ tx, principal }) {
    if (principal.kind !== 'session') throw unauthorized('Only a session can be signed out; revoke keys instead.');
    await tx('sessions').where({ id: principal.credentialId }).delete();
    return { status: 204 };
  },
};
