import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../db/delete.js';
import { withPreparation, type Handlers, type Principal, type Role, type Schemas } from '../http/operations.js';
import { conflict, forbidden, invalidField, notFound, Problem } from '../http/problem.js';
import { paginate } from '../http/pagination.js';
import { assertMayGrant } from './custom-roles.js';
import { isClientRole, ROLE_SCOPES } from './roles.js';
import { hashPassword } from './secrets.js';

type User = Schemas['User'];
const USER = ['id', 'email', 'name', 'role', 'client_id', 'created_at'];
/** A user as the API shows one: with the custom roles they have. */
const withCustomRoles = (tx: Knex.Transaction) => [
  ...USER.map((column) => `users.${column}`),
  tx.raw(
    `ARRAY(SELECT ur.role_id FROM user_client_roles ur WHERE ur.user_id = users.id ORDER BY ur.role_id)
       AS custom_role_ids`,
  ),
];

/** The user, locked for the rest of the transaction when it is about to change (so checks see its current role). */
async function findUser(tx: Knex.Transaction, userId: string, lock = false): Promise<User> {
  const query = tx('users').where({ id: userId });
  if (lock) query.forUpdate();
  const user = await query.first(withCustomRoles(tx));
  if (!user) throw notFound('user');
  return user;
}

/**
 * Gives a client user exactly these custom roles of their client. Roles given or taken away must hold only
 * permissions the granter holds.
 */
async function assignCustomRoles(
  tx: Knex.Transaction,
  principal: Principal,
  user: { id: string; agencyId: string; role: Role; clientId: string | null },
  roleIds: string[],
) {
  if (!isClientRole(user.role)) {
    if (roleIds.length > 0) {
      throw invalidField(
        'custom_role_ids',
        `must be empty for the agency role ${user.role}: custom roles are a client's`,
      );
    }
    return;
  }
  const wanted = (await tx('client_roles')
    .whereIn('id', roleIds)
    .where({ client_id: user.clientId })
    .select('id', 'permissions')) as { id: string; permissions: string[] }[];
  const unknown = roleIds.filter((id) => !wanted.some((role) => role.id === id));
  if (unknown.length > 0) {
    throw new Problem(
      422,
      'unknown_custom_role',
      'Unprocessable',
      `${unknown.join(', ')} is not a custom role of the user's client.`,
      unknown.map((id) => ({
        path: `/body/custom_role_ids/${roleIds.indexOf(id)}`,
        message: "is not a custom role of the user's client",
      })),
    );
  }
  const current = (await tx('user_client_roles as ur')
    .join('client_roles as r', 'r.id', 'ur.role_id')
    .where('ur.user_id', user.id)
    .select('r.id', 'r.permissions')) as { id: string; permissions: string[] }[];
  const added = wanted.filter((role) => !current.some((held) => held.id === role.id));
  const removed = current.filter((held) => !roleIds.includes(held.id));
  await assertMayGrant(
    tx,
    principal,
    [...added, ...removed].flatMap((role) => role.permissions),
  );
  if (removed.length > 0) {
    await tx('user_client_roles')
      .where({ user_id: user.id })
      .whereIn(
        'role_id',
        removed.map((role) => role.id),
      )
      .delete();
  }
  if (added.length > 0) {
    await tx('user_client_roles').insert(
      added.map((role) => ({
        agency_id: user.agencyId,
        client_id: user.clientId,
        user_id: user.id,
        role_id: role.id,
      })),
    );
  }
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

/**
 * Refuses to take the last owner away. The agency row is locked first, so two concurrent changes to
 * two owners cannot each see the other still there.
 */
async function assertNotLastOwner(tx: Knex.Transaction, agencyId: string, user: User) {
  if (user.role !== 'agency_owner') return;
  await tx('agencies').where({ id: agencyId }).forUpdate().first('id');
  const owners = await tx('users').where({ role: 'agency_owner' }).count({ count: '*' }).first();
  if (Number(owners?.count) <= 1) {
    throw conflict('last_owner', 'An agency keeps at least one owner: make someone else owner first.');
  }
}

export const userHandlers: Pick<Handlers, 'listUsers' | 'createUser' | 'getUser' | 'updateUser' | 'deleteUser'> = {
  async listUsers({ tx, query }) {
    const list = tx('users').select(withCustomRoles(tx));
    if (query.client_id) list.where({ client_id: query.client_id });
    return { status: 200, body: await paginate(list, 'id', query, (row) => row as User) };
  },

  createUser: withPreparation(
    async ({ body }) => (body.password ? hashPassword(body.password) : null),
    async ({ tx, agencyId, principal, body }, passwordHash) => {
      assertMayManage(principal, body.role);
      const clientId = await clientFor(tx, body.role, body.client_id);
      const { rows } = (await tx.raw(
        `INSERT INTO users (id, agency_id, email, name, password_hash, role, client_id)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (agency_id, lower(email)) DO NOTHING
         RETURNING id`,
        [uuidv7(), agencyId, body.email, body.name, passwordHash, body.role, clientId],
      )) as { rows: { id: string }[] };
      if (!rows[0]) throw conflict('user_exists', `${body.email} already has an account in this agency.`);
      const user = { id: rows[0].id, agencyId, role: body.role, clientId };
      await assignCustomRoles(tx, principal, user, body.custom_role_ids ?? []);
      return { status: 201, body: await findUser(tx, user.id) };
    },
  ),

  async getUser({ tx, params }) {
    return { status: 200, body: await findUser(tx, params.userId) };
  },

  async updateUser({ tx, agencyId, principal, params, body }) {
    const user = await findUser(tx, params.userId, true);
    const changes: Record<string, unknown> = { updated_at: tx.fn.now() };
    if (body.name !== undefined) changes.name = body.name;
    if (body.custom_role_ids !== undefined) assertMayManage(principal, user.role);
    if (body.role !== undefined || body.client_id !== undefined) {
      const role = body.role ?? user.role;
      assertMayManage(principal, user.role);
      assertMayManage(principal, role);
      if (role !== 'agency_owner') await assertNotLastOwner(tx, agencyId, user);
      const keptClient = isClientRole(role) ? user.client_id : null;
      changes.role = role;
      changes.client_id = await clientFor(tx, role, body.client_id === undefined ? keptClient : body.client_id);
      // Custom roles are the client's: a user who leaves it leaves them too.
      if (changes.client_id !== user.client_id) await tx('user_client_roles').where({ user_id: user.id }).delete();
    }
    const [updated] = await tx('users').where({ id: user.id }).update(changes).returning(['role', 'client_id']);
    if (!updated) throw notFound('user');
    if (body.custom_role_ids !== undefined) {
      const target = { id: user.id, agencyId, role: updated.role, clientId: updated.client_id };
      await assignCustomRoles(tx, principal, target, body.custom_role_ids);
    }
    return { status: 200, body: await findUser(tx, user.id) };
  },

  async deleteUser({ tx, agencyId, principal, params }) {
    const user = await findUser(tx, params.userId, true);
    assertMayManage(principal, user.role);
    await assertNotLastOwner(tx, agencyId, user);
    // The account's sessions go with it (foreign key cascade).
    await deleteRows(tx('users').where({ id: user.id }));
    return { status: 204 };
  },
};
