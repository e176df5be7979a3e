import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../../api/src/http/operations.js';
import { populateAgency, type PopulatedAgency } from '../../../../api/test/support/fixtures.js';
import { published } from '../../../../api/test/support/modules.js';
import { startTestPlatform, type Reply, type TestPlatform } from '../../../../api/test/support/platform.js';
import { buildTemplate } from '../../build.js';

// The app template as an agency uses it: published, installed on a site, and its tasks kept by signed-in users
// as far as their roles' module permissions go (`starter.tasks.tasks.read` / `.write`).

let platform: TestPlatform;
let a: PopulatedAgency;

const WRITE = 'starter.tasks.tasks.write';
const PASSWORD = 'a long enough password';

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await populateAgency(platform, 'Tasks');
  await published(platform, a.token, await buildTemplate('app'));
});
afterAll(() => platform?.close());

/** A user with `role` (of the agency's client for client roles), signed in: the token the host app hands over. */
async function signedIn(role: Role): Promise<string> {
  const email = `${randomUUID()}@example.com`;
  const client = role.startsWith('client_') ? { client_id: a.clientId } : {};
  const user = await platform.request('POST', '/v1/users', {
    token: a.token,
    body: { email, name: role, role, password: PASSWORD, ...client },
  });
  expect(user.status, user.text).toBe(201);
  return platform.signIn(email, PASSWORD);
}

// What the element asks for, as it asks.
const list = (token: string) =>
  platform.request('GET', `/v1/m/starter.tasks/tasks?site_id=${a.siteId}&sort=created_at&limit=100`, { token });
const add = (token: string, title: string) =>
  platform.request('POST', `/v1/m/starter.tasks/tasks?site_id=${a.siteId}`, { token, body: { title } });
const tick = (token: string, id: string) =>
  platform.request('PATCH', `/v1/m/starter.tasks/tasks/${id}`, { token, body: { done: true } });

function expectRefused(reply: Reply, permission: string) {
  expect(reply.status, reply.text).toBe(403);
  expect(reply.headers.get('content-type')).toContain('application/problem+json');
  expect(reply.body.code).toBe('insufficient_permission');
  expect(reply.body.detail).toContain(permission);
}

describe('the app template (starter.tasks)', () => {
  it('installs with its settings validated against its schema', async () => {
    const path = `/v1/sites/${a.siteId}/installs`;
    const refused = await platform.request('POST', path, {
      token: a.token,
      body: { module_id: 'starter.tasks', settings: { 'starter-tasks': { title: 'x'.repeat(81) } } },
    });
    expect(refused.status, refused.text).toBe(422);
    expect(refused.body.errors[0].path).toBe('/body/settings/starter-tasks/title');
    const install = await platform.request('POST', path, { token: a.token, body: { module_id: 'starter.tasks' } });
    expect(install.status, install.text).toBe(201);
    expect(install.body.settings['starter-tasks']).toEqual({ title: 'Tasks' });
  });

  it('lets a client admin add tasks and tick them off', async () => {
    const admin = await signedIn('client_admin');
    const added = await add(admin, 'Book the window cleaner');
    expect(added.status, added.text).toBe(201);
    expect(added.body).toMatchObject({ title: 'Book the window cleaner', done: false });
    expect((await tick(admin, added.body.id)).body.done).toBe(true);
    expect((await add(admin, '')).status).toBe(422);
    const seen = await list(admin);
    expect(seen.body.data.map(({ title, done }: { title: string; done: boolean }) => ({ title, done }))).toEqual([
      { title: 'Book the window cleaner', done: true },
    ]);
  });

  it('lets an agency member read them but not change them: the manifest gives writing to admins', async () => {
    const member = await signedIn('agency_member');
    const seen = await list(member);
    expect(seen.status, seen.text).toBe(200);
    expect(seen.body.data).toHaveLength(1);
    // The member holds `collections:write`, but not the module's permission.
    expectRefused(await add(member, 'Not mine to add'), WRITE);
    expectRefused(await tick(member, seen.body.data[0].id), WRITE);
    const admin = await signedIn('agency_admin');
    expect((await add(admin, 'Water the plants')).status).toBe(201);
    expect((await list(member)).body.data).toHaveLength(2);
  });

  it('lets a client member read them, whose role writes no collection at all', async () => {
    const member = await signedIn('client_member');
    expect((await list(member)).body.data).toHaveLength(2);
    const refused = await add(member, 'Not mine either');
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('insufficient_scope');
  });
});
