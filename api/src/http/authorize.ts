import type { Knex } from 'knex';
import { collectionRequirement, holds } from '../modules/permissions.js';
import type { Principal } from './operations.js';
import { forbidden } from './problem.js';
import type { OperationInfo } from './spec.js';

/**
 * The second half of deciding access, run right after `authenticate` (which checks the credential and the
 * operation's scopes): the module permission the operation needs, checked against the user's. Handlers check
 * no permissions of their own. Module permissions are people's: a principal without a user (a secret key) is
 * governed by its scopes alone, and publishable keys by what the module makes public.
 */
export async function authorize(
  tx: Knex.Transaction,
  operation: OperationInfo,
  principal: Principal,
  request: { params: Record<string, string>; query: Record<string, unknown> },
): Promise<void> {
  if (!operation.collectionAccess || principal.userId === null) return;
  const { moduleId, collection, itemId } = request.params;
  const siteId = request.query.site_id;
  const requirement = await collectionRequirement(
    tx,
    { moduleId: moduleId!, collection: collection!, itemId, siteId: typeof siteId === 'string' ? siteId : undefined },
    operation.collectionAccess,
  );
  if (requirement && !(await holds(tx, principal, requirement))) {
    throw forbidden(
      'insufficient_permission',
      `This needs the module permission ${requirement.permission}, which ` +
        `${principal.role ? `the role ${principal.role}` : 'your account'} does not hold and no custom role of yours grants.`,
    );
  }
}
