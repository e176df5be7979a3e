/**
 * Roles inside modules: permissions a manifest declares, the built-in roles that hold them by default, custom
 * roles per client that add more, and the one check in the request pipeline that enforces them.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enterTenant } from '../src/db/tenant.js';
import type { Role } from '../src/http/operations.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { asVisitor, faqModule, publish, published, variant } from './support/modules.js';
import { startTestPlatform, type Reply, type TestPlatform } from './support/platform.js';
import type { ModulePublishBody } from '../../examples/faq-module/build.js';

type Manifest = ModulePublishBody['manifest'];

let platform: TestPlatform;
let a: PopulatedAgency;
let b: PopulatedAgency;

const MODULE = 'quill.faq';
const READ = 'quill.faq.questions.read';
const WRITE = 'quill.faq.questions.write';
const AUDIT = 'quill.faq.questions.audit';
const PASSWORD = 'a long enough password';
const questions = (siteId: string) => `/v1/m/${MODULE}/questions?site_id=${siteId}`;

/** The example FAQ module as `quill.faq` (or another id of the `quill` vendor), its manifest changed by `change`. */
async function quill(change: (manifest: Manifest) => void = () => {}, id = MODULE): Promise<ModulePublishBody> {
  const { v1 } = await faqModule();
  return variant(v1, (manifest) => {
    manifest.id = id;
    manifest.elements![0]!.tag = `quill-${id.split('.')[1]}`;
    manifest.events = {};
    change(manifest);
  });
}

/**
 * Reading questions is for admins by default, writing for client admins; auditing is the owner's alone (and
 * names no collection: a permission custom roles can carry all the same).
 */
function declarePermissions(manifest: Manifest, readers: Role[]) {
  manifest.access = {
    permissions: {
      [READ]: { description: 'Read every question, drafts included.', roles: readers },
      [WRITE]: { description: 'Add, change and remove questions.', roles: ['client_admin'] },
      [AUDIT]: { description: 'Review changes to questions.', roles: [] },
    },
  };
  manifest.collections!.questions!.access = { read: READ, write: WRITE };
}

/** Adds a user with `role` (of the agency's client for client roles) and signs them in. */
async function userWith(agency: PopulatedAgency, role: string, clientId: string | null = agency.clientId) {
  const email = `${randomUUID()}@example.com`;
  const reply = await platform.request('POST', '/v1/users', {
    token: agency.token,
    body: {
      email,
      name: role,
      role,
      password: PASSWORD,
      ...(role.startsWith('client_') ? { client_id: clientId } : {}),
    },
  });
  expect(reply.status, reply.text).toBe(201);
  return { id: reply.body.id as string, token: await platform.signIn(email, PASSWORD) };
}

async function created(path: string, body: unknown, token = a.token) {
  const reply = await platform.request('POST', path, { token, body });
  expect(reply.status, `POST ${path}: ${reply.text}`).toBe(201);
  return reply.body;
}

function expectRefused(reply: Reply, permission: string) {
  expect(reply.status, reply.text).toBe(403);
  expect(reply.headers.get('content-type')).toContain('application/problem+json');
  expect(reply.body.code).toBe('insufficient_permission');
  expect(reply.body.detail).toContain(permission);
}

const giveRoles = (userId: string, roleIds: string[], token = a.token) =>
  platform.request('PATCH', `/v1/users/${userId}`, { token, body: { custom_role_ids: roleIds } });

let itemId: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await populateAgency(platform, 'Quill');
  b = await populateAgency(platform, 'Other');
  await published(platform, a.token, await quill((m) => declarePermissions(m, ['agency_admin', 'client_admin'])));
  await created(`/v1/sites/${a.siteId}/installs`, { module_id: MODULE });
  itemId = (await created(questions(a.siteId), { question: 'Drafts?', answer: 'Yes.', published: false })).id;
});
afterAll(() => platform?.close());

describe('manifests declaring permissions', () => {
  it('refuse a permission outside the module’s own id, naming it by JSON pointer', async () => {
    const body = await quill((m) => {
      m.version = '9.0.0';
      m.access = { permissions: { 'other.faq.questions.read': { description: 'x', roles: [] } } };
    });
    const reply = await publish(platform, a.token, body);
    expect(reply.status).toBe(422);
    expect(reply.body.code).toBe('invalid_manifest');
    expect(reply.body.errors).toEqual([
      {
        path: '/body/manifest/access/permissions/other.faq.questions.read',
        message: 'must be named `quill.faq.<thing>.<action>`',
      },
    ]);
  });

  it('refuse a collection naming a permission the manifest does not declare', async () => {
    const body = await quill((m) => {
      m.version = '9.0.0';
      m.access = { permissions: { [READ]: { description: 'Read.', roles: [] } } };
      m.collections!.questions!.access = { read: READ, write: WRITE };
    });
    const reply = await publish(platform, a.token, body);
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([
      {
        path: '/body/manifest/collections/questions/access/write',
        message: `names \`${WRITE}\`, which the manifest does not declare in \`access.permissions\``,
      },
    ]);
  });

  it('refuse a role that does not exist, as the schema says', async () => {
    const body = await quill((m) => {
      m.version = '9.0.0';
      m.access = { permissions: { [READ]: { description: 'Read.', roles: ['client_owner' as never] } } };
    });
    const reply = await publish(platform, a.token, body);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('validation_failed');
    // The permission's id keeps its dots: the pointer names the key as it is.
    expect(reply.body.errors[0].path).toBe(`/body/manifest/access/permissions/${READ}/roles/0`);
  });

  it('publish a valid declaration, shown in the catalog', async () => {
    const reply = await platform.request('GET', `/v1/modules/${MODULE}/versions/1.0.0`, { token: a.token });
    expect(Object.keys(reply.body.manifest.access.permissions).sort()).toEqual([AUDIT, READ, WRITE]);
    expect(reply.body.manifest.collections.questions.access).toEqual({ read: READ, write: WRITE });
    // The module's generated API document says which permission each operation needs.
    const document = await platform.request('GET', `/v1/m/${MODULE}/openapi.json`);
    expect(document.body.paths[`/v1/m/${MODULE}/questions`].get.description).toContain(`\`${READ}\``);
    expect(document.body.paths[`/v1/m/${MODULE}/questions/{itemId}`].delete.description).toContain(`\`${WRITE}\``);
  });
});

describe('the permission check', () => {
  it('refuses a client member without the permission, naming it, on every collection operation', async () => {
    const member = await userWith(a, 'client_member');
    expectRefused(await platform.request('GET', questions(a.siteId), { token: member.token }), READ);
    const one = await platform.request('GET', `/v1/m/${MODULE}/questions/${itemId}`, { token: member.token });
    expectRefused(one, READ);
  });

  it('grants what the installed version’s manifest gives each built-in role', async () => {
    const clientAdmin = await userWith(a, 'client_admin');
    expect((await platform.request('GET', questions(a.siteId), { token: clientAdmin.token })).status).toBe(200);
    const write = await platform.request('POST', questions(a.siteId), {
      token: clientAdmin.token,
      body: { question: 'Client admin?', answer: 'May write.' },
    });
    expect(write.status).toBe(201);

    // An agency member holds the scopes, but the manifest gives the member neither permission.
    const agencyMember = await userWith(a, 'agency_member');
    expectRefused(await platform.request('GET', questions(a.siteId), { token: agencyMember.token }), READ);
    const patch = await platform.request('PATCH', `/v1/m/${MODULE}/questions/${itemId}`, {
      token: agencyMember.token,
      body: { answer: 'No.' },
    });
    expectRefused(patch, WRITE);
    const agencyAdmin = await userWith(a, 'agency_admin');
    const adminPatch = await platform.request('PATCH', `/v1/m/${MODULE}/questions/${itemId}`, {
      token: agencyAdmin.token,
      body: { answer: 'No.' },
    });
    expectRefused(adminPatch, WRITE);
    expect((await platform.request('GET', questions(a.siteId), { token: agencyAdmin.token })).status).toBe(200);

    // The owner holds every permission, listed or not.
    const owner = await platform.request('DELETE', `/v1/m/${MODULE}/questions/${write.body.id}`, { token: a.token });
    expect(owner.status).toBe(204);
  });

  it('leaves secret keys to their scopes and publishable keys to the public rules', async () => {
    const key = await created('/v1/keys', { type: 'secret', name: 'reader', scopes: ['collections:read'] });
    const list = await platform.request('GET', questions(a.siteId), { token: key.secret });
    expect(list.status).toBe(200);
    expect(list.body.data.map((q: { id: string }) => q.id)).toContain(itemId);
    const visitor = await asVisitor(platform, a, 'GET', `/v1/m/${MODULE}/questions`);
    expect(visitor.status).toBe(200);
    // Published questions only, as the module makes public.
    expect(visitor.body.data.map((q: { id: string }) => q.id)).not.toContain(itemId);
  });

  it('needs only the scope for a collection that names no permission', async () => {
    await published(platform, a.token, await quill(() => {}, 'quill.plain'));
    await created(`/v1/sites/${a.siteId}/installs`, { module_id: 'quill.plain' });
    const member = await userWith(a, 'client_member');
    const reply = await platform.request('GET', `/v1/m/quill.plain/questions?site_id=${a.siteId}`, {
      token: member.token,
    });
    expect(reply.status).toBe(200);
  });

  it('follows the version installed on the site: an upgrade that grants members lets them read', async () => {
    await published(
      platform,
      a.token,
      await quill((m) => {
        m.version = '1.1.0';
        declarePermissions(m, ['agency_admin', 'client_admin', 'client_member']);
      }),
    );
    const member = await userWith(a, 'client_member');
    expectRefused(await platform.request('GET', questions(a.siteId), { token: member.token }), READ);
    const upgraded = await platform.request('POST', `/v1/sites/${a.siteId}/installs/${MODULE}/upgrade`, {
      token: a.token,
      body: { version: '1.1.0' },
    });
    expect(upgraded.status, upgraded.text).toBe(200);
    expect((await platform.request('GET', questions(a.siteId), { token: member.token })).status).toBe(200);
    const back = await platform.request('POST', `/v1/sites/${a.siteId}/installs/${MODULE}/rollback`, {
      token: a.token,
    });
    expect(back.status, back.text).toBe(200);
    expectRefused(await platform.request('GET', questions(a.siteId), { token: member.token }), READ);
  });
});

describe('custom roles', () => {
  it('grant a client member the permission, shown in their session; revoking takes effect on the next request', async () => {
    const member = await userWith(a, 'client_member');
    const role = await created(`/v1/clients/${a.clientId}/roles`, { name: 'Reader', permissions: [READ] });
    expect(role).toMatchObject({ client_id: a.clientId, name: 'Reader', description: null, permissions: [READ] });

    const given = await giveRoles(member.id, [role.id]);
    expect(given.status, given.text).toBe(200);
    expect(given.body.custom_role_ids).toEqual([role.id]);
    expect((await platform.request('GET', questions(a.siteId), { token: member.token })).status).toBe(200);
    const session = await platform.request('GET', '/v1/sessions/current', { token: member.token });
    expect(session.body).toMatchObject({ token: null, role: 'client_member', user: { id: member.id } });
    expect(session.body.module_permissions).toEqual([READ]);

    // Taken from the user …
    expect((await giveRoles(member.id, [])).body.custom_role_ids).toEqual([]);
    expectRefused(await platform.request('GET', questions(a.siteId), { token: member.token }), READ);
    // … the permission taken from the role …
    expect((await giveRoles(member.id, [role.id])).status).toBe(200);
    const emptied = await platform.request('PATCH', `/v1/clients/${a.clientId}/roles/${role.id}`, {
      token: a.token,
      body: { permissions: [AUDIT] },
    });
    expect(emptied.body.permissions).toEqual([AUDIT]);
    expectRefused(await platform.request('GET', questions(a.siteId), { token: member.token }), READ);
    // … or the role deleted.
    await platform.request('PATCH', `/v1/clients/${a.clientId}/roles/${role.id}`, {
      token: a.token,
      body: { permissions: [READ] },
    });
    expect((await platform.request('GET', questions(a.siteId), { token: member.token })).status).toBe(200);
    const deleted = await platform.request('DELETE', `/v1/clients/${a.clientId}/roles/${role.id}`, { token: a.token });
    expect(deleted.status).toBe(204);
    expectRefused(await platform.request('GET', questions(a.siteId), { token: member.token }), READ);
    expect((await platform.request('GET', `/v1/users/${member.id}`, { token: a.token })).body.custom_role_ids).toEqual(
      [],
    );
  });

  it('never lift a scope: a member with a write permission still lacks collections:write', async () => {
    const member = await userWith(a, 'client_member');
    const role = await created(`/v1/clients/${a.clientId}/roles`, { name: 'Writer', permissions: [WRITE] });
    await giveRoles(member.id, [role.id]);
    const reply = await platform.request('POST', questions(a.siteId), {
      token: member.token,
      body: { question: 'Member?', answer: 'No.' },
    });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('insufficient_scope');
  });

  it('hold only permissions a published module declares', async () => {
    const reply = await platform.request('POST', `/v1/clients/${a.clientId}/roles`, {
      token: a.token,
      body: { name: 'Typo', permissions: [READ, 'quill.faq.question.read'] },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.code).toBe('unknown_permission');
    expect(reply.body.errors).toEqual([
      {
        path: '/body/permissions/1',
        message: 'is not a permission any published module declares in `access.permissions`',
      },
    ]);
  });

  it('have names unique within their client', async () => {
    await created(`/v1/clients/${a.clientId}/roles`, { name: 'Editors', permissions: [] });
    const again = await platform.request('POST', `/v1/clients/${a.clientId}/roles`, {
      token: a.token,
      body: { name: 'EDITORS', permissions: [] },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('role_exists');
  });

  it('let nobody grant a permission they do not hold', async () => {
    const clientAdmin = await userWith(a, 'client_admin');
    const refused = await platform.request('POST', `/v1/clients/${a.clientId}/roles`, {
      token: clientAdmin.token,
      body: { name: 'Auditor', permissions: [READ, AUDIT] },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('permission_not_grantable');
    expect(refused.body.detail).toContain(AUDIT);
    // What they hold, they may hand on to their client's members.
    const reader = await created(
      `/v1/clients/${a.clientId}/roles`,
      { name: 'Readers', permissions: [READ] },
      clientAdmin.token,
    );
    const member = await userWith(a, 'client_member');
    expect((await giveRoles(member.id, [reader.id], clientAdmin.token)).status).toBe(200);
    // The owner's audit role is not theirs to give, nor to take away.
    const auditor = await created(`/v1/clients/${a.clientId}/roles`, { name: 'Auditors', permissions: [AUDIT] });
    expect((await giveRoles(member.id, [reader.id, auditor.id], clientAdmin.token)).body.code).toBe(
      'permission_not_grantable',
    );
    expect((await giveRoles(member.id, [reader.id, auditor.id])).status).toBe(200);
    expect((await giveRoles(member.id, [reader.id], clientAdmin.token)).status).toBe(403);
  });

  it('belong to one client: never given to another client’s user, in the agency or elsewhere', async () => {
    const role = await created(`/v1/clients/${a.clientId}/roles`, { name: 'Client A only', permissions: [READ] });
    const clientB = await created('/v1/clients', { name: 'Quill client B' });
    const userB = await created('/v1/users', {
      email: `${randomUUID()}@example.com`,
      name: 'B',
      role: 'client_member',
      client_id: clientB.id,
    });
    const refused = await giveRoles(userB.id, [role.id]);
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('unknown_custom_role');
    expect(refused.body.errors).toEqual([
      { path: '/body/custom_role_ids/0', message: "is not a custom role of the user's client" },
    ]);
    // Another agency's owner cannot see the role, let alone give it.
    const foreignUser = await created(
      '/v1/users',
      { email: `${randomUUID()}@example.com`, name: 'F', role: 'client_member', client_id: b.clientId },
      b.token,
    );
    expect((await giveRoles(foreignUser.id, [role.id], b.token)).body.code).toBe('unknown_custom_role');
    expect(
      (await platform.request('GET', `/v1/clients/${a.clientId}/roles/${role.id}`, { token: b.token })).status,
    ).toBe(404);
    // The database refuses it too, whatever a handler does: user and role share one client column.
    const planted = platform.db.knex.transaction(async (tx) => {
      await enterTenant(tx, { agencyId: a.agencyId, clientId: null });
      await tx('user_client_roles').insert({
        agency_id: a.agencyId,
        client_id: clientB.id,
        user_id: userB.id,
        role_id: role.id,
      });
    });
    await expect(planted).rejects.toMatchObject({ code: '23503' });
  });

  it('are for client users only, and leave with the client', async () => {
    const role = await created(`/v1/clients/${a.clientId}/roles`, { name: 'Movers', permissions: [READ] });
    const agencyMember = await userWith(a, 'agency_member');
    const refused = await giveRoles(agencyMember.id, [role.id]);
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].path).toBe('/body/custom_role_ids');

    const member = await userWith(a, 'client_member');
    await giveRoles(member.id, [role.id]);
    const elsewhere = await created('/v1/clients', { name: 'Quill client C' });
    const moved = await platform.request('PATCH', `/v1/users/${member.id}`, {
      token: a.token,
      body: { client_id: elsewhere.id },
    });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ client_id: elsewhere.id, custom_role_ids: [] });
  });

  it('are listed per client, and a client’s users see only their own client’s', async () => {
    const list = await platform.request('GET', `/v1/clients/${a.clientId}/roles?limit=100`, { token: a.token });
    expect(list.status).toBe(200);
    expect(list.body.data.length).toBeGreaterThan(0);
    for (const role of list.body.data) expect(role.client_id).toBe(a.clientId);
    const otherClient = await created('/v1/clients', { name: 'Quill client D' });
    const member = await userWith(a, 'client_member');
    const hidden = await platform.request('GET', `/v1/clients/${otherClient.id}/roles`, { token: member.token });
    expect(hidden.status).toBe(404);
  });
});
