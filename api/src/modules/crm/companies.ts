import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../../db/delete.js';
import type { Handlers, Schemas } from '../../http/operations.js';
import { paginateSorted } from '../../http/pagination.js';
import { badRequest, invalidField, notFound, Problem } from '../../http/problem.js';
import { emitSiteEvent } from '../../webhooks/outbox.js';
import { checkUser, crmSite } from './contacts.js';
import { checkCustomValues, filterByCustom } from './custom-fields.js';
import { whereSearch } from './search.js';

export type CompanyBody = Schemas['CrmCompany'];

/** A time from the database (a Date, or a string from some drivers) as RFC 3339 in UTC. */
export const iso = (value: unknown) => new Date(value as string | Date).toISOString();

const companyColumns = (tx: Knex.Transaction) => [
  'co.id',
  'co.name',
  'co.domain',
  'co.owner_id',
  'co.custom',
  'co.created_at',
  'co.updated_at',
  tx.raw('(SELECT count(*) FROM mod_crm.contacts c WHERE c.company_id = co.id)::integer AS contact_count'),
];

export function companyBody(row: Record<string, unknown>): CompanyBody {
  return {
    id: row.id as string,
    name: row.name as string,
    domain: row.domain as string | null,
    owner_id: row.owner_id as string | null,
    custom: row.custom as CompanyBody['custom'],
    contact_count: Number(row.contact_count),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

async function companyOf(tx: Knex.Transaction, siteId: string, companyId: string) {
  const row = (await tx('mod_crm.companies as co')
    .where({ 'co.site_id': siteId, 'co.id': companyId })
    .select(companyColumns(tx))
    .first()) as Record<string, unknown> | undefined;
  if (!row) throw notFound('company');
  return row;
}

/** Labels of a domain name: letters, digits and inner hyphens; the last one (the TLD) not all digits. */
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

/**
 * A company's domain as it is kept and compared: the host of what was given (a bare domain or a web address),
 * in lower case (international names in their ASCII form), without `www.`, port, path or trailing dot.
 * `https://www.Acme.example/about` → `acme.example`. Null when it is no domain name.
 */
export function normalizeDomain(input: string): string | null {
  const text = input.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  if (!URL.canParse(withScheme)) return null;
  const host = new URL(withScheme).hostname.replace(/\.$/, '').replace(/^www\./, '');
  return DOMAIN.test(host) ? host : null;
}

/** The normalised domain of a create or update body (empty means none), or 400 naming the field. */
function domainOf(given: string | null | undefined): string | null | undefined {
  if (given === undefined || given === null) return given;
  if (given.trim() === '') return null;
  const domain = normalizeDomain(given);
  if (!domain) throw invalidField('domain', 'is not a domain name (like acme.example)');
  return domain;
}

function duplicateCompany(domain: string, holder: { id: string; name: string }): Problem {
  return new Problem(
    409,
    'duplicate_company',
    'Conflict',
    `Another company, ${holder.name} (${holder.id}), has the domain ${domain}; update that one.`,
    [{ path: '/body/domain', message: `belongs to company ${holder.id}` }],
  );
}

/**
 * Writes a company row; a domain another company of the site has is `409 duplicate_company` naming it. The
 * unique index decides (a savepoint keeps the request's transaction usable when it refuses), so two requests
 * racing for one domain cannot both have it.
 */
async function writeCompany(
  tx: Knex.Transaction,
  siteId: string,
  companyId: string,
  domain: string | null | undefined,
  write: (savepoint: Knex.Transaction) => Promise<unknown>,
): Promise<void> {
  const holderOf = async () =>
    domain
      ? ((await tx('mod_crm.companies')
          .where({ site_id: siteId, domain })
          .whereNot({ id: companyId })
          .first('id', 'name')) as { id: string; name: string } | undefined)
      : undefined;
  const before = await holderOf();
  if (before) throw duplicateCompany(domain!, before);
  try {
    await tx.transaction(write);
  } catch (error) {
    const after = (error as { code?: string }).code === '23505' ? await holderOf() : undefined;
    if (after) throw duplicateCompany(domain!, after);
    throw error;
  }
}

type CompanyHandlers = Pick<
  Handlers,
  'listCrmCompanies' | 'createCrmCompany' | 'getCrmCompany' | 'updateCrmCompany' | 'deleteCrmCompany'
>;

export const companyHandlers: CompanyHandlers = {
  async listCrmCompanies({ tx, params, query }) {
    await crmSite(tx, params.siteId);
    const rows = tx('mod_crm.companies as co').where({ 'co.site_id': params.siteId }).select(companyColumns(tx));
    await whereSearch(tx, rows, 'co.search', query.q);
    if (query.owner_id !== undefined) rows.where({ 'co.owner_id': query.owner_id });
    if (query.domain !== undefined) {
      const domain = normalizeDomain(query.domain);
      if (!domain) {
        throw badRequest('validation_failed', 'domain is not a domain name.', [
          { path: '/query/domain', message: 'is not a domain name (like acme.example)' },
        ]);
      }
      rows.where({ 'co.domain': domain });
    }
    await filterByCustom(tx, rows, 'co.custom', params.siteId, 'company', query.custom ?? []);
    const sort = query.sort ?? '-created_at';
    const body = await paginateSorted(
      tx,
      rows,
      { column: `co.${sort.replace(/^-/, '')}`, descending: sort.startsWith('-'), idColumn: 'co.id' },
      query,
      companyBody,
    );
    return { status: 200, body };
  },

  async createCrmCompany(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    const domain = domainOf(body.domain);
    await checkUser(tx, 'owner_id', body.owner_id);
    await checkCustomValues(tx, params.siteId, 'company', body.custom ?? {}, true);
    const id = uuidv7();
    await writeCompany(tx, params.siteId, id, domain, (savepoint) =>
      savepoint('mod_crm.companies').insert({
        id,
        agency_id: ctx.agencyId,
        site_id: params.siteId,
        name: body.name,
        domain: domain ?? null,
        owner_id: body.owner_id ?? null,
        custom: JSON.stringify(body.custom ?? {}),
      }),
    );
    const company = companyBody(await companyOf(tx, params.siteId, id));
    await emitSiteEvent(ctx, params.siteId, 'crm.company.created', company);
    return { status: 201, body: company };
  },

  async getCrmCompany({ tx, params }) {
    await crmSite(tx, params.siteId);
    return { status: 200, body: companyBody(await companyOf(tx, params.siteId, params.companyId)) };
  },

  async updateCrmCompany(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    await companyOf(tx, params.siteId, params.companyId);
    const domain = domainOf(body.domain);
    await checkUser(tx, 'owner_id', body.owner_id);
    if (body.custom !== undefined) await checkCustomValues(tx, params.siteId, 'company', body.custom, true);
    const columns: Record<string, unknown> = { updated_at: tx.fn.now() };
    if (body.name !== undefined) columns.name = body.name;
    if (domain !== undefined) columns.domain = domain;
    if (body.owner_id !== undefined) columns.owner_id = body.owner_id;
    if (body.custom !== undefined) columns.custom = JSON.stringify(body.custom);
    await writeCompany(tx, params.siteId, params.companyId, domain, (savepoint) =>
      savepoint('mod_crm.companies').where({ site_id: params.siteId, id: params.companyId }).update(columns),
    );
    const company = companyBody(await companyOf(tx, params.siteId, params.companyId));
    await emitSiteEvent(ctx, params.siteId, 'crm.company.updated', company);
    return { status: 200, body: company };
  },

  async deleteCrmCompany(ctx) {
    const { tx, params } = ctx;
    await crmSite(tx, params.siteId);
    // Contacts and deals keep existing without it (their foreign keys set it null); its activities go.
    const deleted = await deleteRows(tx('mod_crm.companies').where({ site_id: params.siteId, id: params.companyId }));
    if (deleted === 0) throw notFound('company');
    await emitSiteEvent(ctx, params.siteId, 'crm.company.deleted', { id: params.companyId });
    return { status: 204 };
  },
};
