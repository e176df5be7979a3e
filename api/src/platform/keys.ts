import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { Handlers, Principal, Schemas, Scope } from '../http/operations.js';
import { conflict, forbidden, invalidField, notFound } from '../http/problem.js';
import { paginate } from '../http/pagination.js';
import { ROLE_SCOPES } from './roles.js';
import { hashToken, newToken, tokenPrefix } from './secrets.js';

type Key = Schemas['Key'];
const KEY = [
  'id',
  'type',
  'name',
  'prefix',
  'site_id',
  'client_id',
  'scopes',
  'created_at',
  'expires_at',
  'revoked_at',
];

/**
 * A credential (key or OAuth client) never carries more than whoever makes it holds, and one limited to a
 * client carries client scopes only.
 */
export function assertMayGrant(principal: Principal, scopes: Scope[], clientId: string | null = null) {
  const excess = scopes.filter((scope) => !principal.scopes.has(scope));
  if (excess.length > 0) {
    throw forbidden('scope_not_grantable', `You may not grant the scope ${excess.join(', ')}: you do not hold it.`);
  }
  const beyondClient = scopes.filter((scope) => !ROLE_SCOPES.client_admin.includes(scope));
  if (clientId && beyondClient.length > 0) {
    throw invalidField('scopes', `may not include ${beyondClient.join(', ')} in a credential limited to one client`);
  }
}

async function insertKey(
  tx: Knex.Transaction,
  fields: {
    agency_id: string;
    type: Key['type'];
    name: string;
    site_id: string | null;
    client_id: string | null;
    scopes: Scope[];
  },
): Promise<Key> {
  const secret = newToken(fields.type === 'publishable' ? 'pk' : 'sk');
  const [key] = await tx('api_keys')
    .insert({ id: uuidv7(), ...fields, prefix: tokenPrefix(secret), hash: hashToken(secret) })
    .returning(KEY);
  return { ...key, secret };
}

async function findKey(tx: Knex.Transaction, keyId: string): Promise<Key> {
  const key = await tx('api_keys').where({ id: keyId }).first(KEY);
  if (!key) throw notFound('key');
  return key;
}

export const keyHandlers: Pick<Handlers, 'listKeys' | 'createKey' | 'getKey' | 'revokeKey' | 'rotateKey'> = {
  async listKeys({ tx, query }) {
    const keys = tx('api_keys').select(KEY);
    if (query.site_id) keys.where({ site_id: query.site_id });
    if (query.type) keys.where({ type: query.type });
    return { status: 200, body: await paginate(keys, 'id', query, (row) => row as Key) };
  },

  async createKey({ tx, agencyId, principal, body }) {
    if (body.type === 'publishable') {
      if (!body.site_id) throw invalidField('site_id', 'is required for a publishable key');
      if (body.scopes)
        throw invalidField('scopes', 'must not be set: publishable keys reach the public endpoints only');
      if (body.client_id)
        throw invalidField('client_id', "must not be set: a publishable key belongs to its site's client");
      const site = await tx('sites').where({ id: body.site_id }).first('client_id');
      if (!site) throw notFound('site');
      const key = await insertKey(tx, {
        agency_id: agencyId,
        type: 'publishable',
        name: body.name,
        site_id: body.site_id,
        client_id: site.client_id,
        scopes: [],
      });
      return { status: 201, body: key };
    }
    if (body.site_id) throw invalidField('site_id', 'must not be set for a secret key');
    if (!body.scopes) throw invalidField('scopes', 'is required for a secret key');
    const clientId = body.client_id ?? principal.clientId;
    assertMayGrant(principal, body.scopes, clientId);
    if (clientId && !(await tx('clients').where({ id: clientId }).first('id'))) throw notFound('client');
    const key = await insertKey(tx, {
      agency_id: agencyId,
      type: 'secret',
      name: body.name,
      site_id: null,
      client_id: clientId,
      scopes: body.scopes,
    });
    return { status: 201, body: key };
  },

  async getKey({ tx, params }) {
    return { status: 200, body: await findKey(tx, params.keyId) };
  },

  async revokeKey({ tx, params }) {
    await findKey(tx, params.keyId);
    await tx('api_keys').where({ id: params.keyId }).whereNull('revoked_at').update({ revoked_at: tx.fn.now() });
    return { status: 204 };
  },

  async rotateKey({ tx, agencyId, principal, params, body }) {
    const old = await findKey(tx, params.keyId);
    if (old.revoked_at) throw conflict('key_revoked', 'A revoked key cannot be rotated; create a new one.');
    if (old.expires_at && new Date(old.expires_at) <= new Date()) {
      throw conflict('key_expired', 'An expired key cannot be rotated; create a new one.');
    }
    assertMayGrant(principal, old.scopes);
    const overlap = body?.overlap_seconds ?? 86_400;
    await tx('api_keys')
      .where({ id: old.id })
      .update({ expires_at: tx.raw(`least(expires_at, now() + make_interval(secs => ?))`, [overlap]) });
    const key = await insertKey(tx, {
      agency_id: agencyId,
      type: old.type,
      name: old.name,
      site_id: old.site_id,
      client_id: old.client_id,
      scopes: old.scopes,
    });
    return { status: 201, body: key };
  },
};
