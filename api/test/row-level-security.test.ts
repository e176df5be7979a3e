import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE } from '../src/db/migrations/sql.js';
import { enterTenant, NO_TENANT, type Tenant } from '../src/db/tenant.js';
import { bookingModule, populateBooking } from './support/booking.js';
import { crmModule, populateCrm } from './support/crm.js';
import { populateAgency, populateCustomRole, type PopulatedAgency } from './support/fixtures.js';
import { populateSso, startIdentityProvider, type IdentityProvider } from './support/idp.js';
import { populateModule, publishFirstParty, published } from './support/modules.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { populateWebhook } from './support/webhooks.js';

let platform: TestPlatform;
let a: PopulatedAgency;
let b: PopulatedAgency;
let idp: IdentityProvider;

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await populateAgency(platform, 'Alpha');
  b = await populateAgency(platform, 'Bravo');
  // In each agency: a module with a record, a webhook, a custom role, an OAuth client, and an integration
  // installed (with its vendor's OAuth client and signing secret).
  for (const [agency, namespace] of [
    [a, 'alpha'],
    [b, 'bravo'],
  ] as const) {
    const { moduleId } = await populateModule(platform, agency, namespace);
    await populateWebhook(platform, agency, moduleId);
    await populateCustomRole(platform, agency, `${moduleId}.questions.read`);
    const oauthClient = await platform.request('POST', '/v1/oauth-clients', {
      token: agency.token,
      body: { type: 'service', name: 'sync', scopes: ['clients:read'] },
    });
    expect(oauthClient.status).toBe(201);
    await published(platform, agency.token, {
      manifest: {
        id: `${namespace}.sync`,
        name: 'Sync',
        version: '1.0.0',
        type: 'integration',
        description: 'Syncs.',
        engines: { dramac: '^0.1.0' },
        integration: { base_url: 'https://vendor.example/dramac' },
      },
      files: { 'index.js': Buffer.from('export {};\n').toString('base64') },
    });
    const install = await platform.request('POST', `/v1/sites/${agency.siteId}/installs`, {
      token: agency.token,
      body: { module_id: `${namespace}.sync` },
    });
    expect(install.status).toBe(201);
  }
  // The booking module on both agencies' sites: a person with an override, a service, a booking and its emails.
  await publishFirstParty(platform, [bookingModule(), crmModule()]);
  for (const agency of [a, b]) await populateBooking(platform, agency);
  // The CRM on both: a row in each of its tables.
  for (const agency of [a, b]) await populateCrm(platform, agency);
  idp = await startIdentityProvider({ clients: [] });
  await populateSso(platform, a, idp);
  await populateSso(platform, b, idp);
});

/** The module registry is one catalog for all agencies: readable without a tenant, by design. */
const CATALOG = ['bundle_files', 'module_namespaces', 'module_tags', 'module_versions', 'modules'];
/**
 * The authorization server's store and keys, and the modules' inbox (its worker's): the server's alone, out of
 * requests' reach in any tenant.
 */
const SERVER_ONLY = ['module_inbox', 'oauth_keys', 'oauth_store'];
afterAll(async () => {
  await idp?.close();
  await platform?.close();
});

/**
 * Every table of ours (knex's own bookkeeping aside), modules' collection tables included: a new table is
 * checked the day it is added.
 */
async function ourTables(): Promise<string[]> {
  const { rows } = await platform.db.knex.raw(
    `SELECT CASE WHEN schemaname = 'public' THEN tablename ELSE schemaname || '.' || tablename END AS name
       FROM pg_tables
      WHERE (schemaname = 'public' AND tablename NOT LIKE 'knex\\_%') OR schemaname LIKE 'mod\\_%'
      ORDER BY 1`,
  );
  return rows.map((row: { name: string }) => row.name);
}

/** Runs `fn` as the application role in `tenant`, then rolls back whatever it did. */
async function asTenant<T>(tenant: Tenant, fn: (tx: import('knex').Knex.Transaction) => Promise<T>): Promise<T> {
  let result: T;
  await platform.db.knex
    .transaction(async (tx) => {
      await enterTenant(tx, tenant);
      result = await fn(tx);
      throw new Error('rollback');
    })
    .catch((error: Error) => {
      if (error.message !== 'rollback') throw error;
    });
  return result!;
}

describe('row-level security', () => {
  it('guards every table, forced even for the table owner', async () => {
    const tables = await ourTables();
    expect(tables).toContain('mod_bravo__faq.questions');
    const { rows } = await platform.db.knex.raw(
      `SELECT oid::regclass::text AS relname, relrowsecurity, relforcerowsecurity FROM pg_class
        WHERE oid = ANY(?::regclass[])`,
      [tables],
    );
    expect(rows).toHaveLength(tables.length);
    for (const row of rows) {
      expect(row, row.relname).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
    }
  });

  it('runs requests as a role that is no superuser and cannot bypass row-level security', async () => {
    const { rows } = await platform.db.knex.raw('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ?', [
      APP_ROLE,
    ]);
    expect(rows).toEqual([{ rolsuper: false, rolbypassrls: false }]);
    const current = await asTenant(NO_TENANT, async (tx) => (await tx.raw('SELECT current_user AS name')).rows[0].name);
    expect(current).toBe(APP_ROLE);
  });

  it('shows nothing at all to a query without a tenant', async () => {
    const tenantTables = (await ourTables()).filter((name) => !CATALOG.includes(name) && !SERVER_ONLY.includes(name));
    for (const table of tenantTables) {
      const total = await platform.db.knex(table).count({ n: '*' }).first();
      const visible = await asTenant(NO_TENANT, (tx) => tx(table).count({ n: '*' }).first());
      expect(Number(visible?.n), table).toBe(0);
      if (table !== 'idempotency_keys') expect(Number(total?.n), `${table} has rows to hide`).toBeGreaterThan(0);
    }
  });

  it("keeps the server's own tables from requests altogether", async () => {
    for (const table of SERVER_ONLY) {
      const asA = { agencyId: a.agencyId, clientId: null };
      await expect(
        asTenant(asA, (tx) => tx(table).count({ n: '*' }).first()),
        table,
      ).rejects.toMatchObject({
        code: '42501',
      });
    }
  });

  it('shows the module catalog to everyone, lets only a module’s owner publish to it, and never change it', async () => {
    for (const table of CATALOG) {
      const total = await platform.db.knex(table).count({ n: '*' }).first();
      const visible = await asTenant(NO_TENANT, (tx) => tx(table).count({ n: '*' }).first());
      expect(Number(visible?.n), table).toBe(Number(total?.n));
      expect(Number(total?.n), table).toBeGreaterThan(0);
    }
    const asA = { agencyId: a.agencyId, clientId: null };
    const intrude = asTenant(asA, (tx) =>
      tx('module_versions').insert({ module_id: 'bravo.faq', version: '9.9.9', manifest: {}, files: '[]' }),
    );
    await expect(intrude).rejects.toMatchObject({ code: '42501' });
    const rename = asTenant(asA, (tx) =>
      tx('modules').where({ id: 'bravo.faq' }).update({ name: 'Mine' }).returning('id'),
    );
    expect(await rename).toEqual([]);
    // Published versions are immutable, even for their owner.
    const asB = { agencyId: b.agencyId, clientId: null };
    const rewrite = asTenant(asB, (tx) =>
      tx('module_versions').where({ module_id: 'bravo.faq' }).update({ manifest: {} }),
    );
    await expect(rewrite).rejects.toMatchObject({ code: '42501' });
  });

  it('shows a tenant its own rows only', async () => {
    const agencies = await asTenant({ agencyId: a.agencyId, clientId: null }, (tx) => tx('agencies').pluck('id'));
    expect(agencies).toEqual([a.agencyId]);
    for (const table of ['clients', 'sites', 'site_origins', 'users', 'api_keys', 'sessions', 'client_roles']) {
      const owners = await asTenant({ agencyId: a.agencyId, clientId: null }, (tx) =>
        tx(table).distinct().pluck('agency_id'),
      );
      expect(owners, table).toEqual([a.agencyId]);
    }
    const users = await asTenant({ agencyId: a.agencyId, clientId: null }, (tx) => tx('users').pluck('id'));
    expect(users).toContain(a.userId);
    expect(users).not.toContain(b.userId);
  });

  it('narrows a client-limited tenant to that client', async () => {
    const other = await platform.request('POST', '/v1/clients', { token: a.token, body: { name: 'Other client' } });
    await platform.request('POST', '/v1/sites', {
      token: a.token,
      body: { client_id: other.body.id, name: 'other.example' },
    });
    const sites = await asTenant({ agencyId: a.agencyId, clientId: a.clientId }, (tx) =>
      tx('sites').pluck('client_id'),
    );
    expect(sites).toEqual([a.clientId]);
    const clients = await asTenant({ agencyId: a.agencyId, clientId: a.clientId }, (tx) => tx('clients').pluck('id'));
    expect(clients).toEqual([a.clientId]);
    await populateCustomRole(platform, { token: a.token, clientId: other.body.id }, 'alpha.faq.questions.read');
    for (const table of ['client_roles', 'user_client_roles']) {
      const all = await asTenant({ agencyId: a.agencyId, clientId: null }, (tx) =>
        tx(table).distinct().pluck('client_id'),
      );
      expect(all, table).toHaveLength(2);
      const limited = await asTenant({ agencyId: a.agencyId, clientId: a.clientId }, (tx) =>
        tx(table).distinct().pluck('client_id'),
      );
      expect(limited, table).toEqual([a.clientId]);
    }
  });

  it('lets a client-limited tenant read its agency and client but change neither', async () => {
    const limited = { agencyId: a.agencyId, clientId: a.clientId };
    expect(await asTenant(limited, (tx) => tx('agencies').pluck('id'))).toEqual([a.agencyId]);
    expect(await asTenant(limited, (tx) => tx('agencies').update({ name: 'Renamed' }).returning('id'))).toEqual([]);
    expect(await asTenant(limited, (tx) => tx('clients').where({ id: a.clientId }).delete().returning('id'))).toEqual(
      [],
    );
    const insert = asTenant(limited, (tx) =>
      tx('clients').insert({ id: crypto.randomUUID(), agency_id: a.agencyId, name: 'x' }),
    );
    await expect(insert).rejects.toMatchObject({ code: '42501' });
  });

  it('never lets the application role read a password hash', async () => {
    const read = asTenant({ agencyId: a.agencyId, clientId: null }, (tx) => tx('users').select('password_hash'));
    await expect(read).rejects.toMatchObject({ code: '42501' });
  });

  it('lets sign-in read a password’s parameters, never its hash', async () => {
    const { rows } = await asTenant(NO_TENANT, (tx) =>
      tx.raw('SELECT * FROM dramac_find_login(?, ?)', [b.email, null]),
    );
    const stored = (await platform.db.knex('users').where({ id: b.ownerId }).first()).password_hash as string;
    expect(rows).toHaveLength(1);
    expect(stored.startsWith(`${rows[0].password_parameters}$`)).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(stored.split('$').at(-1));
  });

  it("refuses to write a row into another tenant's agency", async () => {
    const attempt = asTenant({ agencyId: a.agencyId, clientId: null }, (tx) =>
      tx('clients').insert({ id: crypto.randomUUID(), agency_id: b.agencyId, name: 'Planted' }),
    );
    await expect(attempt).rejects.toMatchObject({ code: '42501' });
  });

  it('keeps a child in its parent’s agency even when a query names a foreign parent', async () => {
    // Agency A's tenant, B's client: the composite foreign key refuses it whatever the policies say.
    const attempt = asTenant({ agencyId: a.agencyId, clientId: null }, (tx) =>
      tx('sites').insert({ id: crypto.randomUUID(), agency_id: a.agencyId, client_id: b.clientId, name: 'x' }),
    );
    await expect(attempt).rejects.toMatchObject({ code: '23503' });
  });
});
