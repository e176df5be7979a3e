import { deleteRows } from '../../db/delete.js';
import type { Handlers } from '../../http/operations.js';
import { notFound } from '../../http/problem.js';
import { paginateSorted } from '../../http/pagination.js';
import { emitSiteEvent } from '../../webhooks/outbox.js';
import {
  checkCompany,
  checkUser,
  CONTACT_COLUMNS,
  contactBody,
  contactOf,
  crmSite,
  insertContact,
  updateContact,
} from './contacts.js';
import { activityHandlers } from './activities.js';
import { companyHandlers } from './companies.js';
import { checkCustomValues, customFieldHandlers, filterByCustom } from './custom-fields.js';
import { dealHandlers } from './deals.js';
import { pipelineHandlers } from './pipelines.js';
import { whereSearch } from './search.js';

type CrmHandlers = Pick<
  Handlers,
  | 'listCrmContacts'
  | 'createCrmContact'
  | 'getCrmContact'
  | 'updateCrmContact'
  | 'deleteCrmContact'
  | 'listCrmContactTimeline'
> &
  typeof companyHandlers &
  typeof pipelineHandlers &
  typeof dealHandlers &
  typeof activityHandlers &
  typeof customFieldHandlers;

export const crmHandlers: CrmHandlers = {
  ...companyHandlers,
  ...pipelineHandlers,
  ...dealHandlers,
  ...activityHandlers,
  ...customFieldHandlers,
  async listCrmContacts({ tx, params, query }) {
    await crmSite(tx, params.siteId);
    const rows = tx('mod_crm.contacts').where({ site_id: params.siteId }).select(CONTACT_COLUMNS);
    await whereSearch(tx, rows, 'search', query.q);
    if (query.tag !== undefined) rows.whereRaw('tags @> ARRAY[?]::text[]', [query.tag]);
    if (query.lifecycle_stage !== undefined) rows.where({ lifecycle_stage: query.lifecycle_stage });
    if (query.owner_id !== undefined) rows.where({ owner_id: query.owner_id });
    if (query.company_id !== undefined) rows.where({ company_id: query.company_id });
    await filterByCustom(tx, rows, 'custom', params.siteId, 'contact', query.custom ?? []);
    const sort = query.sort ?? '-created_at';
    const column = sort.replace(/^-/, '');
    const body = await paginateSorted(
      tx,
      rows,
      { column, descending: sort.startsWith('-'), idColumn: 'id' },
      query,
      contactBody,
    );
    return { status: 200, body };
  },

  async createCrmContact(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    await checkCompany(tx, params.siteId, body.company_id);
    await checkUser(tx, 'owner_id', body.owner_id);
    await checkCustomValues(tx, params.siteId, 'contact', body.custom ?? {}, true);
    const contact = await insertContact(ctx, params.siteId, { ...body, source: body.source ?? 'api' });
    return { status: 201, body: contactBody(contact) };
  },

  async getCrmContact({ tx, params }) {
    await crmSite(tx, params.siteId);
    return { status: 200, body: contactBody(await contactOf(tx, params.siteId, params.contactId)) };
  },

  async updateCrmContact(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    await contactOf(tx, params.siteId, params.contactId);
    await checkCompany(tx, params.siteId, body.company_id);
    await checkUser(tx, 'owner_id', body.owner_id);
    if (body.custom !== undefined) await checkCustomValues(tx, params.siteId, 'contact', body.custom, true);
    const contact = await updateContact(ctx, params.siteId, params.contactId, body);
    return { status: 200, body: contactBody(contact) };
  },

  async deleteCrmContact(ctx) {
    const { tx, params } = ctx;
    await crmSite(tx, params.siteId);
    const deleted = await deleteRows(tx('mod_crm.contacts').where({ site_id: params.siteId, id: params.contactId }));
    if (deleted === 0) throw notFound('contact');
    await emitSiteEvent(ctx, params.siteId, 'crm.contact.deleted', { id: params.contactId });
    return { status: 204 };
  },

  async listCrmContactTimeline({ tx, params, query }) {
    await crmSite(tx, params.siteId);
    await contactOf(tx, params.siteId, params.contactId);
    const rows = tx('mod_crm.timeline')
      .where({ site_id: params.siteId, contact_id: params.contactId })
      .select('id', 'type', 'summary', 'data', 'occurred_at');
    const body = await paginateSorted(
      tx,
      rows,
      { column: 'occurred_at', descending: true, idColumn: 'id' },
      query,
      (row) => ({
        id: row.id as string,
        type: row.type as string,
        summary: row.summary as string,
        data: row.data as Record<string, unknown>,
        occurred_at: new Date(row.occurred_at as Date).toISOString(),
      }),
    );
    return { status: 200, body };
  },
};
