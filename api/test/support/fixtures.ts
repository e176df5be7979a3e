import { randomUUID } from 'node:crypto';
import { ALL_SCOPES } from '../../src/platform/roles.js';
import type { TestPlatform } from './platform.js';

export interface PopulatedAgency {
  agencyId: string;
  token: string;
  /** The owner who signed the agency up. */
  ownerId: string;
  email: string;
  password: string;
  clientId: string;
  siteId: string;
  origin: string;
  originId: string;
  /** A second user: an agency member. */
  userId: string;
  /** A secret key with every scope. */
  keyId: string;
  secretKey: string;
  publishableKeyId: string;
  publishableKey: string;
}

async function created(platform: TestPlatform, token: string, path: string, body: unknown) {
  const reply = await platform.request('POST', path, { token, body });
  if (reply.status !== 201) throw new Error(`POST ${path}: ${reply.status} ${reply.text}`);
  return reply.body;
}

/** An agency with one of everything the platform API manages. */
export async function populateAgency(platform: TestPlatform, name: string): Promise<PopulatedAgency> {
  const owner = await platform.signUp(name);
  const { token } = owner;
  const client = await created(platform, token, '/v1/clients', { name: `${name} client` });
  const site = await created(platform, token, '/v1/sites', { client_id: client.id, name: `${name}.example` });
  const origin = `https://${name.toLowerCase().replace(/\W+/g, '-')}.example`;
  const allowed = await created(platform, token, `/v1/sites/${site.id}/origins`, { origin });
  const member = await created(platform, token, '/v1/users', {
    email: `${randomUUID()}@example.com`,
    name: `${name} member`,
    role: 'agency_member',
    password: 'member password',
  });
  const secret = await created(platform, token, '/v1/keys', {
    type: 'secret',
    name: 'server',
    scopes: ALL_SCOPES,
  });
  const publishable = await created(platform, token, '/v1/keys', {
    type: 'publishable',
    name: 'web',
    site_id: site.id,
  });
  return {
    ...owner,
    ownerId: owner.userId,
    clientId: client.id,
    siteId: site.id,
    origin,
    originId: allowed.id,
    userId: member.id,
    keyId: secret.id,
    secretKey: secret.secret,
    publishableKeyId: publishable.id,
    publishableKey: publishable.secret,
  };
}

export interface PopulatedCustomRole {
  roleId: string;
  /** A client member of the agency's client who has the role. */
  userId: string;
}

/** A custom role of the agency's client holding one module permission, and a client member who has it. */
export async function populateCustomRole(
  platform: TestPlatform,
  agency: { token: string; clientId: string },
  permission: string,
): Promise<PopulatedCustomRole> {
  const role = await created(platform, agency.token, `/v1/clients/${agency.clientId}/roles`, {
    name: 'Reviewer',
    permissions: [permission],
  });
  const user = await created(platform, agency.token, '/v1/users', {
    email: `${randomUUID()}@example.com`,
    name: 'Reviewer',
    role: 'client_member',
    client_id: agency.clientId,
    custom_role_ids: [role.id],
  });
  return { roleId: role.id, userId: user.id };
}
