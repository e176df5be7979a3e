/**
 * Module permissions (`acme.faq.questions.read`): what a manifest declares, which built-in roles hold each by
 * default, what a client's custom roles add, and what a collection operation needs. The decision itself is
 * taken in one place, api/src/http/authorize.ts. See docs/decisions/0011-roles-inside-modules.md.
 */
import type { Knex } from 'knex';
import type { Principal, Role, Schemas } from '../http/operations.js';
import { collectionTable, tableExists } from './storage.js';

type CollectionAccess = NonNullable<Schemas['ModuleCollection']['access']>;
type DeclaredPermissions = NonNullable<Schemas['ModuleManifest']['access']>['permissions'];

/** What an operation needs: a permission, and the built-in roles the site's installed version grants it to. */
export interface Requirement {
  permission: string;
  roles: Role[];
}

/** The agency owner holds every module permission: the tenant's root is never locked out of its own data. */
const holdsEveryPermission = (role: Role | null) => role === 'agency_owner';

/** Whose permissions are people's: a credential without a user (a secret key) is governed by its scopes alone. */
const isPerson = (principal: Principal) => principal.userId !== null;

/**
 * The permission a collection operation needs, as the version installed on the site declares it: `access.read`
 * or `access.write` of the collection. Null when it names none — or when there is no such install or record,
 * which the collection handler answers (404, or 400 without a site).
 */
export async function collectionRequirement(
  tx: Knex.Transaction,
  target: { moduleId: string; collection: string; siteId?: string; itemId?: string },
  access: 'read' | 'write',
): Promise<Requirement | null> {
  const { moduleId, collection, itemId } = target;
  if (itemId !== undefined && !(await tableExists(tx, moduleId, collection))) return null;
  // A record's site is the one whose install counts: a subquery, so that it costs no round trip of its own.
  const site =
    itemId !== undefined
      ? tx(collectionTable(moduleId, collection)).where({ id: itemId }).select('site_id')
      : target.siteId;
  if (site === undefined) return null;
  const install = (await tx('installs as i')
    .join('module_versions as v', { 'v.module_id': 'i.module_id', 'v.version': 'i.version' })
    .where({ 'i.module_id': moduleId, 'i.status': 'active' })
    .where('i.site_id', site)
    .first(
      tx.raw(`v.manifest -> 'collections' -> ? -> 'access' AS access`, [collection]),
      tx.raw(`v.manifest -> 'access' -> 'permissions' AS declared`),
    )) as { access: CollectionAccess | null; declared: DeclaredPermissions | null } | undefined;
  const permission = install?.access?.[access];
  return permission ? { permission, roles: install.declared?.[permission]?.roles ?? [] } : null;
}

/** The user's custom roles' permissions, read once per request (the principal is made afresh for each). */
const customPermissionsOf = new WeakMap<Principal, Promise<ReadonlySet<string>>>();

function customPermissions(tx: Knex.Transaction, principal: Principal): Promise<ReadonlySet<string>> {
  let permissions = customPermissionsOf.get(principal);
  if (!permissions) {
    permissions = tx
      .raw(
        `SELECT DISTINCT unnest(r.permissions) AS permission
           FROM user_client_roles ur JOIN client_roles r ON r.id = ur.role_id
          WHERE ur.user_id = ?`,
        [principal.userId],
      )
      .then(({ rows }: { rows: { permission: string }[] }) => new Set(rows.map((row) => row.permission)));
    customPermissionsOf.set(principal, permissions);
  }
  return permissions;
}

/** Whether the principal holds what the operation needs: by its built-in role, or through a custom role. */
export async function holds(tx: Knex.Transaction, principal: Principal, requirement: Requirement): Promise<boolean> {
  if (!isPerson(principal) || holdsEveryPermission(principal.role)) return true;
  if (principal.role && requirement.roles.includes(principal.role)) return true;
  return (await customPermissions(tx, principal)).has(requirement.permission);
}

/**
 * Every module permission the user holds, sorted: their role's, as the versions installed on the sites they
 * see declare them (all of those versions' permissions for the owner), and their custom roles'. One query.
 * The client is filtered here rather than left to row-level security: sign-in runs agency-wide.
 */
export async function effectivePermissions(
  tx: Knex.Transaction,
  user: { id: string; role: Role | null; clientId: string | null },
): Promise<string[]> {
  const { rows } = (await tx.raw(
    `WITH installed AS (
       SELECT DISTINCT i.module_id, i.version
         FROM installs i JOIN sites s ON s.id = i.site_id
        WHERE i.status = 'active' AND (?::uuid IS NULL OR s.client_id = ?::uuid))
     SELECT p.key AS permission
       FROM installed JOIN module_versions v USING (module_id, version)
            CROSS JOIN LATERAL jsonb_each(v.manifest -> 'access' -> 'permissions') p
      WHERE ?::boolean OR jsonb_exists(p.value -> 'roles', ?)
     UNION
     SELECT unnest(r.permissions)
       FROM user_client_roles ur JOIN client_roles r ON r.id = ur.role_id
      WHERE ur.user_id = ?
     ORDER BY 1`,
    [user.clientId, user.clientId, holdsEveryPermission(user.role), user.role, user.id],
  )) as { rows: { permission: string }[] };
  return rows.map((row) => row.permission);
}

/**
 * The permissions the principal may hand out or take away (nobody grants what they do not hold); null for
 * all of them: the owner, and credentials without a user, which scopes alone govern.
 */
export async function grantablePermissions(
  tx: Knex.Transaction,
  principal: Principal,
): Promise<ReadonlySet<string> | null> {
  if (!isPerson(principal) || holdsEveryPermission(principal.role)) return null;
  const held = await effectivePermissions(tx, {
    id: principal.userId!,
    role: principal.role,
    clientId: principal.clientId,
  });
  return new Set(held);
}

/**
 * The permissions of the list that no published version of their module declares (a permission's module is
 * its id without `.<thing>.<action>`).
 */
export async function undeclaredPermissions(tx: Knex.Transaction, permissions: string[]): Promise<string[]> {
  if (permissions.length === 0) return [];
  const { rows } = (await tx.raw(
    `SELECT p FROM unnest(?::text[]) AS p
      WHERE NOT EXISTS (SELECT 1 FROM module_versions v
                         WHERE v.module_id = regexp_replace(p, '\\.[^.]+\\.[^.]+$', '')
                           AND jsonb_exists(v.manifest -> 'access' -> 'permissions', p))`,
    [permissions],
  )) as { rows: { p: string }[] };
  return rows.map((row) => row.p);
}
