import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../db/delete.js';
import type { Handlers, Principal, Schemas } from '../http/operations.js';
import { paginate } from '../http/pagination.js';
import { conflict, forbidden, notFound, Problem } from '../http/problem.js';
import { grantablePermissions, undeclaredPermissions } from '../modules/permissions.js';

type CustomRole = Schemas['CustomRole'];
const ROLE = ['id', 'client_id', 'name', 'description', 'permissions', 'created_at', 'updated_at'];
const UNIQUE_VIOLATION = '23505';

async function findClient(tx: Knex.Transaction, clientId: string) {
  if (!(await tx('clients').where({ id: clientId }).first('id'))) throw notFound('client');
}

async function findRole(tx: Knex.Transaction, clientId: string, roleId: string): Promise<CustomRole> {
  const role = await tx('client_roles').where({ id: roleId, client_id: clientId }).forUpdate().first(ROLE);
  if (!role) throw notFound('custom role');
  return role;
}

/** Every permission of a custom role is one a published module declares (a typo would grant nothing). */
async function assertDeclared(tx: Knex.Transaction, permissions: string[]) {
  const unknown = await undeclaredPermissions(tx, permissions);
  if (unknown.length > 0) {
    throw new Problem(
      422,
      'unknown_permission',
      'Unprocessable',
      `No published module declares ${unknown.join(', ')}.`,
      unknown.map((permission) => ({
        path: `/body/permissions/${permissions.indexOf(permission)}`,
        message: 'is not a permission any published module declares in `access.permissions`',
      })),
    );
  }
}

/** Nobody hands out, or takes away, a module permission they do not hold themselves. */
export async function assertMayGrant(tx: Knex.Transaction, principal: Principal, permissions: string[]) {
  if (permissions.length === 0) return;
  const grantable = await grantablePermissions(tx, principal);
  const excess = grantable ? [...new Set(permissions.filter((permission) => !grantable.has(permission)))] : [];
  if (excess.length > 0) {
    throw forbidden(
      'permission_not_grantable',
      `You may not grant or take away ${excess.join(', ')}: you do not hold it yourself.`,
    );
  }
}

/** Runs a write that may give the role a name its client already uses. */
async function uniquelyNamed<T>(write: Promise<T>, name: string | undefined): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
    throw conflict('role_exists', `The client has a custom role named "${name}" already.`);
  }
}

export const customRoleHandlers: Pick<
  Handlers,
  'listCustomRoles' | 'createCustomRole' | 'getCustomRole' | 'updateCustomRole' | 'deleteCustomRole'
> = {
  async listCustomRoles({ tx, params, query }) {
    await findClient(tx, params.clientId);
    const roles = tx('client_roles').select(ROLE).where({ client_id: params.clientId });
    return { status: 200, body: await paginate(roles, 'id', query, (row) => row as CustomRole) };
  },

  async createCustomRole({ tx, agencyId, principal, params, body }) {
    await findClient(tx, params.clientId);
    await assertDeclared(tx, body.permissions);
    await assertMayGrant(tx, principal, body.permissions);
    const [role] = await uniquelyNamed(
      tx('client_roles')
        .insert({
          id: uuidv7(),
          agency_id: agencyId,
          client_id: params.clientId,
          name: body.name,
          description: body.description ?? null,
          permissions: body.permissions,
        })
        .returning(ROLE),
      body.name,
    );
    return { status: 201, body: role };
  },

  async getCustomRole({ tx, params }) {
    return { status: 200, body: await findRole(tx, params.clientId, params.roleId) };
  },

  async updateCustomRole({ tx, principal, params, body }) {
    const role = await findRole(tx, params.clientId, params.roleId);
    const changes: Record<string, unknown> = { updated_at: tx.fn.now() };
    if (body.name !== undefined) changes.name = body.name;
    if (body.description !== undefined) changes.description = body.description;
    if (body.permissions !== undefined) {
      await assertDeclared(tx, body.permissions);
      const added = body.permissions.filter((permission) => !role.permissions.includes(permission));
      const removed = role.permissions.filter((permission) => !body.permissions!.includes(permission));
      await assertMayGrant(tx, principal, [...added, ...removed]);
      changes.permissions = body.permissions;
    }
    const [updated] = await uniquelyNamed(
      tx('client_roles').where({ id: role.id }).update(changes).returning(ROLE),
      body.name,
    );
    return { status: 200, body: updated };
  },

  async deleteCustomRole({ tx, principal, params }) {
    const role = await findRole(tx, params.clientId, params.roleId);
    // Its users lose its permissions: that is taking them away.
    await assertMayGrant(tx, principal, role.permissions);
    await deleteRows(tx('client_roles').where({ id: role.id }));
    return { status: 204 };
  },
};
