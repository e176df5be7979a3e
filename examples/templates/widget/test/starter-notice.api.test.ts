import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateAgency, type PopulatedAgency } from '../../../../api/test/support/fixtures.js';
import { asVisitor, published } from '../../../../api/test/support/modules.js';
import { startTestPlatform, type TestPlatform } from '../../../../api/test/support/platform.js';
import { buildTemplate } from '../../build.js';

// The widget template as an agency uses it: published, installed on a site, its notices kept through the
// generated collection API, and read by the site's visitors with the publishable key.

let platform: TestPlatform;
let a: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await populateAgency(platform, 'Notices');
  await published(platform, a.token, await buildTemplate('widget'));
});
afterAll(() => platform?.close());

describe('the widget template (starter.notice)', () => {
  it('installs with its settings validated against its schema', async () => {
    const path = `/v1/sites/${a.siteId}/installs`;
    const refused = await platform.request('POST', path, {
      token: a.token,
      body: { module_id: 'starter.notice', settings: { 'starter-notice': { tone: 'loud' } } },
    });
    expect(refused.status, refused.text).toBe(422);
    expect(refused.body.errors[0].path).toBe('/body/settings/starter-notice/tone');
    const install = await platform.request('POST', path, {
      token: a.token,
      body: { module_id: 'starter.notice', settings: { 'starter-notice': { tone: 'warning' } } },
    });
    expect(install.status, install.text).toBe(201);
    expect(install.body.settings['starter-notice']).toEqual({ tone: 'warning', dismissible: true });
  });

  it('shows visitors the message of active notices only, newest first', async () => {
    const add = (body: unknown) =>
      platform.request('POST', `/v1/m/starter.notice/notices?site_id=${a.siteId}`, { token: a.secretKey, body });
    expect((await add({ message: 'Open late on Friday.' })).status).toBe(201);
    expect((await add({ message: 'A draft nobody sees.', active: false })).status).toBe(201);
    expect((await add({ message: 'Closed on Monday.' })).status).toBe(201);
    expect((await add({ message: '' })).status).toBe(422);

    // What the element asks for, as it asks.
    const seen = await asVisitor(platform, a, 'GET', '/v1/m/starter.notice/notices?sort=-created_at&limit=1');
    expect(seen.status, seen.text).toBe(200);
    expect(seen.body.data.map((notice: { message: string }) => notice.message)).toEqual(['Closed on Monday.']);
    expect(Object.keys(seen.body.data[0])).not.toContain('active');
    const all = await asVisitor(platform, a, 'GET', '/v1/m/starter.notice/notices?limit=10');
    expect(all.body.data).toHaveLength(2);
    expect((await asVisitor(platform, a, 'POST', '/v1/m/starter.notice/notices', { message: 'x' })).status).toBe(403);
  });
});
