import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { Handlers, Principal, Role, Schemas } from '../http/operations.js';
import { conflict, forbidden, invalidField, notFound } from '../http/problem.js';
import { paginate } from '../http/pagination.js';
import { isClientRole, ROLE_SCOPES } from './roles.js';
import { hashPassword } from './secrets.js';

type User = Schemas['User'];

/** A membership joined with its account: what the API calls a user. */
const users = (tx: Knex.Transaction) =>
  tx('memberships as m')
    .join('users as u', 'u.id', 'm.user_id')
    .select('u.id', 'u.email', 'u.name', 'm.role', 'm.client_id', 'm.created_at', 'm.id as membership_id');

const toUser = ({ membership_id: _, ...user }: Record<string, unknown>) => user as unknown as User;

async function findUser(tx: Knex.Transaction, userId: string): Promise<User> {
  const row = await users(tx).where('m.user_id', userId).first();
  if (!row) throw notFound('user');
  return toUser(row);
}

/** Nobody hands out, or takes away, more than they hold themselves. */
function assertMayManage(principal: Principal, role: Role) {
  const exceeds = ROLE_SCOPES[role].some((scope) => !principal.scopes.has(scope));
  if (exceeds || (principal.clientId && !isClientRole(role))) {
    throw forbidden('role_not_grantable', `You may not grant or change the role ${role}.`);
  }
}

/** The client a role applies to: required for client roles, refused for agency roles. */
async function clientFor(tx: Knex.Transaction, role: Role, clientId: string | null | undefined) {
  if (!isClientRole(role)) {
    if (clientId) throw invalidField('client_id', `must not be set for the agency role ${role}`);
    return null;
  }
  if (!clientId) throw invalidField('client_id', `is required for the client role ${role}`);
  if (!(await tx('clients').where({ id: clientId }).first('id'))) throw notFound('client');
  return clientId;
}

async function assertNotLastOwner(tx: Knex.Transaction, user: User) {
  if (user.role !== 'agency_owner') return;
  const owners = await tx('memberships').where({ role: 'agency_owner' }).count({ count: '*' }).first();
  if (Number(owners?.count) <= 1)
    throw conflict('last_owner', 'An agency keeps at least one owner: make someone else owner first.');
}

export const userHandlers: Pick<Handlers, 'listUsers' | 'createUser' | 'getUser' | 'updateUser' | 'deleteUser'> = {
  async listUsers({ tx, query }) {
    const list = users(tx);
    if (query.client_id) list.where('m.client_id', query.client_id);
    return { status: 200, body: await paginate(list, { column: 'm.id', field: 'membership_id' }, query, toUser) };
  },

  async createUser({ tx, agencyId, principal, body }) {
    assertMayManage(principal, body.role);
    const clientId = await clientFor(tx, body.role, body.client_id);
    const { rows } = (await tx.raw('SELECT user_id FROM dramac_ensure_user(?, ?, ?, ?)', [
      uuidv7(),
      body.email,
      body.name,
      body.password ? await hashPassword(body.password) : null,
    ])) as { rows: { user_id: string }[] };
    const [membership] = await tx('memberships')
      .insert({ id: uuidv7(), agency_id: agencyId, user_id: rows[0]!.user_id, client_id: clientId, role: body.role })
      .onConflict(['agency_id', 'user_id'])
      .ignore()
      .returning('id');
    if (!membership) throw conflict('already_member', `${body.email} is already a user of this agency.`);
    return { status: 201, body: await findUser(tx, rows[0]!.user_id) };
  },

  async getUser({ tx, params }) {
    return { status: 200, body: await findUser(tx, params.userId) };
  },

  async updateUser({ tx, principal, params, body }) {
    const user = await findUser(tx, params.userId);
    if (body.role !== undefined || body.client_id !== undefined) {
      const role = body.role ?? user.role;
      assertMayManage(principal, user.role);
      assertMayManage(principal, role);
      if (role !== 'agency_owner') await assertNotLastOwner(tx, user);
      const clientId = await clientFor(
        tx,
        role,
        body.client_id === undefined ? (isClientRole(role) ? user.client_id : null) : body.client_id,
      );
      await tx('memberships').where({ user_id: user.id }).update({ role, client_id: clientId });
    }
    if (body.name !== undefined)
      await tx('users').where({ id: user.id }).update({ name: body.name, updated_at: tx.fn.now() });
    return { status: 200, body: await findUser(tx, user.id) };
  },

  async deleteUser({ tx, principal, params }) {
    const user = await findUser(tx, params.userId);
    assertMayManage(principal, user.role);
    await assertNotLastOwner(tx, user);
    // The membership's sessions go with it (foreign key cascade).
    await tx('memberships').where({ user_id: user.id }).delete();
    return { status: 204 };
  },
};
