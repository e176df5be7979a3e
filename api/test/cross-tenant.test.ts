import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOperations, loadPlatformSpec, resolve, type OperationInfo, type SchemaObject } from '../src/http/spec.js';
import {
  populateAgency,
  populateCustomRole,
  type PopulatedAgency,
  type PopulatedCustomRole,
} from './support/fixtures.js';
import { bookingModule, populateBooking, type PopulatedBooking } from './support/booking.js';
import { crmModule, populateCrm, type PopulatedCrm } from './support/crm.js';
import { populateModule, publishFirstParty, type PopulatedModule } from './support/modules.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { populateWebhook, type PopulatedWebhook } from './support/webhooks.js';

/**
 * Agency A's owner calls every operation of the spec against agency B's resources. Walking the spec
 * means a new route is covered the day it is written; a path parameter this test cannot fill fails it.
 */
const spec = loadPlatformSpec();
const operations = listOperations(spec);

let platform: TestPlatform;
let a: PopulatedAgency;
let b: PopulatedAgency;
/** B's own module, installed on B's site with a record. */
let bModule: PopulatedModule;
/** B's webhook endpoint and one of its deliveries. */
let bWebhook: PopulatedWebhook;
/** B's OAuth client. */
let bOAuthClientId: string;
/** A custom role of B's client, and a client user of B who has it. */
let bRole: PopulatedCustomRole;
/** The booking module on B's site: a person, a date override, a service and a booking. */
let bBooking: PopulatedBooking;
/** The CRM on B's site: a row in each of its tables. */
let bCrm: PopulatedCrm;

/** B's id for each path parameter and id-valued body field. */
function victimId(name: string): string {
  const ids: Record<string, string> = {
    agencyId: b.agencyId,
    clientId: b.clientId,
    siteId: b.siteId,
    originId: b.originId,
    userId: b.userId,
    keyId: b.keyId,
    agency_id: b.agencyId,
    client_id: b.clientId,
    site_id: b.siteId,
    moduleId: bModule.moduleId,
    version: bModule.version,
    file: bModule.file,
    collection: bModule.collection,
    itemId: bModule.itemId,
    webhookId: bWebhook.webhookId,
    deliveryId: bWebhook.deliveryId,
    oauthClientId: bOAuthClientId,
    roleId: bRole.roleId,
    serviceId: bBooking.serviceId,
    service_id: bBooking.serviceId,
    staffId: bBooking.staffId,
    staff_id: bBooking.staffId,
    bookingId: bBooking.bookingId,
    date: bBooking.date,
    contactId: bCrm.contactId,
    contact_id: bCrm.contactId,
    from_contact_id: bCrm.contactId,
    companyId: bCrm.companyId,
    company_id: bCrm.companyId,
    pipelineId: bCrm.pipelineId,
    pipeline_id: bCrm.pipelineId,
    stage_id: bCrm.stageId,
    dealId: bCrm.dealId,
    deal_id: bCrm.dealId,
    before_deal_id: bCrm.dealId,
    activityId: bCrm.activityId,
    fieldId: bCrm.fieldId,
    importId: bCrm.importId,
    owner_id: b.userId,
    assignee_id: b.userId,
  };
  const id = ids[name];
  if (!id) throw new Error(`No cross-tenant fixture for "${name}": add one of agency B's ids for it here.`);
  return id;
}

/** A minimal valid value for a schema, with every id field pointing at agency B. */
function sample(schema: SchemaObject | undefined, name: string): unknown {
  const s = resolve<SchemaObject>(spec, schema ?? {});
  if (s.allOf) {
    // The parts' properties with the whole's own rules (`required`, `minProperties`), as one object schema.
    const parts = s.allOf.map((part) => resolve<SchemaObject>(spec, part as SchemaObject));
    const { allOf: _, ...whole } = s;
    return sample(
      {
        ...whole,
        type: 'object',
        properties: Object.assign({}, ...parts.map((part) => part.properties)),
        required: [...(s.required ?? []), ...parts.flatMap((part) => part.required ?? [])],
      } as SchemaObject,
      name,
    );
  }
  if (s.enum) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      // A free-form object (a module's record) has only its example to go by.
      if (!s.properties && s.examples?.length) return s.examples[0];
      const properties = (s.properties ?? {}) as Record<string, SchemaObject>;
      const names = Object.keys(properties);
      // Required fields, id fields (to point them at B), and enough others for `minProperties`.
      const wanted = names.filter(
        (key, index) => s.required?.includes(key) || key.endsWith('_id') || index < (s.minProperties ?? 0),
      );
      return Object.fromEntries(wanted.map((key) => [key, sample(properties[key], key)]));
    }
    case 'array':
      return Array.from({ length: s.minItems ?? 0 }, () => sample((s as { items?: SchemaObject }).items, name));
    case 'integer':
    case 'number':
      return s.minimum ?? 0;
    case 'boolean':
      return false;
    default:
      if (s.format === 'uuid') return victimId(name);
      if (s.format === 'date-time') return new Date().toISOString();
      if (s.format === 'date') return name === 'date' ? victimId(name) : '2027-01-11';
      // Not a UUID: a body with one is taken for a reference to B's resources.
      if (s.format === 'email') return `${randomBytes(8).toString('hex')}@example.com`;
      if (name === 'origin') return 'https://cross-tenant.example';
      if (typeof s.examples?.[0] === 'string') return s.examples[0];
      return 'x'.repeat(Math.max(s.minLength ?? 1, 12));
  }
}

function pathFor(operation: OperationInfo): string {
  return operation.path.replace(/\{(\w+)\}/g, (_, name: string) => victimId(name));
}

/** The operation's id-valued query parameters (`site_id`), pointed at B, and the others it requires. */
function queryFor(operation: OperationInfo): URLSearchParams {
  const wanted = operation.parameters.filter(
    (parameter) =>
      parameter.in === 'query' &&
      (parameter.required || resolve<SchemaObject>(spec, parameter.schema ?? {}).format === 'uuid'),
  );
  return new URLSearchParams(
    wanted.map((parameter) => [parameter.name, String(sample(parameter.schema as SchemaObject, parameter.name))]),
  );
}

/**
 * Who calls: A's owner — with a session of its own for signing out (so that it does not end the others'),
 * with A's usual session otherwise (a sign-in per operation would run into the sign-in rate limit).
 */
async function callAsA(operation: OperationInfo) {
  const publicOnly = operation.security.every((requirement) => 'publishableKey' in requirement);
  const signsOut = operation.id === 'deleteCurrentSession';
  const token = publicOnly ? undefined : signsOut ? await platform.signIn(a.email, a.password) : a.token;
  const params = publicOnly ? new URLSearchParams({ key: a.publishableKey }) : queryFor(operation);
  const query = params.size > 0 ? `?${params}` : '';
  // A body that is not JSON (a CSV file) is its media type's example.
  const content = resolve<{ content: Record<string, { example?: string }> } | undefined>(
    spec,
    spec.paths?.[operation.path]?.[operation.method]?.requestBody,
  )?.content;
  const [rawType, raw] = operation.body ? [] : (Object.entries(content ?? {})[0] ?? []);
  return platform.request(operation.method.toUpperCase(), pathFor(operation) + query, {
    token,
    body: operation.body ? sample(operation.body.schema, 'body') : undefined,
    raw: raw?.example,
    headers: { ...(publicOnly ? { origin: a.origin } : {}), ...(raw?.example ? { 'content-type': rawType! } : {}) },
  });
}

const bIds = () => [
  b.agencyId,
  b.clientId,
  b.siteId,
  b.originId,
  b.userId,
  b.keyId,
  b.publishableKeyId,
  bModule.itemId,
  bWebhook.webhookId,
  bWebhook.deliveryId,
  bOAuthClientId,
  bRole.roleId,
  bRole.userId,
  bBooking.serviceId,
  bBooking.staffId,
  bBooking.bookingId,
  ...Object.values(bCrm),
];

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await populateAgency(platform, 'Alpha');
  b = await populateAgency(platform, 'Bravo');
  await populateModule(platform, a, 'alpha');
  bModule = await populateModule(platform, b, 'bravo');
  bWebhook = await populateWebhook(platform, b, bModule.moduleId);
  const oauthClient = await platform.request('POST', '/v1/oauth-clients', {
    token: b.token,
    body: { type: 'service', name: 'Bravo sync', scopes: ['clients:read'] },
  });
  bOAuthClientId = oauthClient.body.id;
  bRole = await populateCustomRole(platform, b, `${bModule.moduleId}.questions.read`);
  await publishFirstParty(platform, [bookingModule(), crmModule()]);
  await populateBooking(platform, a);
  bBooking = await populateBooking(platform, b);
  await populateCrm(platform, a);
  bCrm = await populateCrm(platform, b);
});

/** The module catalog is one for every agency: reading B's published module is by design. */
const inCatalog = (operation: OperationInfo) =>
  operation.method === 'get' && (spec.paths?.[operation.path]?.get?.tags ?? []).includes('Modules');
afterAll(() => platform?.close());

describe('a user of agency A, against every operation with agency B’s ids', () => {
  const secured = operations.filter((operation) => operation.security.length > 0);

  it.each(secured.map((operation) => [`${operation.method.toUpperCase()} ${operation.path}`, operation] as const))(
    '%s reveals and changes nothing of B',
    async (_, operation) => {
      const reply = await callAsA(operation);
      for (const id of bIds()) expect(reply.text, `response mentions B's ${id}`).not.toContain(id);
      if (inCatalog(operation)) {
        expect(reply.status).toBe(200);
      } else if (operation.path.includes('{')) {
        expect(reply.status).toBe(404);
        expect(reply.headers.get('content-type')).toContain('application/problem+json');
      } else if (operation.body && JSON.stringify(sample(operation.body.schema, 'body')).match(/[0-9a-f-]{36}/)) {
        // A create that refers to B's resources in its body must not succeed either.
        expect(reply.status).toBeGreaterThanOrEqual(400);
        expect(reply.status).toBeLessThan(500);
      } else {
        expect(reply.status).toBeLessThan(500);
      }
    },
  );

  it('left every one of B’s resources in place', async () => {
    const token = b.token;
    for (const path of [
      `/v1/agencies/${b.agencyId}`,
      `/v1/clients/${b.clientId}`,
      `/v1/sites/${b.siteId}`,
      `/v1/users/${b.userId}`,
      `/v1/keys/${b.keyId}`,
      `/v1/keys/${b.publishableKeyId}`,
    ]) {
      const reply = await platform.request('GET', path, { token });
      expect(reply.status, path).toBe(200);
    }
    const key = await platform.request('GET', `/v1/keys/${b.keyId}`, { token });
    expect(key.body.revoked_at).toBeNull();
    expect(key.body.expires_at).toBeNull();
    const origins = await platform.request('GET', `/v1/sites/${b.siteId}/origins`, { token });
    expect(origins.body.data.map((o: { id: string }) => o.id)).toEqual([b.originId]);
    const install = await platform.request('GET', `/v1/sites/${b.siteId}/installs/${bModule.moduleId}`, { token });
    expect(install.body).toMatchObject({ status: 'active', version: bModule.version });
    const webhook = await platform.request('GET', `/v1/webhooks/${bWebhook.webhookId}`, { token });
    expect(webhook.body).toMatchObject({ enabled: true, url: bWebhook.url });
    const deliveries = await platform.request('GET', `/v1/webhooks/${bWebhook.webhookId}/deliveries`, { token });
    expect(deliveries.body.data.map((d: { id: string }) => d.id)).toContain(bWebhook.deliveryId);
    const record = await platform.request('GET', `/v1/m/${bModule.moduleId}/questions/${bModule.itemId}`, { token });
    expect(record.status).toBe(200);
    expect(record.body.question).toBe('bravo: what is this?');
    const role = await platform.request('GET', `/v1/clients/${b.clientId}/roles/${bRole.roleId}`, { token });
    expect(role.body.permissions).toEqual([`${bModule.moduleId}.questions.read`]);
    const booking = await platform.request('GET', `/v1/sites/${b.siteId}/booking/bookings/${bBooking.bookingId}`, {
      token,
    });
    expect(booking.body).toMatchObject({ status: 'confirmed', service_id: bBooking.serviceId });
    const contact = await platform.request('GET', `/v1/sites/${b.siteId}/crm/contacts/${bCrm.contactId}`, { token });
    expect(contact.body).toMatchObject({ first_name: 'Populated', emails: [`populated@${b.agencyId}.example`] });
    const imports = await platform.request('GET', `/v1/sites/${b.siteId}/crm/imports`, { token });
    expect(imports.body.data.map((item: { id: string }) => item.id)).toEqual([bCrm.importId]);
    const override = await platform.request(
      'GET',
      `/v1/sites/${b.siteId}/booking/staff/${bBooking.staffId}/overrides`,
      { token },
    );
    expect(override.body.data).toEqual([{ date: bBooking.date, hours: [{ start: '10:00', end: '12:00' }] }]);
    const crm = `/v1/sites/${b.siteId}/crm`;
    const deal = await platform.request('GET', `${crm}/deals/${bCrm.dealId}`, { token });
    expect(deal.body).toMatchObject({
      name: 'Populated deal',
      stage_id: bCrm.stageId,
      contact_id: bCrm.contactId,
      company_id: bCrm.companyId,
      custom: { source: 'fixture' },
    });
    const pipeline = await platform.request('GET', `${crm}/pipelines/${bCrm.pipelineId}`, { token });
    expect(pipeline.body.stages.map((stage: { name: string }) => stage.name)).toEqual(['Lead', 'Won']);
    for (const path of [
      `/contacts/${bCrm.contactId}`,
      `/companies/${bCrm.companyId}`,
      `/custom-fields/${bCrm.fieldId}`,
    ]) {
      expect((await platform.request('GET', `${crm}${path}`, { token })).status, path).toBe(200);
    }
    const task = await platform.request('GET', `${crm}/activities/${bCrm.activityId}`, { token });
    expect(task.body).toMatchObject({ subject: 'Call back', completed_at: null });
    const reviewer = await platform.request('GET', `/v1/users/${bRole.userId}`, { token });
    expect(reviewer.body.custom_role_ids).toEqual([bRole.roleId]);
    // B's publishable key still works from B's origin.
    const site = await platform.request('GET', `/v1/public/site?key=${b.publishableKey}`, {
      headers: { origin: b.origin },
    });
    expect(site.status).toBe(200);
    expect(site.body.id).toBe(b.siteId);
  });

  it('A’s publishable key does not open B’s site, and B’s origin cannot use A’s key', async () => {
    const reply = await platform.request('GET', `/v1/public/site?key=${a.publishableKey}`, {
      headers: { origin: b.origin },
    });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('origin_not_allowed');
  });
});
