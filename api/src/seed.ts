import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { enterTenant } from './db/tenant.js';
import { normalizeOrigin } from './http/origins.js';
import { hashPassword, hashToken, newToken, tokenPrefix } from './platform/secrets.js';

/** Fixed ids, so that every start finds the demo data it created before. */
const DEMO = {
  agencyId: '0190a000-0000-7000-8000-00000000d001',
  clientId: '0190a000-0000-7000-8000-00000000d002',
  siteId: '0190a000-0000-7000-8000-00000000d003',
  email: 'owner@demo.dramac.dev',
  password: 'demo-password',
  keyName: 'Demo page',
};

export interface DemoData {
  email: string;
  password: string;
  publishableKey: string;
}

/**
 * Creates the demo agency, client, site and owner on first start, allows `publicUrl` as the site's
 * origin, and issues a fresh publishable key for the demo page (only hashes are stored, so the previous
 * one cannot be shown again; it is revoked).
 */
export async function seedDemo(knex: Knex, publicUrl: string): Promise<DemoData> {
  return knex.transaction(async (tx) => {
    await enterTenant(tx, { agencyId: DEMO.agencyId, clientId: null });
    if (!(await tx('agencies').where({ id: DEMO.agencyId }).first('id'))) {
      await tx('agencies').insert({ id: DEMO.agencyId, name: 'Demo Agency' });
      const { rows } = (await tx.raw('SELECT user_id FROM dramac_ensure_user(?, ?, ?, ?)', [
        uuidv7(),
        DEMO.email,
        'Demo Owner',
        await hashPassword(DEMO.password),
      ])) as { rows: { user_id: string }[] };
      await tx('memberships').insert({
        id: uuidv7(),
        agency_id: DEMO.agencyId,
        user_id: rows[0]!.user_id,
        role: 'agency_owner',
      });
      await tx('clients').insert({ id: DEMO.clientId, agency_id: DEMO.agencyId, name: 'Demo Bakery' });
      await tx('sites').insert({
        id: DEMO.siteId,
        agency_id: DEMO.agencyId,
        client_id: DEMO.clientId,
        name: 'demo-bakery.example',
      });
    }
    const origin = normalizeOrigin(publicUrl);
    if ('origin' in origin) {
      await tx('site_origins')
        .insert({ id: uuidv7(), agency_id: DEMO.agencyId, site_id: DEMO.siteId, origin: origin.origin })
        .onConflict(['site_id', 'origin'])
        .ignore();
    }
    await tx('api_keys')
      .where({ site_id: DEMO.siteId, name: DEMO.keyName })
      .whereNull('revoked_at')
      .update({ revoked_at: tx.fn.now() });
    const publishableKey = newToken('pk');
    await tx('api_keys').insert({
      id: uuidv7(),
      agency_id: DEMO.agencyId,
      type: 'publishable',
      name: DEMO.keyName,
      prefix: tokenPrefix(publishableKey),
      hash: hashToken(publishableKey),
      site_id: DEMO.siteId,
      client_id: DEMO.clientId,
    });
    return { email: DEMO.email, password: DEMO.password, publishableKey };
  });
}
