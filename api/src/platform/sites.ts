import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../db/delete.js';
import type { Handlers } from '../http/operations.js';
import { conflict, invalidField, notFound } from '../http/problem.js';
import { paginate } from '../http/pagination.js';
import { normalizeOrigin } from '../http/origins.js';

const SITE = ['id', 'client_id', 'name', 'created_at', 'updated_at'];
const ORIGIN = ['id', 'site_id', 'origin', 'created_at'];

/** A site of the tenant (row-level security hides the others), or 404. */
export async function findSite(
  tx: Knex.Transaction,
  siteId: string,
): Promise<{ id: string; agency_id: string; client_id: string }> {
  const site = await tx('sites').where({ id: siteId }).first('id', 'agency_id', 'client_id');
  if (!site) throw notFound('site');
  return site;
}

export const siteHandlers: Pick<
  Handlers,
  | 'listSites'
  | 'createSite'
  | 'getSite'
  | 'updateSite'
  | 'deleteSite'
  | 'listSiteOrigins'
  | 'createSiteOrigin'
  | 'deleteSiteOrigin'
  | 'getPublicSite'
> = {
  async listSites({ tx, query }) {
    const sites = tx('sites').select(SITE);
    if (query.client_id) sites.where({ client_id: query.client_id });
    return { status: 200, body: await paginate(sites, 'id', query, (row) => row as never) };
  },

  async createSite({ tx, agencyId, body }) {
    if (!(await tx('clients').where({ id: body.client_id }).first('id'))) throw notFound('client');
    const [site] = await tx('sites')
      .insert({ id: uuidv7(), agency_id: agencyId, client_id: body.client_id, name: body.name })
      .returning(SITE);
    return { status: 201, body: site };
  },

  async getSite({ tx, params }) {
    const site = await tx('sites').where({ id: params.siteId }).first(SITE);
    if (!site) throw notFound('site');
    return { status: 200, body: site };
  },

  async updateSite({ tx, params, body }) {
    const [site] = await tx('sites')
      .where({ id: params.siteId })
      .update({ name: body.name, updated_at: tx.fn.now() })
      .returning(SITE);
    if (!site) throw notFound('site');
    return { status: 200, body: site };
  },

  async deleteSite({ tx, params }) {
    if (!(await deleteRows(tx('sites').where({ id: params.siteId })))) throw notFound('site');
    return { status: 204 };
  },

  async listSiteOrigins({ tx, params, query }) {
    await findSite(tx, params.siteId);
    const origins = tx('site_origins').select(ORIGIN).where({ site_id: params.siteId });
    return { status: 200, body: await paginate(origins, 'id', query, (row) => row as never) };
  },

  async createSiteOrigin({ tx, agencyId, params, body }) {
    await findSite(tx, params.siteId);
    const normalized = normalizeOrigin(body.origin);
    if ('error' in normalized) throw invalidField('origin', normalized.error);
    const [origin] = await tx('site_origins')
      .insert({ id: uuidv7(), agency_id: agencyId, site_id: params.siteId, origin: normalized.origin })
      .onConflict(['site_id', 'origin'])
      .ignore()
      .returning(ORIGIN);
    if (!origin) throw conflict('origin_exists', `${normalized.origin} is already allowed for this site.`);
    return { status: 201, body: origin };
  },

  async deleteSiteOrigin({ tx, params }) {
    const deleted = await deleteRows(tx('site_origins').where({ id: params.originId, site_id: params.siteId }));
    if (!deleted) throw notFound('origin');
    return { status: 204 };
  },

  async getPublicSite({ tx, principal }) {
    const site = await tx('sites').where({ id: principal.siteId }).first('id', 'name');
    if (!site) throw notFound('site');
    return { status: 200, body: site };
  },
};
