import { v7 as uuidv7 } from 'uuid';
import { buildFirstPartyModule, type ModulePublishBody } from '../../../scripts/first-party-module.js';
import { compileSchema } from '../../src/modules/json-schema.js';
import type { PopulatedAgency } from './fixtures.js';
import { asVisitor, created, publishFirstParty, siteWithModule, type ModuleSite } from './modules.js';
import type { Reply, TestPlatform } from './platform.js';

let built: Promise<ModulePublishBody> | undefined;

/** The CRM module's publish body (its manifest, its elements bundled, its OpenAPI document), built once. */
export const crmModule = async () => structuredClone(await (built ??= buildFirstPartyModule('crm')));

/** Publishes the CRM as the platform operator (once per platform). */
export const publishCrm = (platform: TestPlatform) => publishFirstParty(platform, [crmModule()]);

export interface CrmSite extends ModuleSite {
  /** `/v1/sites/<site>/crm` */
  base: string;
  /** POSTs under `base`, failing the test unless it is created; the new thing. */
  create(path: string, body: unknown): Promise<Reply['body']>;
  /** Calls under `base` as the agency's owner. */
  crm(method: string, path: string, body?: unknown): Promise<Reply>;
}

/** A site with the CRM installed (see siteWithModule). */
export async function crmSite(platform: TestPlatform, name: string, owner?: PopulatedAgency): Promise<CrmSite> {
  const site = await siteWithModule(platform, 'crm', name, owner);
  const base = `/v1/sites/${site.siteId}/crm`;
  const crm = (method: string, path: string, body?: unknown) => site.call(method, `${base}${path}`, body);
  return {
    ...site,
    base,
    crm,
    async create(path, body) {
      const reply = await crm('POST', path, body);
      if (reply.status !== 201) throw new Error(`POST ${path}: ${reply.status} ${reply.text}`);
      return reply.body;
    },
  };
}

export interface CrmEvent {
  type: string;
  payload: Record<string, unknown>;
}

/**
 * The site's outbox events whose type starts with `prefix`, in the order they were emitted; each payload must
 * match the schema the CRM's manifest declares for its type (the test fails otherwise).
 */
export async function crmEvents(platform: TestPlatform, siteId: string, prefix = 'crm.'): Promise<CrmEvent[]> {
  const { manifest } = await crmModule();
  const events = (await platform.db
    .knex('outbox')
    .where({ site_id: siteId })
    .whereLike('type', `${prefix}%`)
    .orderBy('id')
    .select('type', 'payload')) as CrmEvent[];
  for (const event of events) {
    const declared = manifest.events?.[event.type];
    if (!declared) throw new Error(`${event.type} is not declared in the CRM's manifest`);
    const compiled = compileSchema(declared.payload);
    if ('error' in compiled) throw new Error(`${event.type}: ${compiled.error}`);
    const result = compiled.validate(event.payload);
    if (!result.valid) throw new Error(`${event.type} payload: ${JSON.stringify(result.issues)}`);
  }
  return events;
}

export interface PopulatedCrm {
  contactId: string;
  companyId: string;
  pipelineId: string;
  stageId: string;
  dealId: string;
  activityId: string;
  fieldId: string;
  importId: string;
}

/**
 * The CRM on the agency's own site with a row in each of its tables, for the tenancy walks, all through the
 * API (a custom field, a company, a contact, a pipeline, a deal, a task, an import, a merge, a form
 * submission, an erasure) but the module inbox's row.
 */
export async function populateCrm(platform: TestPlatform, agency: PopulatedAgency): Promise<PopulatedCrm> {
  const { token, siteId } = agency;
  const base = `/v1/sites/${siteId}/crm`;
  await created(platform, token, `/v1/sites/${siteId}/installs`, { module_id: 'crm' });
  const field = await created(platform, token, `${base}/custom-fields`, {
    entity: 'deal',
    key: 'source',
    label: 'Source',
    type: 'text',
  });
  const company = await created(platform, token, `${base}/companies`, {
    name: 'Populated',
    domain: 'populated.example',
  });
  const contact = await created(platform, token, `${base}/contacts`, {
    first_name: 'Populated',
    emails: [`populated@${agency.agencyId}.example`],
  });
  const pipeline = await created(platform, token, `${base}/pipelines`, {
    name: 'Sales',
    stages: [{ name: 'Lead' }, { name: 'Won', kind: 'won' }],
  });
  const deal = await created(platform, token, `${base}/deals`, {
    name: 'Populated deal',
    contact_id: contact.id,
    company_id: company.id,
    custom: { source: 'fixture' },
  });
  const activity = await created(platform, token, `${base}/activities`, {
    kind: 'task',
    subject: 'Call back',
    contact_id: contact.id,
    deal_id: deal.id,
    due_at: '2027-01-15T09:00:00Z',
  });
  const upload = await platform.request('POST', `${base}/imports`, {
    token,
    raw: `emails,first_name\nimported-${agency.agencyId}@crm.example,Imported\n`,
    headers: { 'content-type': 'text/csv' },
  });
  if (upload.status !== 201) throw new Error(`import: ${upload.status} ${upload.text}`);
  const merged = await created(platform, token, `${base}/contacts`, { first_name: 'Merged' });
  const merge = await platform.request('POST', `${base}/contacts/${contact.id}/merge`, {
    token,
    body: { from_contact_id: merged.id },
  });
  if (merge.status !== 200) throw new Error(`merge: ${merge.status} ${merge.text}`);
  const form = await asVisitor(platform, agency, 'POST', '/v1/crm/form-submissions', {
    fields: { email: `form-${agency.agencyId}@crm.example` },
    honeypot: '',
    elapsed_ms: 5000,
  });
  if (form.status !== 202) throw new Error(`form: ${form.status} ${form.text}`);
  const erased = await created(platform, token, `${base}/contacts`, { first_name: 'Erased' });
  const erase = await platform.request('POST', `${base}/contacts/${erased.id}/erase`, { token });
  if (erase.status !== 204) throw new Error(`erase: ${erase.status} ${erase.text}`);
  // The inbox is the workers' alone: no request writes it.
  const { knex } = platform.db;
  const event = await knex('outbox').where({ site_id: siteId, type: 'crm.contact.created' }).first('id');
  await knex('module_inbox').insert({
    id: uuidv7(),
    agency_id: agency.agencyId,
    site_id: siteId,
    module_id: 'crm',
    event_id: event.id,
    status: 'done',
  });
  return {
    contactId: contact.id,
    companyId: company.id,
    pipelineId: pipeline.id,
    stageId: pipeline.stages[0].id,
    dealId: deal.id,
    activityId: activity.id,
    fieldId: field.id,
    importId: upload.body.id,
  };
}
