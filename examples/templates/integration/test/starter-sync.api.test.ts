import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSigningSecret, signatureHeader } from '../../../../api/src/webhooks/signing.js';
import { populateAgency, type PopulatedAgency } from '../../../../api/test/support/fixtures.js';
import { published, variant } from '../../../../api/test/support/modules.js';
import { startTestPlatform, type TestPlatform } from '../../../../api/test/support/platform.js';
import { buildTemplate } from '../../build.js';
import { BASE_PATH, platformToken, startVendor, type Credentials, type Product, type Vendor } from '../src/vendor.js';

// The integration template as an agency and its vendor use it: published with the vendor's URL, installed on a
// site, its credentials handed to the vendor's back end (started here), and a sync called through the platform.

let platform: TestPlatform;
let a: PopulatedAgency;
let vendor: Vendor;
let installId: string;
let credentials: Credentials;
const products: Product[] = [
  { sku: 'TEA-001', name: 'Green tea' },
  { sku: 'TEA-002', name: 'Black tea' },
];

beforeAll(async () => {
  // Reachable: the vendor's token is issued for the platform's PUBLIC_URL.
  platform = await startTestPlatform({ reachable: true });
  a = await populateAgency(platform, 'Sync');
  vendor = await startVendor({ platformUrl: platform.url, products });
  // The manifest names the vendor's production URL; here it runs on this machine (tests allow http).
  const body = variant(await buildTemplate('integration'), (manifest) => {
    manifest.integration = { base_url: `${vendor.url}${BASE_PATH}` };
  });
  await published(platform, a.token, body);
});
afterAll(async () => {
  await vendor?.close();
  await platform?.close();
});

const sync = () =>
  platform.request('POST', `/v1/sites/${a.siteId}/installs/starter.sync/calls`, {
    token: a.token,
    body: { path: '/sync' },
  });
const listed = async () => {
  const reply = await platform.request('GET', `/v1/m/starter.sync/products?site_id=${a.siteId}&sort=sku`, {
    token: a.token,
  });
  return reply.body.data.map(({ sku, name }: Product) => ({ sku, name }));
};

describe('the integration template (starter.sync)', () => {
  it('hands the installer the vendor’s credentials, with the scopes the manifest requires', async () => {
    const install = await platform.request('POST', `/v1/sites/${a.siteId}/installs`, {
      token: a.token,
      body: { module_id: 'starter.sync' },
    });
    expect(install.status, install.text).toBe(201);
    expect(install.body.integration_credentials.scopes).toEqual(['collections:read', 'collections:write']);
    installId = install.body.id;
    credentials = install.body.integration_credentials;
    vendor.connect(installId, credentials);
  });

  it('calls the vendor, which verifies the call and copies its products into the site with its token', async () => {
    const first = await sync();
    expect(first.status, first.text).toBe(200);
    expect(first.body).toEqual({
      status: 200,
      content_type: 'application/json',
      body: { created: 2, updated: 0, unchanged: 0 },
    });
    expect(await listed()).toEqual(products);

    // The vendor reads back what the site has: a second sync changes only what changed.
    products[1]!.name = 'Breakfast tea';
    products.push({ sku: 'TEA-003', name: 'Oolong' });
    const second = await sync();
    expect(second.body.body).toEqual({ created: 1, updated: 1, unchanged: 1 });
    expect(await listed()).toEqual(products);
  });

  it('refuses, at the vendor, a call that is not signed with the install’s secret or is too old', async () => {
    const body = JSON.stringify({ site_id: a.siteId, install_id: installId, module_id: 'starter.sync', path: '/sync' });
    const post = (secret: string, timestamp = Math.floor(Date.now() / 1000)) =>
      fetch(`${vendor.url}${BASE_PATH}/sync`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'webhook-id': 'msg_test',
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureHeader([secret], 'msg_test', timestamp, body),
        },
        body,
      });
    const forged = await post(newSigningSecret());
    expect(forged.status).toBe(401);
    expect(forged.headers.get('content-type')).toBe('application/problem+json');
    expect(((await forged.json()) as { detail: string }).detail).toMatch(/not signed/);
    expect((await post(credentials.signing_secret, Math.floor(Date.now() / 1000) - 600)).status).toBe(401);
    // Through the platform, the vendor's refusal comes back as the vendor's answer.
    const unknown = await platform.request('POST', `/v1/sites/${a.siteId}/installs/starter.sync/calls`, {
      token: a.token,
      body: { path: '/export' },
    });
    expect(unknown.body).toMatchObject({ status: 404, content_type: 'application/problem+json' });
  });

  it('refuses, at the platform, the vendor anything beyond the manifest’s scopes', async () => {
    await expect(platformToken(platform.url, credentials, 'users:read')).rejects.toThrow(/invalid_scope/);
    const token = await platformToken(platform.url, credentials, 'collections:read');
    const users = await platform.request('GET', '/v1/users', { token });
    expect(users.status).toBe(403);
    expect(users.headers.get('content-type')).toContain('application/problem+json');
    const write = await platform.request('POST', `/v1/m/starter.sync/products?site_id=${a.siteId}`, {
      token,
      body: { sku: 'X', name: 'Not with a read-only token' },
    });
    expect(write.status).toBe(403);
  });

  it('ends the vendor’s access when the module is uninstalled', async () => {
    const removed = await platform.request('DELETE', `/v1/sites/${a.siteId}/installs/starter.sync`, {
      token: a.token,
    });
    expect(removed.status, removed.text).toBe(200);
    await expect(platformToken(platform.url, credentials, 'collections:read')).rejects.toThrow(/invalid_client/);
    expect((await sync()).body.code).toBe('not_installed');
  });
});
