import type { Knex } from 'knex';
import { StartupError } from '../db/startup-error.js';

/**
 * Makes the agency OPERATOR_AGENCY_ID names the platform operator, and no other (none when it is unset).
 * Only start-up can: the application role may not write the flag.
 */
export async function appointOperator(knex: Knex, agencyId: string | null): Promise<void> {
  if (agencyId && !(await knex('agencies').where({ id: agencyId }).first('id'))) {
    throw new StartupError(`OPERATOR_AGENCY_ID: no agency has the id ${agencyId}. Sign the agency up first.`);
  }
  await knex('agencies')
    .whereRaw('operator IS DISTINCT FROM (id IS NOT DISTINCT FROM ?::uuid)', [agencyId])
    .update({ operator: knex.raw('id IS NOT DISTINCT FROM ?::uuid', [agencyId]) });
}
