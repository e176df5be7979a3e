import { randomBytes } from 'node:crypto';
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
  ownerId: '0190a000-0000-7000-8000-00000000d004',
  email: 'owner@demo.dramac.dev',
  keyName: 'Demo page',
};

export interface DemoData {
  agencyId: string;
  email: string;
  password: string;
  publishableKey: string;
}

/**
 * Creates the demo agency, client, site and owner on first start, and allows `publicUrl` as the site's
 * origin. Each start gives the demo owner a new random password and the demo page a new publishable key:
 * only hashes are stored, so the previous ones cannot be shown again (the old key is revoked).
 */
export async function seedDemo(knex: Knex, publicUrl: string): Promise<DemoData> {
  const password = randomBytes(12).toString('base64url');
  const passwordHash = await hashPassword(password);
  return knex.transaction(async (tx) => {
    await enterTenant(tx, { agencyId: DEMO.agencyId, clientId: null });
    if (!(await tx('agencies').where({ id: DEMO.agencyId }).first('id'))) {
      await tx('agencies').insert({ id: DEMO.agencyId, name: 'Demo Agency' });
      await tx('clients').insert({ id: DEMO.clientId, agency_id: DEMO.agencyId, name: 'Demo Bakery' });
      await tx('sites').insert({
        id: DEMO.siteId,
        agency_id: DEMO.agencyId,
        client_id: DEMO.clientId,
        name: 'demo-bakery.example',
      });
      await tx('users').insert({
        id: DEMO.ownerId,
        agency_id: DEMO.agencyId,
        email: DEMO.email,
        name: 'Demo Owner',
        role: 'agency_owner',
      });
    }
    await tx('users').where({ id: DEMO.ownerId }).update({ password_hash: passwordHash });
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
    return { agencyId: DEMO.agencyId, email: DEMO.email, password, publishableKey };
  });
}
