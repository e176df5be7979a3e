import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES } from '../src/platform/roles.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

let platform: TestPlatform;
let a: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await populateAgency(platform, 'Roles');
});
afterAll(() => platform?.close());

const PASSWORD = 'a long enough password';

/** Adds a user with `role` and signs them in. */
async function userWith(role: string, clientId?: string) {
  const email = `${randomUUID()}@example.com`;
  const reply = await platform.request('POST', '/v1/users', {
    token: a.token,
    body: { email, name: role, role, password: PASSWORD, ...(clientId ? { client_id: clientId } : {}) },
  });
  expect(reply.status, reply.text).toBe(201);
  return { id: reply.body.id as string, email, token: await platform.signIn(email, PASSWORD) };
}

describe('sessions', () => {
  it('refuse a wrong password and an unknown email alike', async () => {
    for (const email of [a.email, 'nobody@example.com']) {
      const reply = await platform.request('POST', '/v1/sessions', { body: { email, password: 'wrong password' } });
      expect(reply.status).toBe(401);
      expect(reply.body.code).toBe('invalid_credentials');
    }
  });

  it('end when signed out', async () => {
    const token = await platform.signIn(a.email, a.password);
    expect((await platform.request('DELETE', '/v1/sessions/current', { token })).status).toBe(204);
    expect((await platform.request('GET', '/v1/clients', { token })).status).toBe(401);
  });

  it('store passwords as scrypt hashes only', async () => {
    const row = await platform.db.knex('users').where({ email: a.email }).first();
    expect(row.password_hash).toMatch(/^scrypt\$/);
    expect(row.password_hash).not.toContain(a.password);
  });

  it('let a person with accounts in two agencies choose one, the oldest by default', async () => {
    const second = await platform.request('POST', '/v1/agencies', {
      body: { name: 'Second agency', owner: { email: a.email, name: 'Same person', password: a.password } },
    });
    expect(second.status).toBe(201);
    const secondId = second.body.agency.id;
    const chosen = await platform.request('POST', '/v1/sessions', {
      body: { email: a.email, password: a.password, agency_id: secondId },
    });
    expect(chosen.body.agency_id).toBe(secondId);
    const first = await platform.request('POST', '/v1/sessions', { body: { email: a.email, password: a.password } });
    expect(first.body.agency_id).toBe(a.agencyId);
    const list = await platform.request('GET', '/v1/agencies', { token: chosen.body.token });
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([secondId]);
  });

  it('keep the same email’s accounts in different agencies apart', async () => {
    // Another agency signs up with this email and another password: a separate account.
    const other = await platform.request('POST', '/v1/agencies', {
      body: { name: 'Elsewhere', owner: { email: a.email, name: 'Same email', password: 'another password' } },
    });
    expect(other.status).toBe(201);
    const elsewhere = other.body.agency.id;
    const mine = await platform.request('POST', '/v1/sessions', {
      body: { email: a.email, password: a.password, agency_id: elsewhere },
    });
    expect(mine.status).toBe(401);
    const crossed = await platform.request('POST', '/v1/sessions', {
      body: { email: a.email, password: 'another password', agency_id: a.agencyId },
    });
    expect(crossed.status).toBe(401);
  });

  it('give no agency a way into another through an account it created', async () => {
    // Agency X creates an account for someone's email with a password X chose …
    const x = await platform.signUp('X');
    const email = `${randomUUID()}@example.com`;
    await platform.request('POST', '/v1/users', {
      token: x.token,
      body: { email, name: 'Set by X', role: 'agency_member', password: 'chosen by agency X' },
    });
    // … then agency A gives the same email an admin account of its own.
    const inA = await platform.request('POST', '/v1/users', {
      token: a.token,
      body: { email, name: 'Set by A', role: 'agency_admin', password: 'chosen by agency A' },
    });
    expect(inA.status).toBe(201);
    expect(inA.body.name).toBe('Set by A');
    const hijack = await platform.request('POST', '/v1/sessions', {
      body: { email, password: 'chosen by agency X', agency_id: a.agencyId },
    });
    expect(hijack.status).toBe(401);
    // X renaming its own account changes nothing in A.
    const inX = (await platform.request('GET', '/v1/users?limit=100', { token: x.token })).body.data.find(
      (u: { email: string }) => u.email === email,
    );
    await platform.request('PATCH', `/v1/users/${inX.id}`, { token: x.token, body: { name: 'Renamed by X' } });
    expect((await platform.request('GET', `/v1/users/${inA.body.id}`, { token: a.token })).body.name).toBe('Set by A');
  });
});

describe('roles', () => {
  it('agency member: reads everything, manages sites, not clients or keys', async () => {
    const member = await userWith('agency_member');
    expect((await platform.request('GET', '/v1/clients', { token: member.token })).status).toBe(200);
    const client = await platform.request('POST', '/v1/clients', { token: member.token, body: { name: 'x' } });
    expect(client.status).toBe(403);
    expect(client.body.code).toBe('insufficient_scope');
    const site = await platform.request('POST', '/v1/sites', {
      token: member.token,
      body: { client_id: a.clientId, name: 's' },
    });
    expect(site.status).toBe(201);
    const key = await platform.request('POST', '/v1/keys', {
      token: member.token,
      body: { type: 'publishable', name: 'k', site_id: a.siteId },
    });
    expect(key.status).toBe(403);
  });

  it('client admin: sees and manages only their own client', async () => {
    const other = await platform.request('POST', '/v1/clients', { token: a.token, body: { name: 'Someone else' } });
    const admin = await userWith('client_admin', a.clientId);
    const clients = await platform.request('GET', '/v1/clients', { token: admin.token });
    expect(clients.body.data.map((c: { id: string }) => c.id)).toEqual([a.clientId]);
    expect((await platform.request('GET', `/v1/clients/${other.body.id}`, { token: admin.token })).status).toBe(404);

    const own = await platform.request('POST', '/v1/sites', {
      token: admin.token,
      body: { client_id: a.clientId, name: 'own' },
    });
    expect(own.status).toBe(201);
    const foreign = await platform.request('POST', '/v1/sites', {
      token: admin.token,
      body: { client_id: other.body.id, name: 'x' },
    });
    expect(foreign.status).toBe(404);

    const colleague = await platform.request('POST', '/v1/users', {
      token: admin.token,
      body: { email: `${randomUUID()}@example.com`, name: 'c', role: 'client_member', client_id: a.clientId },
    });
    expect(colleague.status).toBe(201);
    const promote = await platform.request('POST', '/v1/users', {
      token: admin.token,
      body: { email: `${randomUUID()}@example.com`, name: 'c', role: 'agency_admin' },
    });
    expect(promote.status).toBe(403);
    expect(promote.body.code).toBe('role_not_grantable');

    const users = await platform.request('GET', '/v1/users?limit=100', { token: admin.token });
    expect(users.body.data.every((u: { client_id: string }) => u.client_id === a.clientId)).toBe(true);

    const key = await platform.request('POST', '/v1/keys', {
      token: admin.token,
      body: { type: 'secret', name: 'k', scopes: ['sites:read'] },
    });
    expect(key.status).toBe(201);
    expect(key.body.client_id).toBe(a.clientId);
    const keySites = await platform.request('GET', '/v1/sites?limit=100', { token: key.body.secret });
    expect(keySites.body.data.every((s: { client_id: string }) => s.client_id === a.clientId)).toBe(true);
  });

  it('client member: reads, writes nothing', async () => {
    const member = await userWith('client_member', a.clientId);
    expect((await platform.request('GET', `/v1/sites/${a.siteId}`, { token: member.token })).status).toBe(200);
    expect(
      (await platform.request('PATCH', `/v1/sites/${a.siteId}`, { token: member.token, body: { name: 'x' } })).status,
    ).toBe(403);
  });

  it('agency admin: cannot make owners nor delete the agency', async () => {
    const admin = await userWith('agency_admin');
    const owner = await platform.request('POST', '/v1/users', {
      token: admin.token,
      body: { email: `${randomUUID()}@example.com`, name: 'o', role: 'agency_owner' },
    });
    expect(owner.status).toBe(403);
    const demote = await platform.request('PATCH', `/v1/users/${a.ownerId}`, {
      token: admin.token,
      body: { role: 'agency_member' },
    });
    expect(demote.status).toBe(403);
    expect((await platform.request('DELETE', `/v1/agencies/${a.agencyId}`, { token: admin.token })).status).toBe(403);
  });

  it('keeps the last owner, and ends removed users’ sessions', async () => {
    const demote = await platform.request('PATCH', `/v1/users/${a.ownerId}`, {
      token: a.token,
      body: { role: 'agency_admin' },
    });
    expect(demote.status).toBe(409);
    expect(demote.body.code).toBe('last_owner');
    expect((await platform.request('DELETE', `/v1/users/${a.ownerId}`, { token: a.token })).status).toBe(409);

    const leaving = await userWith('agency_member');
    expect((await platform.request('DELETE', `/v1/users/${leaving.id}`, { token: a.token })).status).toBe(204);
    expect((await platform.request('GET', '/v1/clients', { token: leaving.token })).status).toBe(401);
  });

  it('changes a role and the client it applies to', async () => {
    const user = await userWith('agency_member');
    const moved = await platform.request('PATCH', `/v1/users/${user.id}`, {
      token: a.token,
      body: { role: 'client_member', client_id: a.clientId, name: 'Moved' },
    });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ role: 'client_member', client_id: a.clientId, name: 'Moved' });
    const missing = await platform.request('PATCH', `/v1/users/${user.id}`, {
      token: a.token,
      body: { role: 'client_admin', client_id: null },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].path).toBe('/body/client_id');
  });

  it('keeps an owner when two owners are taken away at the same time', async () => {
    async function race(name: string) {
      const agency = await platform.signUp(name);
      const second = await platform.request('POST', '/v1/users', {
        token: agency.token,
        body: { email: `${randomUUID()}@example.com`, name: 'Second', role: 'agency_owner', password: PASSWORD },
      });
      // A key acts for both changes, so that neither takes the other's power away first.
      const key = await platform.request('POST', '/v1/keys', {
        token: agency.token,
        body: { type: 'secret', name: 'admin', scopes: ALL_SCOPES },
      });
      const token = key.body.secret;
      const [demote, remove] = await Promise.all([
        platform.request('PATCH', `/v1/users/${agency.userId}`, { token, body: { role: 'agency_admin' } }),
        platform.request('DELETE', `/v1/users/${second.body.id}`, { token }),
      ]);
      const owners = await platform.db.knex('users').where({ agency_id: agency.agencyId, role: 'agency_owner' });
      return { statuses: [demote.status, remove.status].sort(), owners: owners.length };
    }
    // Several at once, so that on PostgreSQL the two changes really overlap.
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => race(`Two owners ${i}`)));
    for (const result of results) {
      expect(result.owners).toBe(1);
      expect(result.statuses.filter((status) => status === 409)).toHaveLength(1);
    }
  });

  it('still signs in to the agency named, however many accounts others made for the email first', async () => {
    const email = `${randomUUID()}@example.com`;
    for (let i = 0; i < 3; i++) {
      await platform.request('POST', '/v1/agencies', {
        body: { name: `Squatter ${i}`, owner: { email, name: 'Squatter', password: 'the squatters password' } },
      });
    }
    await platform.request('POST', '/v1/users', {
      token: a.token,
      body: { email, name: 'Real person', role: 'agency_member', password: PASSWORD },
    });
    const named = await platform.request('POST', '/v1/sessions', {
      body: { email, password: PASSWORD, agency_id: a.agencyId },
    });
    expect(named.status).toBe(201);
    expect(named.body.user.name).toBe('Real person');
  });
});
