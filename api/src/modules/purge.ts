import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { sweepExpired } from '../oauth/adapter.js';
import { purgeSiteData } from './storage.js';

/**
 * Purges the data of installs whose retention period has ended. A platform job, not a request: it runs
 * as the schema owner across tenants, one install per transaction, and records each purge.
 */
export async function purgeExpiredInstalls(knex: Knex, onError: (error: unknown) => void): Promise<number> {
  const due = (await knex('installs')
    .where({ status: 'uninstalled' })
    .where('purge_after', '<=', knex.fn.now())
    .select('id')) as { id: string }[];
  let purged = 0;
  for (const { id } of due) {
    // One install that cannot be purged must not keep the others' data past their time.
    await knex
      .transaction(async (tx) => {
        const install = await tx('installs').where({ id, status: 'uninstalled' }).forUpdate().first();
        if (!install) return; // reinstalled meanwhile
        await purgeSiteData(tx, install.module_id, install.site_id);
        await tx('installs').where({ id }).update({ status: 'purged', settings: {}, updated_at: tx.fn.now() });
        await tx('install_events').insert({
          id: uuidv7(),
          agency_id: install.agency_id,
          site_id: install.site_id,
          install_id: id,
          action: 'purge',
          from_version: install.version,
          to_version: null,
          actor_kind: 'system',
        });
        purged += 1;
      })
      .catch(onError);
  }
  return purged;
}

const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Purges once now and then hourly — installs past their retention, and what the authorization server no longer
 * needs — and returns the function that stops it (and waits for a running sweep).
 */
export function schedulePurges(knex: Knex, onError: (error: unknown) => void): () => Promise<void> {
  let running: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    running = Promise.all([purgeExpiredInstalls(knex, onError), sweepExpired(knex)]).catch(onError);
  };
  sweep();
  const timer = setInterval(sweep, PURGE_INTERVAL_MS).unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
