import { stringify } from 'csv-stringify/sync';
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { withPreparation, type Handlers, type InTenant } from '../../http/operations.js';
import { paginateSorted } from '../../http/pagination.js';
import { invalidField, notFound, Problem } from '../../http/problem.js';
import { emitSiteEvent } from '../../webhooks/outbox.js';
import {
  addTimeline,
  CONTACT_COLUMNS,
  contactBody,
  contactOf,
  crmSite,
  type ContactBody,
  type ContactRow,
} from './contacts.js';
import { exportHeader, exportRow, LIFECYCLE_STAGES } from './csv.js';
import { IMPORT_COLUMNS, importBody, importOf, runImport } from './imports.js';

/**
 * The CRM's data hygiene: merging two contacts, CSV import (imports.ts) and export, and what the GDPR asks
 * for — a contact's data as JSON, and its erasure. See docs/decisions/0015-crm-imports.md.
 */

type HygieneHandlers = Pick<
  Handlers,
  | 'mergeCrmContacts'
  | 'exportCrmContactData'
  | 'eraseCrmContact'
  | 'exportCrmContacts'
  | 'importCrmContacts'
  | 'listCrmImports'
  | 'getCrmImport'
>;

/** Rows of the export read per transaction. */
const EXPORT_BATCH = 1000;

/** How far along a lifecycle stage is; `other` counts least. */
const stageRank = (stage: string) => (stage === 'other' ? -1 : LIFECYCLE_STAGES.indexOf(stage as never));

const union = (first: readonly string[], second: readonly string[]) => [...new Set([...first, ...second])];

/** The consent recorded last (none loses). */
function laterConsent(a: ContactBody['consent'], b: ContactBody['consent']): ContactBody['consent'] {
  if (!a || !b) return a ?? b;
  return Date.parse(b.recorded_at) > Date.parse(a.recorded_at) ? b : a;
}

/** What the contact kept looks like once `other` is merged into it. */
function mergedFields(kept: ContactRow, other: ContactRow) {
  const custom = { ...kept.custom };
  for (const [key, value] of Object.entries(other.custom)) {
    if (custom[key] === undefined || custom[key] === null) custom[key] = value;
  }
  const consent = laterConsent(kept.consent, other.consent);
  return {
    first_name: kept.first_name || other.first_name,
    last_name: kept.last_name || other.last_name,
    emails: union(kept.emails, other.emails),
    phones: union(kept.phones, other.phones),
    tags: union(kept.tags, other.tags),
    company_id: kept.company_id ?? other.company_id,
    owner_id: kept.owner_id ?? other.owner_id,
    lifecycle_stage:
      stageRank(other.lifecycle_stage) > stageRank(kept.lifecycle_stage) ? other.lifecycle_stage : kept.lifecycle_stage,
    consent: consent === null ? null : JSON.stringify(consent),
    custom: JSON.stringify(custom),
  };
}

/** Tables whose rows follow a contact when it is merged into another. */
const FOLLOWING = ['mod_crm.activities', 'mod_crm.deals', 'mod_crm.timeline', 'mod_crm.form_submissions'];

const iso = (value: unknown) => (value === null || value === undefined ? null : new Date(value as Date).toISOString());

/** A regular expression matching `text` literally (Postgres' flavour escapes as JavaScript's does). */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The export's pieces: the header, then the contacts a batch at a time, each batch read in its own transaction. */
async function* exportPieces(inTenant: InTenant, siteId: string, customKeys: string[]): AsyncIterable<string> {
  yield stringify([exportHeader(customKeys)]);
  let after: string | null = null;
  for (;;) {
    const last: string | null = after;
    const rows = (await inTenant((tx) => {
      const query = tx('mod_crm.contacts as c')
        .leftJoin('mod_crm.companies as co', 'co.id', 'c.company_id')
        .where('c.site_id', siteId)
        .orderBy('c.id')
        .limit(EXPORT_BATCH)
        .select(
          'c.id',
          'c.first_name',
          'c.last_name',
          'c.emails',
          'c.phones',
          'c.tags',
          'c.lifecycle_stage',
          'c.custom',
          'co.name as company',
        );
      if (last !== null) query.where('c.id', '>', last);
      return query;
    })) as (ContactRow & { company: string | null })[];
    if (rows.length === 0) return;
    yield stringify(rows.map((row) => exportRow(row, row.company, customKeys)));
    if (rows.length < EXPORT_BATCH) return;
    after = rows.at(-1)!.id;
  }
}

/** Everything about one contact, for the GDPR export. */
async function contactData(tx: Knex.Transaction, siteId: string, contactId: string) {
  const contact = await contactOf(tx, siteId, contactId);
  const of = { site_id: siteId, contact_id: contactId };
  const company = contact.company_id
    ? ((await tx('mod_crm.companies')
        .where({ site_id: siteId, id: contact.company_id })
        .first('id', 'name', 'domain')) as { id: string; name: string; domain: string | null } | undefined)
    : undefined;
  const activities = (await tx('mod_crm.activities')
    .where(of)
    .orderBy(['occurred_at', 'id'])
    .select(
      'id',
      'kind',
      'subject',
      'body',
      'deal_id',
      'company_id',
      'due_at',
      'completed_at',
      'occurred_at',
      'duration_minutes',
      'created_at',
    )) as Record<string, unknown>[];
  const deals = (await tx('mod_crm.deals')
    .where(of)
    .orderBy(['created_at', 'id'])
    .select('id', 'name', 'amount_minor', 'currency', 'pipeline_id', 'stage_id', 'closed_at', 'created_at')) as Record<
    string,
    unknown
  >[];
  const timeline = (await tx('mod_crm.timeline')
    .where(of)
    .orderBy(['occurred_at', 'id'])
    .select('id', 'type', 'summary', 'data', 'occurred_at')) as Record<string, unknown>[];
  const submissions = (await tx('mod_crm.form_submissions')
    .where(of)
    .orderBy(['created_at', 'id'])
    .select('id', 'fields', 'page_url', 'utm', 'created_at')) as Record<string, unknown>[];
  const merges = (await tx('mod_crm.merges')
    .where({ site_id: siteId, kept_contact_id: contactId })
    .orderBy(['created_at', 'id'])
    .select('id', 'merged_contact_id', 'merged_contact', 'merged_by', 'created_at')) as Record<string, unknown>[];
  return {
    contact: contactBody(contact),
    company: company ?? null,
    activities: activities.map((row) => ({
      ...(row as { id: string; kind: string; subject: string; body: string }),
      deal_id: row.deal_id as string | null,
      company_id: row.company_id as string | null,
      due_at: iso(row.due_at),
      completed_at: iso(row.completed_at),
      occurred_at: iso(row.occurred_at)!,
      duration_minutes: row.duration_minutes as number | null,
      created_at: iso(row.created_at)!,
    })),
    deals: deals.map((row) => ({
      ...(row as { id: string; name: string; currency: string; pipeline_id: string; stage_id: string }),
      // bigint comes back as a string
      amount_minor: Number(row.amount_minor),
      closed_at: iso(row.closed_at),
      created_at: iso(row.created_at)!,
    })),
    timeline: timeline.map((row) => ({
      ...(row as { id: string; type: string; summary: string; data: Record<string, unknown> }),
      occurred_at: iso(row.occurred_at)!,
    })),
    form_submissions: submissions.map((row) => ({
      ...(row as { id: string; fields: Record<string, unknown>; utm: Record<string, unknown> }),
      page_url: row.page_url as string | null,
      created_at: iso(row.created_at)!,
    })),
    merges: merges.map((row) => ({
      ...(row as { id: string; merged_contact_id: string; merged_contact: Record<string, unknown> }),
      merged_by: row.merged_by as string | null,
      created_at: iso(row.created_at)!,
    })),
    exported_at: new Date().toISOString(),
  };
}

export const crmHygieneHandlers: HygieneHandlers = {
  async mergeCrmContacts(ctx) {
    const { tx, params, body } = ctx;
    const { siteId, contactId } = params;
    await crmSite(tx, siteId);
    const fromId = body.from_contact_id;
    if (fromId === contactId) throw invalidField('from_contact_id', 'is the contact itself: name another one');
    // Both locked, in id order (as imports lock), so that two merges of the same pair cannot deadlock.
    const locked = (await tx('mod_crm.contacts')
      .where({ site_id: siteId })
      .whereIn('id', [contactId, fromId])
      .orderBy('id')
      .forUpdate()
      .select(CONTACT_COLUMNS)) as ContactRow[];
    const kept = locked.find((contact) => contact.id === contactId);
    const other = locked.find((contact) => contact.id === fromId);
    if (!kept) throw notFound('contact');
    if (!other) throw invalidField('from_contact_id', 'is not a contact of this site');
    // One contact holds what the API lets one hold: a merge past that would have to drop something.
    const fields = mergedFields(kept, other);
    for (const [list, most] of [
      ['emails', 10],
      ['phones', 10],
      ['tags', 50],
    ] as const) {
      if (fields[list].length > most) {
        throw new Problem(
          409,
          'too_many_values',
          'Conflict',
          `Together the two contacts have ${fields[list].length} ${list}; a contact holds ${most}. Remove some first.`,
        );
      }
    }

    // The other's addresses change hands before it is deleted (which would take them along); the key on
    // (site, address) is not touched, since no two contacts share an address.
    await tx('mod_crm.contact_emails').where({ site_id: siteId, contact_id: fromId }).update({ contact_id: contactId });
    for (const table of FOLLOWING) {
      await tx(table).where({ site_id: siteId, contact_id: fromId }).update({ contact_id: contactId });
    }
    // Contacts merged into the other earlier are now merged into this one.
    await tx('mod_crm.merges')
      .where({ site_id: siteId, kept_contact_id: fromId })
      .update({ kept_contact_id: contactId });
    const mergeId = uuidv7();
    await tx('mod_crm.merges').insert({
      id: mergeId,
      agency_id: ctx.agencyId,
      site_id: siteId,
      kept_contact_id: contactId,
      merged_contact_id: fromId,
      merged_contact: JSON.stringify(contactBody(other)),
      merged_by: ctx.principal.userId,
    });
    await tx('mod_crm.contacts').where({ site_id: siteId, id: fromId }).delete();
    await tx('mod_crm.contacts')
      .where({ site_id: siteId, id: contactId })
      .update({ ...fields, updated_at: tx.fn.now() });
    const name = `${other.first_name} ${other.last_name}`.trim() || other.emails[0] || 'a contact';
    await addTimeline(ctx, siteId, contactId, {
      type: 'contact.merged',
      summary: `Merged with ${name}`,
      data: { merged_contact_id: fromId, merge_id: mergeId },
    });
    const contact = contactBody(await contactOf(tx, siteId, contactId));
    await emitSiteEvent(ctx, siteId, 'crm.contact.merged', { ...contact, merged_contact_id: fromId });
    return { status: 200, body: contact };
  },

  async exportCrmContactData({ tx, params }) {
    await crmSite(tx, params.siteId);
    const body = await contactData(tx, params.siteId, params.contactId);
    return {
      status: 200,
      body,
      headers: { 'Content-Disposition': `attachment; filename="contact-${params.contactId}.json"` },
    };
  },

  async eraseCrmContact(ctx) {
    const { tx, params } = ctx;
    const { siteId, contactId } = params;
    await crmSite(tx, siteId);
    const contact = (await tx('mod_crm.contacts')
      .where({ site_id: siteId, id: contactId })
      .forUpdate()
      .first('id', 'emails')) as { id: string; emails: string[] } | undefined;
    if (!contact) throw notFound('contact');
    // An activity it shares with a deal or a company stays in their history, without the person in it.
    await tx('mod_crm.activities')
      .where({ site_id: siteId, contact_id: contactId })
      .where((shared) => shared.whereNotNull('deal_id').orWhereNotNull('company_id'))
      .update({ contact_id: null, subject: 'Erased', body: '', updated_at: tx.fn.now() });
    // Its addresses, wherever the site's other activities mention them — and the timeline lines that quote
    // those activities.
    for (const email of contact.emails) {
      const pattern = literally(email);
      await tx('mod_crm.timeline')
        .where({ site_id: siteId })
        .whereNotNull('activity_id')
        .whereRaw('strpos(lower(summary), ?) > 0', [email])
        .update({ summary: tx.raw(`regexp_replace(summary, ?, '[erased]', 'gi')`, [pattern]) });
      await tx('mod_crm.activities')
        .where({ site_id: siteId })
        .where((mentions) =>
          mentions.whereRaw('strpos(lower(subject), ?) > 0', [email]).orWhereRaw('strpos(lower(body), ?) > 0', [email]),
        )
        .update({
          subject: tx.raw(`regexp_replace(subject, ?, '[erased]', 'gi')`, [pattern]),
          body: tx.raw(`regexp_replace(body, ?, '[erased]', 'gi')`, [pattern]),
          updated_at: tx.fn.now(),
        });
    }
    // Its addresses, timeline, form submissions, own activities and the snapshots of contacts merged into it
    // (the same person) go with it; its deals lose it.
    await tx('mod_crm.contacts').where({ site_id: siteId, id: contactId }).delete();
    await tx('mod_crm.erasures').insert({
      id: uuidv7(),
      agency_id: ctx.agencyId,
      site_id: siteId,
      contact_id: contactId,
      erased_by: ctx.principal.userId,
    });
    await emitSiteEvent(ctx, siteId, 'crm.contact.deleted', { id: contactId });
    await emitSiteEvent(ctx, siteId, 'crm.contact.erased', { id: contactId });
    return { status: 204 };
  },

  async exportCrmContacts({ tx, params }) {
    const { siteId } = params;
    await crmSite(tx, siteId);
    const customKeys = (await tx('mod_crm.custom_fields')
      .where({ site_id: siteId, entity: 'contact' })
      .orderBy(['position', 'key'])
      .pluck('key')) as string[];
    return {
      status: 200,
      headers: { 'Content-Disposition': 'attachment; filename="contacts.csv"' },
      stream: { type: 'text/csv; charset=utf-8', pieces: (inTenant) => exportPieces(inTenant, siteId, customKeys) },
    };
  },

  importCrmContacts: withPreparation(
    ({ request, params, principal, inTenant }) => runImport({ request, siteId: params.siteId, principal, inTenant }),
    async ({ tx, params }, importId) => {
      const body = await importOf(tx, params.siteId, importId);
      return {
        status: 201,
        body,
        headers: { Location: `/v1/sites/${params.siteId}/crm/imports/${importId}` },
      };
    },
  ),

  async listCrmImports({ tx, params, query }) {
    await crmSite(tx, params.siteId);
    const rows = tx('mod_crm.imports').where({ site_id: params.siteId }).select(IMPORT_COLUMNS);
    const body = await paginateSorted(
      tx,
      rows,
      { column: 'created_at', descending: true, idColumn: 'id' },
      query,
      importBody,
    );
    return { status: 200, body };
  },

  async getCrmImport({ tx, params }) {
    await crmSite(tx, params.siteId);
    return { status: 200, body: await importOf(tx, params.siteId, params.importId) };
  },
};
