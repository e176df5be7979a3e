import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { publish, published } from './support/modules.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

/*
 * An integration module's round trip: the platform calls the vendor's back end, signed; the vendor verifies
 * the call and calls the platform back with the OAuth client its install was given.
 */

let platform: TestPlatform;
let a: PopulatedAgency;
let vendor: http.Server;
let vendorUrl: string;

interface Credentials {
  client_id: string;
  client_secret: string;
  signing_secret: string;
  scopes: string[];
}
/** What the vendor knows: the credentials the agency handed it at install. */
let credentials: Credentials | undefined;
/** Whether each call the vendor received carried a valid signature. */
const verified: boolean[] = [];

/** Asks for a token with an install's vendor credentials (by default, those of the install under test). */
async function vendorToken(scope: string, vendor = credentials!): Promise<Response> {
  return fetch(`${platform.url}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${vendor.client_id}:${vendor.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
}

/** The vendor's back end: verifies each call, then reads the calling site back from the platform. */
function handleVendorCall(req: http.IncomingMessage, res: http.ServerResponse, raw: string) {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  let call: { site_id: string; path: string; data: { fail?: boolean } };
  try {
    call = new Webhook(credentials!.signing_secret).verify(raw, req.headers as Record<string, string>) as typeof call;
    verified.push(true);
  } catch {
    verified.push(false);
    return reply(401, { error: 'bad signature' });
  }
  if (call.data?.fail) return reply(500, { error: 'the vendor is having a bad day' });
  void (async () => {
    const token = (await (await vendorToken('sites:read')).json()) as { access_token: string };
    const site = await platform.request('GET', `/v1/sites/${call.site_id}`, { token: token.access_token });
    reply(200, { path: call.path, site_name: site.body.name, data: call.data });
  })();
}

const integration = (overrides: Record<string, unknown> = {}) => ({
  manifest: {
    id: 'acme.quotes',
    name: 'Acme Quotes',
    version: '1.0.0',
    type: 'integration',
    description: "Quotes from Acme's back end.",
    engines: { dramac: '^0.1.0' },
    integration: { base_url: `${vendorUrl}/dramac` },
    permissions: { required: ['sites:read'] },
    ...overrides,
  },
  files: { 'index.js': Buffer.from('export {};\n').toString('base64') },
});

beforeAll(async () => {
  platform = await startTestPlatform({ reachable: true });
  a = await populateAgency(platform, 'Integrations');
  vendor = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => handleVendorCall(req, res, raw));
  });
  await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
  vendorUrl = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;
  await published(platform, a.token, integration() as never);
});
afterAll(async () => {
  vendor?.close();
  await platform?.close();
});

const call = (body: unknown, token = a.token, siteId = a.siteId) =>
  platform.request('POST', `/v1/sites/${siteId}/installs/acme.quotes/calls`, { token, body });

describe('integration modules', () => {
  it('refuses a vendor back end on other types, and scopes a client-limited credential may not carry', async () => {
    const onWidget = await publish(platform, a.token, integration({ id: 'acme.notint', type: 'app' }) as never);
    expect(onWidget.status).toBe(422);
    expect(onWidget.body.errors.map((e: { path: string }) => e.path)).toContain('/body/manifest/integration');
    const wide = await publish(
      platform,
      a.token,
      integration({ id: 'acme.wide', permissions: { required: ['agency:delete'] } }) as never,
    );
    expect(wide.status).toBe(422);
    expect(wide.body.errors[0].path).toBe('/body/manifest/permissions/required/0');
    // Nothing that makes credentials: they would outlive the install.
    for (const scope of ['keys:write', 'users:write', 'webhooks:write']) {
      const minting = await publish(
        platform,
        a.token,
        integration({ id: 'acme.minting', permissions: { required: ['sites:read', scope] } }) as never,
      );
      expect(minting.status, scope).toBe(422);
      expect(minting.body.errors[0].path).toBe('/body/manifest/permissions/required/1');
    }
  });

  it('hands the installer the vendor’s credentials once, and only then', async () => {
    const install = await platform.request('POST', `/v1/sites/${a.siteId}/installs`, {
      token: a.token,
      body: { module_id: 'acme.quotes' },
    });
    expect(install.status, install.text).toBe(201);
    credentials = install.body.integration_credentials;
    expect(credentials).toMatchObject({ scopes: ['sites:read'] });
    expect(credentials!.client_secret).toMatch(/^ocs_/);
    expect(credentials!.signing_secret).toMatch(/^whsec_/);
    const read = await platform.request('GET', `/v1/sites/${a.siteId}/installs/acme.quotes`, { token: a.token });
    expect(read.body.integration_credentials).toBeUndefined();
  });

  it('calls the vendor signed, and the vendor calls back with its token', async () => {
    const reply = await call({ path: '/quotes?currency=EUR', data: { items: 3 } });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body).toMatchObject({
      status: 200,
      content_type: 'application/json',
      body: { path: '/quotes?currency=EUR', data: { items: 3 } },
    });
    expect(reply.body.body.site_name).toEqual(expect.any(String));
    expect(verified.at(-1)).toBe(true);
  });

  it("limits the vendor's token to the site's client and the module's scopes", async () => {
    const token = ((await (await vendorToken('sites:read')).json()) as { access_token: string }).access_token;
    const otherClient = await platform.request('POST', '/v1/clients', { token: a.token, body: { name: 'Other' } });
    const otherSite = await platform.request('POST', '/v1/sites', {
      token: a.token,
      body: { client_id: otherClient.body.id, name: 'Other site' },
    });
    expect(otherSite.status, otherSite.text).toBe(201);
    expect((await platform.request('GET', `/v1/sites/${otherSite.body.id}`, { token })).status).toBe(404);
    expect((await platform.request('GET', `/v1/sites/${a.siteId}`, { token })).status).toBe(200);
    expect((await platform.request('GET', '/v1/users', { token })).status).toBe(403);
    const wider = await vendorToken('collections:write');
    expect(wider.status).toBe(400);
  });

  it("passes the vendor's failures on as they are, and says when it cannot be reached", async () => {
    const failed = await call({ path: '/quotes', data: { fail: true } });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ status: 500, body: { error: 'the vendor is having a bad day' } });

    for (const path of ['/../admin', '/%2e%2e/admin', '/.%2E/admin', '/..\\admin']) {
      const climbing = await call({ path });
      expect(climbing.status, path).toBe(400);
      expect(climbing.body.errors[0].path).toBe('/body/path');
    }
  });

  it('is for the site’s own agency only, and for integrations only', async () => {
    const other = await populateAgency(platform, 'Stranger');
    expect((await call({ path: '/quotes' }, other.token)).status).toBe(404);
    const faqLike = await platform.request('POST', `/v1/sites/${a.siteId}/installs/acme.nothing/calls`, {
      token: a.token,
      body: { path: '/x' },
    });
    expect(faqLike.status).toBe(404);
  });

  it('ends the vendor’s access when the module is uninstalled', async () => {
    const before = await vendorToken('sites:read');
    const { access_token } = (await before.json()) as { access_token: string };
    const removed = await platform.request('DELETE', `/v1/sites/${a.siteId}/installs/acme.quotes`, { token: a.token });
    expect(removed.status, removed.text).toBe(200);
    expect((await platform.request('GET', `/v1/sites/${a.siteId}`, { token: access_token })).status).toBe(401);
    expect((await vendorToken('sites:read')).status).toBe(401);
    const after = await call({ path: '/quotes' });
    expect(after.status).toBe(409);
    expect(after.body.code).toBe('not_installed');
    expect(await platform.db.knex('integrations').where({ oauth_client_id: credentials!.client_id })).toEqual([]);
  });

  it('shows the secrets once: a replayed install has none', async () => {
    await published(platform, a.token, integration({ id: 'acme.replayed' }) as never);
    const install = () =>
      platform.request('POST', `/v1/sites/${a.siteId}/installs`, {
        token: a.token,
        body: { module_id: 'acme.replayed' },
        headers: { 'idempotency-key': 'install-acme-replayed' },
      });
    const first = await install();
    expect(first.body.integration_credentials.client_secret).toMatch(/^ocs_/);
    const replay = await install();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.integration_credentials).toMatchObject({ client_secret: null, signing_secret: null });
    const stored = await platform.db.knex('idempotency_keys').where({ key: 'install-acme-replayed' }).first('body');
    expect(JSON.stringify(stored)).not.toContain(first.body.integration_credentials.client_secret);
    expect(JSON.stringify(stored)).not.toContain(first.body.integration_credentials.signing_secret);
  });

  it("ends the vendor's access when the site goes", async () => {
    const site = await platform.request('POST', '/v1/sites', {
      token: a.token,
      body: { client_id: a.clientId, name: 'Short-lived' },
    });
    await published(platform, a.token, integration({ id: 'acme.gone' }) as never);
    const install = await platform.request('POST', `/v1/sites/${site.body.id}/installs`, {
      token: a.token,
      body: { module_id: 'acme.gone' },
    });
    const tokenFor = () => vendorToken('sites:read', install.body.integration_credentials);
    expect((await tokenFor()).status).toBe(200);
    expect((await platform.request('DELETE', `/v1/sites/${site.body.id}`, { token: a.token })).status).toBe(204);
    expect((await tokenFor()).status).toBe(401);
  });

  it('cannot reach a vendor that is down', async () => {
    const down = http.createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise((resolve) => down.close(resolve));
    await published(
      platform,
      a.token,
      integration({ id: 'acme.down', integration: { base_url: `http://127.0.0.1:${port}` } }) as never,
    );
    const install = await platform.request('POST', `/v1/sites/${a.siteId}/installs`, {
      token: a.token,
      body: { module_id: 'acme.down' },
    });
    expect(install.status).toBe(201);
    const reply = await platform.request('POST', `/v1/sites/${a.siteId}/installs/acme.down/calls`, {
      token: a.token,
      body: { path: '/x' },
    });
    expect(reply.status).toBe(502);
    expect(reply.body.code).toBe('integration_unreachable');
  });
});
