import type { Knex } from 'knex';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { UUID } from '../http/pagination.js';

/** The OAuth clients agencies register (table `oauth_clients`), as oidc-provider's client metadata. */
async function registeredClient(knex: Knex, id: string): Promise<AdapterPayload | undefined> {
  if (!UUID.test(id)) return undefined;
  const row = (await knex('oauth_clients').where({ id }).first()) as
    | {
        id: string;
        type: 'service' | 'app';
        name: string;
        scopes: string[];
        redirect_uris: string[];
        secret_hash: Buffer;
      }
    | undefined;
  if (!row) return undefined;
  const app = row.type === 'app';
  return {
    client_id: row.id,
    // The SHA-256 of the secret, never the secret: see compareClientSecret in provider.ts.
    client_secret: Buffer.from(row.secret_hash).toString('hex'),
    client_name: row.name,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: app ? ['authorization_code', 'refresh_token'] : ['client_credentials'],
    response_types: app ? ['code'] : [],
    redirect_uris: row.redirect_uris,
    // `openid` lets an app learn who signed in; `offline_access` gets it a refresh token.
    scope: [...(app ? ['openid', 'offline_access'] : []), ...row.scopes].join(' '),
  };
}

/**
 * oidc-provider's storage in one table: every model (grants, codes, refresh tokens, device codes, sessions,
 * interactions) keyed by model and id, with the columns it looks records up by. The provider's calls come
 * from its own endpoints, never from inside a request's transaction.
 */
export function knexAdapter(knex: Knex) {
  return class KnexAdapter implements Adapter {
    constructor(readonly model: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
      const row = {
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grant_id: payload.grantId ?? null,
        user_code: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expires_at: expiresIn ? new Date(Date.now() + expiresIn * 1000) : null,
      };
      await knex('oauth_store').insert(row).onConflict(['model', 'id']).merge();
    }

    private async findWhere(where: Record<string, string>): Promise<AdapterPayload | undefined> {
      const row = (await knex('oauth_store')
        .where({ model: this.model, ...where })
        .where((live) => live.whereNull('expires_at').orWhere('expires_at', '>', knex.fn.now()))
        .first('payload', 'consumed_at')) as { payload: AdapterPayload; consumed_at: Date | null } | undefined;
      if (!row) return undefined;
      return row.consumed_at ? { ...row.payload, consumed: Math.floor(row.consumed_at.getTime() / 1000) } : row.payload;
    }

    async find(id: string) {
      if (this.model === 'Client') return registeredClient(knex, id);
      return this.findWhere({ id });
    }

    findByUserCode(userCode: string) {
      return this.findWhere({ user_code: userCode });
    }

    findByUid(uid: string) {
      return this.findWhere({ uid });
    }

    async consume(id: string) {
      await knex('oauth_store').where({ model: this.model, id }).update({ consumed_at: knex.fn.now() });
    }

    async destroy(id: string) {
      await knex('oauth_store').where({ model: this.model, id }).delete();
    }

    async revokeByGrantId(grantId: string) {
      await knex('oauth_store').where({ grant_id: grantId }).delete();
    }
  };
}

/** Deletes what has expired: the provider never looks at it again. */
export async function sweepExpired(knex: Knex): Promise<void> {
  await knex('oauth_store').where('expires_at', '<', knex.fn.now()).delete();
}
