import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { Handlers, Schemas } from '../http/operations.js';
import { invalidField, notFound } from '../http/problem.js';
import { paginate } from '../http/pagination.js';
import { assertMayGrant } from './keys.js';
import { hashToken, newToken, tokenPrefix } from './secrets.js';

type OAuthClient = Schemas['OAuthClient'];
const OAUTH_CLIENT = ['id', 'type', 'name', 'client_id', 'scopes', 'redirect_uris', 'secret_prefix', 'created_at'];

/** Where an app may send users back to: https, or http on this machine (RFC 8252); never a fragment. */
function checkRedirectUri(uri: string, index: number) {
  const url = URL.parse(uri);
  if (!url) throw invalidField(`redirect_uris/${index}`, 'is not a URL');
  const local = url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !local) {
    throw invalidField(`redirect_uris/${index}`, 'must be an https: URL (or http: on localhost)');
  }
  if (url.hash || uri.includes('#')) throw invalidField(`redirect_uris/${index}`, 'must not have a fragment');
}

async function findOAuthClient(tx: Knex.Transaction, id: string): Promise<OAuthClient> {
  const client = await tx('oauth_clients').where({ id }).first(OAUTH_CLIENT);
  if (!client) throw notFound('OAuth client');
  return client;
}

export const oauthClientHandlers: Pick<
  Handlers,
  'listOAuthClients' | 'createOAuthClient' | 'getOAuthClient' | 'deleteOAuthClient'
> = {
  async listOAuthClients({ tx, query }) {
    const page = await paginate(tx('oauth_clients').select(OAUTH_CLIENT), 'id', query, (row) => row as OAuthClient);
    return { status: 200, body: page };
  },

  async createOAuthClient({ tx, agencyId, principal, body }) {
    const redirectUris = body.redirect_uris ?? [];
    if (body.type === 'app' && redirectUris.length === 0) {
      throw invalidField('redirect_uris', 'is required for an app: where users come back after signing in');
    }
    if (body.type === 'service' && redirectUris.length > 0) {
      throw invalidField('redirect_uris', 'must not be set for a service: it signs in as itself');
    }
    redirectUris.forEach(checkRedirectUri);
    const clientId = body.client_id ?? principal.clientId;
    assertMayGrant(principal, body.scopes, clientId);
    if (clientId && !(await tx('clients').where({ id: clientId }).first('id'))) throw notFound('client');
    const secret = newToken('ocs');
    const [client] = await tx('oauth_clients')
      .insert({
        id: uuidv7(),
        agency_id: agencyId,
        client_id: clientId,
        type: body.type,
        name: body.name,
        scopes: body.scopes,
        redirect_uris: redirectUris,
        secret_hash: hashToken(secret),
        secret_prefix: tokenPrefix(secret),
      })
      .returning(OAUTH_CLIENT);
    return { status: 201, body: { ...client, secret } };
  },

  async getOAuthClient({ tx, params }) {
    return { status: 200, body: await findOAuthClient(tx, params.oauthClientId) };
  },

  async deleteOAuthClient({ tx, params }) {
    await findOAuthClient(tx, params.oauthClientId);
    await tx('oauth_clients').where({ id: params.oauthClientId }).delete();
    return { status: 204 };
  },
};
