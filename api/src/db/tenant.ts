import type { Knex } from 'knex';
import { APP_ROLE } from './migrations/sql.js';

/** Which rows a transaction may see: one agency, and optionally one of its clients. */
export interface Tenant {
  agencyId: string | null;
  clientId: string | null;
}

export const NO_TENANT: Tenant = { agencyId: null, clientId: null };

/**
 * Switches the transaction to the application role and sets the tenant that row-level security filters
 * on. `set_config(…, true)` is `SET LOCAL`: it ends with the transaction, so a pooled connection never
 * carries one request's tenant into the next.
 */
export async function enterTenant(tx: Knex.Transaction, tenant: Tenant): Promise<void> {
  await tx.raw(
    `SELECT set_config('role', ?, true), set_config('app.tenant_id', ?, true), set_config('app.client_id', ?, true)`,
    [APP_ROLE, tenant.agencyId ?? '', tenant.clientId ?? ''],
  );
}
