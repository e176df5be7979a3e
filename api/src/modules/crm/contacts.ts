import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { Schemas } from '../../http/operations.js';
import { invalidField, notFound, Problem } from '../../http/problem.js';
import { emitSiteEvent } from '../../webhooks/outbox.js';
import { requireInstalled } from '../installed.js';

export const MODULE_ID = 'crm';

/** A site of the tenant with the CRM installed on it, or 404. */
export const crmSite = (tx: Knex.Transaction, siteId: string) => requireInstalled(tx, siteId, MODULE_ID, 'CRM');

/** What the CRM's changes need of a request: its transaction, tenant and commit hook. */
export interface CrmContext {
  tx: Knex.Transaction;
  agencyId: string;
  afterCommit(effect: () => void): void;
}

export type ContactBody = Schemas['CrmContact'];

export interface ContactRow {
  id: string;
  agency_id: string;
  site_id: string;
  first_name: string;
  last_name: string;
  emails: string[];
  phones: string[];
  company_id: string | null;
  owner_id: string | null;
  tags: string[];
  lifecycle_stage: ContactBody['lifecycle_stage'];
  source: string;
  consent: ContactBody['consent'];
  custom: ContactBody['custom'];
  created_at: Date;
  updated_at: Date;
}

export const CONTACT_COLUMNS = [
  'id',
  'first_name',
  'last_name',
  'emails',
  'phones',
  'company_id',
  'owner_id',
  'tags',
  'lifecycle_stage',
  'source',
  'consent',
  'custom',
  'created_at',
  'updated_at',
];

export function contactBody(row: ContactRow | Record<string, unknown>): ContactBody {
  const contact = row as unknown as ContactRow;
  return {
    id: contact.id,
    first_name: contact.first_name,
    last_name: contact.last_name,
    emails: contact.emails,
    phones: contact.phones,
    company_id: contact.company_id,
    owner_id: contact.owner_id,
    tags: contact.tags,
    lifecycle_stage: contact.lifecycle_stage,
    source: contact.source,
    consent: contact.consent,
    custom: contact.custom,
    created_at: new Date(contact.created_at).toISOString(),
    updated_at: new Date(contact.updated_at).toISOString(),
  };
}

/** How addresses are compared: trimmed and in lower case (the part before the @ too, as people expect). */
export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** A contact's addresses, normalised, without repeats, in the order given (the first is the primary one). */
export const normalizeEmails = (emails: readonly string[]) => [...new Set(emails.map(normalizeEmail))];

export async function contactOf(tx: Knex.Transaction, siteId: string, contactId: string): Promise<ContactRow> {
  const row = (await tx('mod_crm.contacts').where({ site_id: siteId, id: contactId }).first(CONTACT_COLUMNS)) as
    ContactRow | undefined;
  if (!row) throw notFound('contact');
  return row;
}

/** The contact of the site with this address, if any. */
export async function contactByEmail(tx: Knex.Transaction, siteId: string, email: string): Promise<ContactRow | null> {
  const row = (await tx('mod_crm.contact_emails as e')
    .join('mod_crm.contacts as c', 'c.id', 'e.contact_id')
    .where({ 'e.site_id': siteId, 'e.email': normalizeEmail(email) })
    .first(CONTACT_COLUMNS.map((column) => `c.${column}`))) as ContactRow | undefined;
  return row ?? null;
}

/**
 * Gives a contact exactly these addresses. One another contact has is `409 duplicate_contact` naming it; the
 * unique key on (site, address) decides, so two requests racing for one address cannot both have it.
 */
export async function setEmails(
  ctx: CrmContext,
  siteId: string,
  contactId: string,
  emails: readonly string[],
): Promise<void> {
  const { tx } = ctx;
  await tx('mod_crm.contact_emails').where({ contact_id: contactId }).whereNotIn('email', emails).delete();
  if (emails.length === 0) return;
  const added = (await tx('mod_crm.contact_emails')
    .insert(emails.map((email) => ({ agency_id: ctx.agencyId, site_id: siteId, contact_id: contactId, email })))
    .onConflict(['site_id', 'email'])
    .ignore()
    .returning('email')) as { email: string }[];
  if (added.length === emails.length) return;
  const holders = (await tx('mod_crm.contact_emails')
    .where({ site_id: siteId })
    .whereIn('email', emails)
    .whereNot({ contact_id: contactId })
    .select('email', 'contact_id')) as { email: string; contact_id: string }[];
  const taken = holders[0];
  if (taken) throw duplicateContact(taken.email, taken.contact_id, emails.indexOf(taken.email));
}

export function duplicateContact(email: string, contactId: string, index: number): Problem {
  return new Problem(
    409,
    'duplicate_contact',
    'Conflict',
    `Another contact (${contactId}) has the email address ${email}; update or merge that one.`,
    [{ path: `/body/emails/${index}`, message: `belongs to contact ${contactId}` }],
  );
}

/** Checks that ids a contact refers to are of this site (a foreign key would say so less kindly). */
export async function checkCompany(tx: Knex.Transaction, siteId: string, companyId: string | null | undefined) {
  if (!companyId) return;
  const company = await tx('mod_crm.companies').where({ site_id: siteId, id: companyId }).first('id');
  if (!company) throw invalidField('company_id', 'is not a company of this site');
}

/** Checks that a contact a record refers to is of this site. */
export async function checkContact(tx: Knex.Transaction, siteId: string, contactId: string | null | undefined) {
  if (!contactId) return;
  const contact = await tx('mod_crm.contacts').where({ site_id: siteId, id: contactId }).first('id');
  if (!contact) throw invalidField('contact_id', 'is not a contact of this site');
}

/**
 * The site's company at the domain of one of these addresses (the first address with one decides), so that a
 * new contact joins its company: `ada@acme.example` the company whose domain is `acme.example`.
 */
export async function companyOfEmails(
  tx: Knex.Transaction,
  siteId: string,
  emails: readonly string[],
): Promise<string | null> {
  const domains = emails
    .map((email) => email.slice(email.lastIndexOf('@') + 1).replace(/^www\./, ''))
    .filter((domain) => domain.includes('.'));
  if (domains.length === 0) return null;
  const companies = (await tx('mod_crm.companies')
    .where({ site_id: siteId })
    .whereIn('domain', domains)
    .select('id', 'domain')) as { id: string; domain: string }[];
  for (const domain of domains) {
    const company = companies.find((candidate) => candidate.domain === domain);
    if (company) return company.id;
  }
  return null;
}

/** Checks that an owner or assignee is a user of the agency (who may see this site's client). */
export async function checkUser(tx: Knex.Transaction, field: string, userId: string | null | undefined) {
  if (!userId) return;
  const user = await tx('users').where({ id: userId }).first('id');
  if (!user) throw invalidField(field, 'is not a user of this agency');
}

export type ContactFields = Partial<
  Pick<
    ContactRow,
    'first_name' | 'last_name' | 'phones' | 'company_id' | 'owner_id' | 'tags' | 'lifecycle_stage' | 'custom'
  >
> & { emails?: string[]; source?: string; consent?: ContactBody['consent'] };

/**
 * Creates a contact with its addresses; emits `crm.contact.created` and starts its timeline. Without a
 * `company_id` (left out, not null) it joins the company at its addresses' domain, if the site has one.
 */
export async function insertContact(ctx: CrmContext, siteId: string, fields: ContactFields): Promise<ContactRow> {
  const { tx } = ctx;
  const id = uuidv7();
  const emails = normalizeEmails(fields.emails ?? []);
  const companyId = fields.company_id === undefined ? await companyOfEmails(tx, siteId, emails) : fields.company_id;
  await tx('mod_crm.contacts').insert({
    id,
    agency_id: ctx.agencyId,
    site_id: siteId,
    ...fields,
    company_id: companyId,
    emails,
    consent: fields.consent === undefined ? null : JSON.stringify(fields.consent),
    custom: JSON.stringify(fields.custom ?? {}),
  });
  await setEmails(ctx, siteId, id, emails);
  const contact = await contactOf(tx, siteId, id);
  await emitSiteEvent(ctx, siteId, 'crm.contact.created', contactBody(contact));
  await addTimeline(ctx, siteId, id, {
    type: 'contact.created',
    summary: `Contact created (${contact.source})`,
    data: { source: contact.source },
  });
  return contact;
}

/** Changes a contact's fields; emits `crm.contact.updated` when anything changed. */
export async function updateContact(
  ctx: CrmContext,
  siteId: string,
  contactId: string,
  fields: ContactFields,
): Promise<ContactRow> {
  const { tx } = ctx;
  const columns: Record<string, unknown> = { ...fields, updated_at: tx.fn.now() };
  if (fields.emails !== undefined) {
    columns.emails = normalizeEmails(fields.emails);
    await setEmails(ctx, siteId, contactId, columns.emails as string[]);
  }
  if (fields.custom !== undefined) columns.custom = JSON.stringify(fields.custom);
  if (fields.consent !== undefined) columns.consent = JSON.stringify(fields.consent);
  const updated = await tx('mod_crm.contacts').where({ site_id: siteId, id: contactId }).update(columns, ['id']);
  if (updated.length === 0) throw notFound('contact');
  const contact = await contactOf(tx, siteId, contactId);
  await emitSiteEvent(ctx, siteId, 'crm.contact.updated', contactBody(contact));
  return contact;
}

/**
 * A line in a contact's timeline; `eventId` makes an outbox event land once however often it comes, and
 * `activityId` ties the line to an activity (it goes when the activity does).
 */
export async function addTimeline(
  ctx: CrmContext,
  siteId: string,
  contactId: string,
  entry: {
    type: string;
    summary: string;
    data?: Record<string, unknown>;
    occurredAt?: Date | string;
    eventId?: string;
    activityId?: string;
  },
): Promise<void> {
  await ctx
    .tx('mod_crm.timeline')
    .insert({
      id: uuidv7(),
      agency_id: ctx.agencyId,
      site_id: siteId,
      contact_id: contactId,
      type: entry.type,
      summary: entry.summary,
      data: JSON.stringify(entry.data ?? {}),
      occurred_at: entry.occurredAt ?? ctx.tx.fn.now(),
      event_id: entry.eventId ?? null,
      activity_id: entry.activityId ?? null,
    })
    .onConflict(['site_id', 'event_id'])
    .ignore();
}
