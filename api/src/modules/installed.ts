import type { Knex } from 'knex';
import { Problem } from '../http/problem.js';
import { findSite } from '../platform/sites.js';

/**
 * Checks that a first-party module is installed (and active) on a site of the tenant: `404 not_found` for a
 * site the caller cannot see, `404 module_not_installed` for one without the module. One statement when it is.
 */
export async function requireInstalled(
  tx: Knex.Transaction,
  siteId: string,
  moduleId: string,
  moduleName: string,
): Promise<void> {
  // Row-level security hides other tenants' installs as it hides their sites.
  const installed = await tx('installs').where({ site_id: siteId, module_id: moduleId, status: 'active' }).first('id');
  if (installed) return;
  await findSite(tx, siteId);
  throw new Problem(
    404,
    'module_not_installed',
    'Not found',
    `The ${moduleName} module is not installed on this site.`,
  );
}
