import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../../../api/src/http/operations.js';
import { appointOperator } from '../../../../api/src/platform/operator.js';
import { populateAgency, type PopulatedAgency } from '../../../../api/test/support/fixtures.js';
import { publish, published } from '../../../../api/test/support/modules.js';
import { startTestPlatform, type TestPlatform } from '../../../../api/test/support/platform.js';
import { buildTemplate } from '../../build.js';

// The system template as the platform operator uses it: only the operator may publish it and install it (on
// its own sites), and its staff keep the maintenance windows as their roles' module permissions allow.

let platform: TestPlatform;
let operator: PopulatedAgency;
let agency: PopulatedAgency;

const windows = (siteId: string) => `/v1/m/starter.maintenance/windows?site_id=${siteId}`;

beforeAll(async () => {
  platform = await startTestPlatform();
  operator = await populateAgency(platform, 'Operator');
  // What OPERATOR_AGENCY_ID does at start-up.
  await appointOperator(platform.db.knex, operator.agencyId);
  agency = await populateAgency(platform, 'Agency');
});
afterAll(() => platform?.close());

/** A user of the operator's agency with `role`, signed in. */
async function staff(role: Role): Promise<string> {
  const email = `${randomUUID()}@example.com`;
  const password = 'a long enough password';
  const user = await platform.request('POST', '/v1/users', {
    token: operator.token,
    body: { email, name: role, role, password },
  });
  expect(user.status, user.text).toBe(201);
  return platform.signIn(email, password);
}

describe('the system template (starter.maintenance)', () => {
  it('is refused to an agency, naming the type, and leaves nothing in the catalog', async () => {
    const refused = await publish(platform, agency.token, await buildTemplate('system'));
    expect(refused.status, refused.text).toBe(422);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.code).toBe('invalid_manifest');
    expect(refused.body.errors).toEqual([
      { path: '/body/manifest/type', message: expect.stringMatching(/only the platform operator may publish/) },
    ]);
    expect((await platform.request('GET', '/v1/modules/starter.maintenance', { token: agency.token })).status).toBe(
      404,
    );
  });

  it('is published by the operator, and installed on the operator’s sites only', async () => {
    const version = await published(platform, operator.token, await buildTemplate('system'));
    expect(version).toMatchObject({ module_id: 'starter.maintenance', version: '0.1.0' });
    const foreign = await platform.request('POST', `/v1/sites/${agency.siteId}/installs`, {
      token: agency.token,
      body: { module_id: 'starter.maintenance' },
    });
    expect(foreign.status, foreign.text).toBe(403);
    expect(foreign.headers.get('content-type')).toContain('application/problem+json');
    expect(foreign.body.code).toBe('operator_only');
    const own = await platform.request('POST', `/v1/sites/${operator.siteId}/installs`, {
      token: operator.token,
      body: { module_id: 'starter.maintenance' },
    });
    expect(own.status, own.text).toBe(201);
    expect(own.body.settings['starter-maintenance']).toEqual({ title: 'Planned maintenance' });
  });

  it('keeps the windows its admins plan, which members see soonest first and may not change', async () => {
    const admin = await staff('agency_admin');
    const plan = (body: unknown, token = admin) => platform.request('POST', windows(operator.siteId), { token, body });
    const later = { title: 'New mail provider', starts_at: '2027-03-09T06:00:00Z', ends_at: '2027-03-09T06:30:00Z' };
    const sooner = { title: 'Database upgrade', starts_at: '2027-03-02T22:00:00Z', ends_at: '2027-03-02T23:00:00Z' };
    expect((await plan(later)).status).toBe(201);
    expect((await plan(sooner)).status).toBe(201);
    const local = await plan({ ...sooner, starts_at: '2027-03-02T23:00:00+01:00' });
    expect(local.status).toBe(422);
    expect(local.body.errors[0].path).toBe('/body/starts_at');

    // What the element asks for, as it asks.
    const member = await staff('agency_member');
    const seen = await platform.request('GET', `${windows(operator.siteId)}&sort=starts_at&limit=100`, {
      token: member,
    });
    expect(seen.status, seen.text).toBe(200);
    expect(seen.body.data.map((window: { title: string }) => window.title)).toEqual([
      'Database upgrade',
      'New mail provider',
    ]);
    const refused = await plan(sooner, member);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('insufficient_permission');
    expect(refused.body.detail).toContain('starter.maintenance.windows.write');
    // Another agency's credentials do not reach the operator's site.
    expect((await platform.request('GET', windows(operator.siteId), { token: agency.token })).status).toBe(404);
  });
});
