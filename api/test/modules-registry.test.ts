import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../src/db/startup-error.js';
import { appointOperator } from '../src/platform/operator.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { asVisitor, faqModule, publish, published, variant } from './support/modules.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

/** Publishing rules, naming and collisions, the operator's modules, dependencies and lifecycle hooks. */
let platform: TestPlatform;
let acme: PopulatedAgency;
let rival: PopulatedAgency;
let operator: PopulatedAgency;

beforeAll(async () => {
  platform = await startTestPlatform();
  acme = await populateAgency(platform, 'Acme');
  rival = await populateAgency(platform, 'Rival');
  operator = await populateAgency(platform, 'Operator');
  await appointOperator(platform.db.knex, operator.agencyId);
  const { v1, v2 } = await faqModule();
  await published(platform, acme.token, v1);
  await published(platform, acme.token, v2);
});
afterAll(() => platform?.close());

const encoded = (source: string) => Buffer.from(source).toString('base64');

describe('publishing refuses, naming the field', () => {
  const cases: [string, (body: Awaited<ReturnType<typeof faqModule>>['v1']) => void, number, string, string][] = [
    [
      'an unknown type',
      (b) => ((b.manifest as { type: string }).type = 'gadget'),
      400,
      'validation_failed',
      '/body/manifest/type',
    ],
    [
      'a version that is not semver',
      (b) => (b.manifest.version = '1.0'),
      400,
      'validation_failed',
      '/body/manifest/version',
    ],
    [
      'settings that are no JSON Schema',
      (b) => (b.manifest.elements![0]!.settings = { type: 'object', properties: { title: { type: 'text' } } }),
      422,
      'invalid_manifest',
      '/body/manifest/elements/0/settings',
    ],
    [
      'a collection schema that is no JSON Schema',
      (b) => (b.manifest.collections!.questions!.schema = { type: 'object', required: 'question' }),
      422,
      'invalid_manifest',
      '/body/manifest/collections/questions/schema',
    ],
    [
      'a bundle that is not an ES module',
      (b) => (b.files['acme-faq.js'] = encoded('module.exports = { faq: true };')),
      422,
      'invalid_manifest',
      '/body/files/acme-faq.js',
    ],
    [
      'a bundle file that is too large',
      (b) => (b.files['acme-faq.js'] = encoded(`export const padding = '${'x'.repeat(600 * 1024)}';`)),
      413,
      'bundle_too_large',
      '/body/files/acme-faq.js',
    ],
    [
      'a file that is not base64',
      (b) => (b.files['acme-faq.js'] = 'not base64!'),
      400,
      'validation_failed',
      '/body/files/acme-faq.js',
    ],
    [
      'a first-party id from a third party',
      (b) => ((b.manifest.id = 'faq'), (b.manifest.elements![0]!.tag = 'dm-faq'), (b.manifest.events = {})),
      422,
      'invalid_manifest',
      '/body/manifest/id',
    ],
    [
      'a vendor with a hyphen (its tag prefix would start another vendor’s)',
      (b) => (b.manifest.id = 'acme-x.widget'),
      400,
      'validation_failed',
      '/body/manifest/id',
    ],
    [
      'a version with build metadata',
      (b) => (b.manifest.version = '9.0.0+build.7'),
      400,
      'validation_failed',
      '/body/manifest/version',
    ],
    [
      'a collection name with a double underscore',
      (b) => (b.manifest.collections = { faq__site: b.manifest.collections!.questions! }),
      400,
      'validation_failed',
      '/body/manifest/collections',
    ],
    [
      'a pattern RE2 cannot run in linear time (a backreference)',
      (b) =>
        ((b.manifest.collections!.questions!.schema.properties as Record<string, object>).question = {
          type: 'string',
          pattern: '^(a+)\\1$',
        }),
      422,
      'invalid_manifest',
      '/body/manifest/collections/questions/schema',
    ],
    [
      'a tag without the vendor prefix',
      (b) => (b.manifest.elements![0]!.tag = 'faq-widget'),
      422,
      'invalid_manifest',
      '/body/manifest/elements/0/tag',
    ],
  ];
  it.each(cases)('%s', async (_, change, status, code, path) => {
    const { v1 } = await faqModule();
    const body = structuredClone(v1);
    body.manifest.version = '9.0.0';
    change(body);
    const reply = await publish(platform, acme.token, body);
    expect(reply.status, reply.text).toBe(status);
    expect(reply.body.code).toBe(code);
    expect(reply.body.errors.map((error: { path: string }) => error.path)).toContain(path);
    const versions = await platform.request('GET', '/v1/modules/acme.faq/versions', { token: acme.token });
    expect(versions.body.data.map((v: { version: string }) => v.version)).toEqual(['1.0.0', '2.0.0']);
  });
});

describe('naming: ids, tags and tables belong to one publisher', () => {
  it('refuses another agency a namespace that is taken', async () => {
    const { v1 } = await faqModule();
    const reply = await publish(
      platform,
      rival.token,
      variant(v1, (m) => ((m.id = 'acme.copy'), (m.events = {}))),
    );
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('namespace_taken');
    const mine = await publish(
      platform,
      rival.token,
      variant(v1, (m) => ((m.id = 'rival.faq'), (m.elements![0]!.tag = 'rival-faq'), (m.events = {}))),
    );
    expect(mine.status).toBe(201);
  });

  it('refuses a tag another module has registered', async () => {
    const { v1 } = await faqModule();
    const reply = await publish(
      platform,
      acme.token,
      variant(v1, (m) => ((m.id = 'acme.copy'), (m.events = {}))),
    );
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('tag_taken');
    expect(reply.body.errors).toEqual([
      { path: '/body/manifest/elements/0/tag', message: 'is registered to acme.faq' },
    ]);
  });

  it('refuses a module whose tables would land in a schema that exists already', async () => {
    await platform.db.knex.raw('CREATE SCHEMA mod_acme__clash');
    const { v1 } = await faqModule();
    const reply = await publish(
      platform,
      acme.token,
      variant(v1, (m) => ((m.id = 'acme.clash'), (m.elements![0]!.tag = 'acme-clash'), (m.events = {}))),
    );
    expect(reply.status).toBe(409);
    expect(reply.body.code).toBe('schema_taken');
  });

  it('keeps a module’s type across versions', async () => {
    const { v2 } = await faqModule();
    const reply = await publish(
      platform,
      acme.token,
      variant(v2, (m) => {
        m.version = '2.1.0';
        m.type = 'app';
        for (const collection of Object.values(m.collections!)) delete collection.public;
      }),
    );
    expect(reply.status).toBe(422);
    expect(reply.body.errors).toEqual([{ path: '/body/manifest/type', message: 'must stay "widget" across versions' }]);
  });
});

describe('the platform operator', () => {
  const systemModule = async () => {
    const { v1 } = await faqModule();
    return variant(v1, (m) => {
      m.id = 'audit';
      m.name = 'Audit trail';
      m.type = 'system';
      m.elements![0]!.tag = 'dm-audit';
      m.events = {};
      delete m.collections!.questions!.public;
    });
  };

  it('is named by OPERATOR_AGENCY_ID at start-up, and only that agency is', async () => {
    const flags = async () =>
      Object.fromEntries(
        (await platform.db.knex('agencies').select('id', 'operator')).map((row) => [row.id, row.operator]),
      );
    expect((await flags())[operator.agencyId]).toBe(true);
    await appointOperator(platform.db.knex, acme.agencyId);
    expect(await flags()).toMatchObject({ [acme.agencyId]: true, [operator.agencyId]: false });
    await appointOperator(platform.db.knex, operator.agencyId);
    await expect(appointOperator(platform.db.knex, '00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(
      StartupError,
    );
  });

  it('publishes and installs first-party system modules through the same API; others may do neither', async () => {
    const body = await systemModule();
    const refused = await publish(platform, acme.token, body);
    expect(refused.status).toBe(422);
    expect(refused.body.errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(['/body/manifest/id', '/body/manifest/type']),
    );
    const version = await published(platform, operator.token, body);
    expect(version.module_id).toBe('audit');
    const module = await platform.request('GET', '/v1/modules/audit', { token: acme.token });
    expect(module.body).toMatchObject({ first_party: true, type: 'system' });

    const foreign = await platform.request('POST', `/v1/sites/${acme.siteId}/installs`, {
      token: acme.token,
      body: { module_id: 'audit' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.code).toBe('operator_only');
    const own = await platform.request('POST', `/v1/sites/${operator.siteId}/installs`, {
      token: operator.token,
      body: { module_id: 'audit' },
    });
    expect(own.status).toBe(201);
  });
});

describe('API-only modules', () => {
  it('an integration has no element, and its collections serve back ends only', async () => {
    const { v1 } = await faqModule();
    const sync = variant(v1, (m) => {
      m.id = 'acme.sync';
      m.type = 'integration';
      m.events = {};
      delete m.elements;
      delete m.collections!.questions!.public;
    });
    await published(platform, acme.token, sync);
    const installed = await platform.request('POST', `/v1/sites/${acme.siteId}/installs`, {
      token: acme.token,
      body: { module_id: 'acme.sync' },
    });
    expect(installed.status).toBe(201);
    expect(installed.body.settings).toEqual({});
    const created = await platform.request('POST', `/v1/m/acme.sync/questions?site_id=${acme.siteId}`, {
      token: acme.secretKey,
      body: { question: 'Synced?', answer: 'From the CRM.' },
    });
    expect(created.status).toBe(201);
    const visitor = await asVisitor(platform, acme, 'GET', '/v1/m/acme.sync/questions');
    expect(visitor.status).toBe(403);
    expect(visitor.body.code).toBe('not_public');
    // The public site configuration is for what renders for visitors: an integration's settings stay private.
    const config = await asVisitor(platform, acme, 'GET', '/v1/public/site-config');
    expect(config.body.modules.map((module: { id: string }) => module.id)).not.toContain('acme.sync');
  });
});

describe('a first-party module’s tables', () => {
  const ledger = (version: string, migrations: string[]) => ({
    manifest: {
      id: 'ledger',
      name: 'Ledger',
      version,
      type: 'system' as const,
      description: 'Platform bookkeeping.',
      engines: { dramac: '^0.1.0' },
      database: { migrations },
    },
    files: { 'ledger.js': encoded('export const ledger = true;') },
  });

  it('come with the server: a version names the server migrations they come from, and no SQL travels', async () => {
    const published = await publish(platform, operator.token, ledger('1.0.0', ['0002_modules']));
    expect(published.status).toBe(201);
    const unknown = await publish(platform, operator.token, ledger('1.1.0', ['0002_modules', '0099_ledger']));
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([
      { path: '/body/manifest/database/migrations/1', message: '`0099_ledger` is not a migration of this server' },
    ]);
    const sql = await publish(platform, operator.token, {
      ...ledger('1.2.0', []),
      files: { 'ledger.js': encoded('export {};'), '001.sql': encoded('DROP TABLE agencies') },
    });
    expect(sql.status).toBe(422);
    expect(sql.body.errors.map((error: { path: string }) => error.path)).toEqual(['/body/files/001.sql']);
  });
});

describe('dependencies', () => {
  it('installs a module only beside what it depends on, and keeps what others depend on', async () => {
    const { v1 } = await faqModule();
    const addon = variant(v1, (m) => {
      m.id = 'acme.faq-search';
      m.elements![0]!.tag = 'acme-faq-search';
      m.events = {};
      m.dependencies = { 'acme.faq': '^2.0.0' };
    });
    await published(platform, acme.token, addon);
    const installs = `/v1/sites/${acme.siteId}/installs`;
    const token = acme.token;
    expect(
      (await platform.request('POST', installs, { token, body: { module_id: 'acme.faq', version: '1.0.0' } })).status,
    ).toBe(201);
    const missing = await platform.request('POST', installs, { token, body: { module_id: 'acme.faq-search' } });
    expect(missing.status).toBe(422);
    expect(missing.body.code).toBe('dependency_missing');
    expect(missing.body.detail).toContain('acme.faq ^2.0.0');
    expect((await platform.request('POST', `${installs}/acme.faq/upgrade`, { token })).status).toBe(200);
    expect((await platform.request('POST', installs, { token, body: { module_id: 'acme.faq-search' } })).status).toBe(
      201,
    );
    const kept = await platform.request('DELETE', `${installs}/acme.faq`, { token });
    expect(kept.status).toBe(409);
    expect(kept.body.code).toBe('required_by');
    expect((await platform.request('DELETE', `${installs}/acme.faq-search`, { token })).status).toBe(200);
    expect((await platform.request('DELETE', `${installs}/acme.faq`, { token })).status).toBe(200);
  });
});

describe('versions over time', () => {
  const base = async (id: string) => {
    const { v1 } = await faqModule();
    return variant(v1, (m) => {
      m.id = id;
      m.elements![0]!.tag = id.replace('.', '-');
      m.events = {};
    });
  };
  const installs = () => `/v1/sites/${rival.siteId}/installs`;
  const call = (method: string, path: string, body?: unknown) =>
    platform.request(method, path, { token: rival.token, body });

  it('keeps a module at a version its dependents accept', async () => {
    const core = await base('rival.core');
    await published(platform, rival.token, core);
    await published(
      platform,
      rival.token,
      variant(core, (m) => (m.version = '2.0.0')),
    );
    const plugin = variant(await base('rival.plugin'), (m) => (m.dependencies = { 'rival.core': '^1.0.0' }));
    await published(platform, rival.token, plugin);
    expect((await call('POST', installs(), { module_id: 'rival.core', version: '1.0.0' })).status).toBe(201);
    expect((await call('POST', installs(), { module_id: 'rival.plugin' })).status).toBe(201);
    const upgrade = await call('POST', `${installs()}/rival.core/upgrade`);
    expect(upgrade.status).toBe(409);
    expect(upgrade.body.code).toBe('required_by');
    expect(upgrade.body.detail).toContain('rival.plugin (rival.core ^1.0.0)');
  });

  it('drops the settings of an element a new version no longer has', async () => {
    const widget = await base('rival.cards');
    await published(platform, rival.token, widget);
    const renamed = variant(widget, (m) => {
      m.version = '2.0.0';
      m.elements![0]!.tag = 'rival-cards-grid';
    });
    await published(platform, rival.token, renamed);
    const body = { module_id: 'rival.cards', settings: { 'rival-cards': { title: 'Old' } }, version: '1.0.0' };
    expect((await call('POST', installs(), body)).status).toBe(201);
    const upgraded = await call('POST', `${installs()}/rival.cards/upgrade`);
    expect(upgraded.status).toBe(200);
    expect(Object.keys(upgraded.body.settings)).toEqual(['rival-cards-grid']);
  });

  it('takes a reinstall at an older version no further back than the data allows', async () => {
    const widget = await base('rival.notes');
    await published(platform, rival.token, widget);
    await published(
      platform,
      rival.token,
      variant(widget, (m) => ((m.version = '2.0.0'), (m.database = { rollback_floor: '2.0.0' }))),
    );
    expect((await call('POST', installs(), { module_id: 'rival.notes' })).status).toBe(201);
    expect((await call('DELETE', `${installs()}/rival.notes`)).status).toBe(200);
    const back = await call('POST', installs(), { module_id: 'rival.notes', version: '1.0.0' });
    expect(back.status).toBe(409);
    expect(back.body.code).toBe('rollback_refused');
  });

  it('does not make a prerelease the latest version', async () => {
    const widget = await base('rival.beta');
    await published(platform, rival.token, widget);
    await published(
      platform,
      rival.token,
      variant(widget, (m) => (m.version = '2.0.0-beta.1')),
    );
    const module = await call('GET', '/v1/modules/rival.beta');
    expect(module.body.latest_version).toBe('1.0.0');
  });
});

describe('settings and theme', () => {
  it('validates settings updates, and the site configuration follows them', async () => {
    const installs = `/v1/sites/${rival.siteId}/installs`;
    const token = rival.token;
    expect((await platform.request('POST', installs, { token, body: { module_id: 'rival.faq' } })).status).toBe(201);
    const before = await asVisitor(platform, rival, 'GET', '/v1/public/site-config');
    const invalid = await platform.request('PATCH', `${installs}/rival.faq`, {
      token,
      body: { settings: { 'rival-faq': { expand_first: 'yes' } } },
    });
    expect(invalid.status).toBe(422);
    expect(invalid.body.errors).toContainEqual(
      expect.objectContaining({ path: '/body/settings/rival-faq/expand_first' }),
    );
    const unknown = await platform.request('PATCH', `${installs}/rival.faq`, {
      token,
      body: { settings: { 'acme-faq': {} } },
    });
    expect(unknown.status).toBe(422);
    const valid = await platform.request('PATCH', `${installs}/rival.faq`, {
      token,
      body: { settings: { 'rival-faq': { expand_first: true } } },
    });
    expect(valid.status).toBe(200);
    expect(valid.body.settings['rival-faq']).toMatchObject({ expand_first: true, max_items: 20 });
    const after = await asVisitor(platform, rival, 'GET', '/v1/public/site-config');
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
    const faq = after.body.modules.find((module: { id: string }) => module.id === 'rival.faq');
    expect(faq.settings['rival-faq'].expand_first).toBe(true);
  });

  it('keeps a site theme of tokens and fonts, refusing what could break out of CSS', async () => {
    const path = `/v1/sites/${rival.siteId}/theme`;
    const token = rival.token;
    expect((await platform.request('GET', path, { token })).body).toEqual({ tokens: {} });
    const injected = await platform.request('PUT', path, {
      token,
      body: { tokens: { '--dm-color-primary': 'red; } body { display: none' } },
    });
    expect(injected.status).toBe(400);
    const badName = await platform.request('PUT', path, { token, body: { tokens: { color: 'red' } } });
    expect(badName.status).toBe(400);
    const theme = {
      tokens: { '--dm-color-primary': '#0b5fff', '--dm-radius': '8px' },
      fonts: [{ family: 'Inter', src: 'https://fonts.example/inter.woff2', weight: '400 700' }],
    };
    expect((await platform.request('PUT', path, { token, body: theme })).body).toEqual(theme);
    const config = await asVisitor(platform, rival, 'GET', '/v1/public/site-config');
    expect(config.body.theme).toEqual(theme);
  });
});

describe('lifecycle hooks', () => {
  let server: Server;
  let hookUrl: string;
  const received: { path: string; event: string; body: Record<string, unknown> }[] = [];
  let answer = 200;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.on('data', (chunk) => (text += chunk));
      req.on('end', () => {
        received.push({ path: req.url!, event: String(req.headers['dramac-event']), body: JSON.parse(text) });
        res.writeHead(req.url === '/pre' ? answer : 200, { 'content-type': 'text/plain' }).end('licence required');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { v1, v2 } = await faqModule();
    const hooked = (body: typeof v1) =>
      variant(body, (m) => {
        m.id = 'acme.hooked';
        m.elements![0]!.tag = 'acme-hooked';
        m.events = {};
        m.lifecycle = {
          pre_install: `${hookUrl}/pre`,
          post_install: `${hookUrl}/post`,
          pre_upgrade: `${hookUrl}/pre`,
          post_upgrade: `${hookUrl}/post`,
          uninstall: { hook: `${hookUrl}/uninstall`, retention_days: 7 },
        };
      });
    await published(platform, acme.token, hooked(v1));
    await published(platform, acme.token, hooked(v2));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const until = async (count: number) => {
    for (let i = 0; i < 100 && received.length < count; i += 1) await new Promise((r) => setTimeout(r, 20));
    expect(received).toHaveLength(count);
  };
  const installs = () => `/v1/sites/${acme.siteId}/installs`;

  it('lets the vendor veto an install, and tells it about the one it allowed', async () => {
    answer = 402;
    const body = { module_id: 'acme.hooked', version: '1.0.0' };
    const vetoed = await platform.request('POST', installs(), { token: acme.token, body });
    expect(vetoed.status).toBe(409);
    expect(vetoed.body.code).toBe('hook_vetoed');
    expect(vetoed.body.detail).toContain('it answered 402');
    expect(vetoed.body.detail).not.toContain('licence required');
    expect((await platform.request('GET', `${installs()}/acme.hooked`, { token: acme.token })).status).toBe(404);

    answer = 204;
    const installed = await platform.request('POST', installs(), { token: acme.token, body });
    expect(installed.status).toBe(201);
    await until(3);
    expect(received.map((r) => `${r.path} ${r.event}`)).toEqual([
      '/pre pre_install',
      '/pre pre_install',
      '/post post_install',
    ]);
    expect(received[2]!.body).toMatchObject({
      event: 'post_install',
      module_id: 'acme.hooked',
      site_id: acme.siteId,
      from_version: null,
      to_version: '1.0.0',
    });
  });

  it('lets the vendor veto an upgrade, leaving the old version', async () => {
    answer = 503;
    const vetoed = await platform.request('POST', `${installs()}/acme.hooked/upgrade`, { token: acme.token });
    expect(vetoed.status).toBe(409);
    expect((await platform.request('GET', `${installs()}/acme.hooked`, { token: acme.token })).body.version).toBe(
      '1.0.0',
    );
    answer = 200;
    expect((await platform.request('POST', `${installs()}/acme.hooked/upgrade`, { token: acme.token })).status).toBe(
      200,
    );
    await until(6);
    expect(received.slice(3).map((r) => `${r.event} ${r.body.from_version}→${r.body.to_version}`)).toEqual([
      'pre_upgrade 1.0.0→2.0.0',
      'pre_upgrade 1.0.0→2.0.0',
      'post_upgrade 1.0.0→2.0.0',
    ]);
  });

  it('tells the vendor about an uninstall, with the manifest’s retention period', async () => {
    const reply = await platform.request('DELETE', `${installs()}/acme.hooked`, { token: acme.token });
    expect(reply.status).toBe(200);
    expect(Math.round((Date.parse(reply.body.purge_after) - Date.now()) / 86_400_000)).toBe(7);
    await until(7);
    expect(received[6]).toMatchObject({ path: '/uninstall', event: 'uninstall' });
  });

  it('asks the vendor once about a retried request: the retry replays the first answer', async () => {
    answer = 200;
    const retry = () =>
      platform.request('POST', installs(), {
        token: acme.token,
        body: { module_id: 'acme.hooked', version: '2.0.0' },
        headers: { 'idempotency-key': 'reinstall-hooked' },
      });
    const first = await retry();
    expect(first.status).toBe(201);
    await until(9);
    answer = 402;
    const second = await retry();
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toHaveLength(9);
  });

  it('asks nothing of the vendor about a site the caller cannot see', async () => {
    answer = 200;
    const reply = await platform.request('POST', `/v1/sites/${acme.siteId}/installs`, {
      token: rival.token,
      body: { module_id: 'acme.hooked' },
    });
    expect(reply.status).toBe(404);
    await new Promise((r) => setTimeout(r, 100));
    expect(received).toHaveLength(9);
  });
});
