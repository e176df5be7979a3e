import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { Knex } from 'knex';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { RequestHandler } from 'express';
import type { Logger } from 'pino';
import { UUID } from '../http/pagination.js';
import { ALL_SCOPES } from '../platform/roles.js';
import { hashToken, sameHash } from '../platform/secrets.js';
import { knexAdapter } from './adapter.js';
import { loadProviderKeys, publicJwk } from './keys.js';
import { escape, PAGE_HEADERS, renderPage } from './pages.js';

/** Access tokens live ten minutes: short enough that a deleted client's or user's tokens die soon anyway. */
const ACCESS_TOKEN_SECONDS = 600;
const DAY = 86_400;

/** The command-line tool: a public client that signs in with the device authorization grant. */
export const CLI_CLIENT_ID = 'dramac-cli';

/** The provider's endpoints, all under /oauth but discovery (whose place the standard fixes). */
const ROUTES = {
  authorization: '/oauth/auth',
  backchannel_authentication: '/oauth/backchannel',
  code_verification: '/oauth/device',
  device_authorization: '/oauth/device/auth',
  end_session: '/oauth/session/end',
  introspection: '/oauth/token/introspection',
  jwks: '/oauth/jwks',
  pushed_authorization_request: '/oauth/request',
  registration: '/oauth/register',
  revocation: '/oauth/token/revocation',
  token: '/oauth/token',
  userinfo: '/oauth/me',
};
export const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** Sends one of the sign-in flow's pages from inside the provider (a koa context). */
function sendPage(ctx: KoaContextWithOIDC, title: string, body: string) {
  ctx.set(PAGE_HEADERS);
  ctx.type = 'html';
  ctx.body = renderPage(title, body);
}

/** What the API takes from a verified access token. */
export interface AccessToken {
  /** The OAuth client (null: the CLI, which is no registered client). */
  oauthClientId: string | null;
  /** The user it acts for (null: a service acting for itself). */
  userId: string | null;
  grantId: string | null;
  scopes: string[];
}

export interface AuthorizationServer {
  provider: Provider;
  /** Serves the provider's endpoints; other paths go on. */
  middleware: RequestHandler;
  /** Verifies an access token's signature, issuer, audience and lifetime: throws when it is not valid. */
  verifyAccessToken(token: string): Promise<AccessToken>;
}

/**
 * The OAuth 2 authorization server (and OpenID provider), built on oidc-provider: client credentials for
 * integrators' back ends, authorization code with PKCE for apps acting for a user, the device grant for the
 * CLI; JWT access tokens for the API (audience `<PUBLIC_URL>/v1`), rotating refresh tokens, revocation and
 * introspection. See docs/decisions/0010-oauth-authorization-server.md.
 */
export async function createAuthorizationServer(options: {
  knex: Knex;
  publicUrl: string;
  /** See Config.secretKey: the provider's own keys are sealed under it. */
  secretKey: string;
  logger: Logger;
}): Promise<AuthorizationServer> {
  const { knex, publicUrl } = options;
  const keys = await loadProviderKeys(knex, options.secretKey);
  const audience = `${publicUrl}/v1`;
  const apiScopes = ALL_SCOPES.join(' ');

  const configuration: Configuration = {
    adapter: knexAdapter(knex),
    clients: [
      {
        client_id: CLI_CLIENT_ID,
        client_name: 'Dramac CLI',
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
        scope: `openid offline_access ${apiScopes}`,
      },
    ],
    async findAccount(_ctx, id) {
      if (!UUID.test(id)) return undefined;
      const user = (await knex('users').where({ id }).first('id', 'email', 'name')) as
        { id: string; email: string; name: string } | undefined;
      if (!user) return undefined;
      return {
        accountId: user.id,
        claims: async () => ({ sub: user.id, email: user.email, name: user.name }),
      };
    },
    claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
    scopes: ['openid', 'offline_access', ...ALL_SCOPES],
    jwks: { keys: keys.signing },
    cookies: { keys: keys.cookies },
    routes: ROUTES,
    interactions: { url: (_ctx, interaction) => `/oauth/interaction/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      // Sign-out goes through the API (DELETE /v1/sessions/current); the provider's own logout pages are off.
      rpInitiatedLogout: { enabled: false },
      clientCredentials: { enabled: true },
      deviceFlow: {
        enabled: true,
        userCodeInputSource(ctx, form, _out, error) {
          const problem = error
            ? '<p class="error" role="alert">That code did not work: check it and try again.</p>'
            : '<p>Enter the code your device shows.</p>';
          sendPage(
            ctx,
            'Sign in a device',
            `${problem}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
          );
        },
        userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
          sendPage(
            ctx,
            'Sign in a device',
            `<p><strong>${escape(client.clientName ?? client.clientId)}</strong> asks to sign in with the code ` +
              `<code>${escape(userCode)}</code>. Continue only if your device shows this code.</p>${form}` +
              `<button type="submit" form="op.deviceConfirmForm">Continue</button>` +
              `<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Cancel</button>`,
          );
        },
        successSource(ctx) {
          sendPage(ctx, 'Device signed in', '<p>The sign-in is complete: you can close this page.</p>');
        },
      },
      // A client may ask about, and revoke, its own tokens only.
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, resource) {
          if (resource !== audience) throw new errors.InvalidTarget(`The only resource is ${audience}.`);
          return {
            scope: apiScopes,
            audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: ACCESS_TOKEN_SECONDS,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    renderError(ctx, out) {
      sendPage(
        ctx,
        'Sign-in failed',
        `<p>${escape(String(out.error_description ?? out.error))}</p><p>Go back to the application and start again.</p>`,
      );
    },
    // PKCE for every authorization request, confidential clients too (S256 only: `plain` is refused).
    pkce: { required: () => true },
    // A refresh token only when asked for (`offline_access`) by a client that may refresh; rotated at each use.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    rotateRefreshToken: true,
    // A user token names its grant, so revoking the grant (or its refresh token) ends its access tokens too.
    extraTokenClaims: (_ctx, token) => ('grantId' in token && token.grantId ? { grant_id: token.grantId } : undefined),
    ttl: {
      AccessToken: ACCESS_TOKEN_SECONDS,
      ClientCredentials: ACCESS_TOKEN_SECONDS,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 14 * DAY,
      Grant: 30 * DAY,
      RefreshToken: 30 * DAY,
    },
  };
  const provider = new Provider(publicUrl, configuration);
  // It reads its origin from X-Forwarded-*, which the middleware below sets from PUBLIC_URL.
  provider.proxy = true;

  // Registered clients' secrets are stored as their SHA-256 (the adapter hands that in as `client_secret`):
  // compare hashes, in constant time. No symmetric algorithm is enabled that would need the secret itself.
  const Client = provider.Client as unknown as { prototype: { compareClientSecret(actual: string): boolean } };
  Client.prototype.compareClientSecret = function (this: { clientSecret: string }, actual: string) {
    return sameHash(Buffer.from(this.clientSecret, 'hex'), hashToken(actual));
  };

  provider.on('server_error', (_ctx, error) => options.logger.error({ err: error }, 'authorization server error'));

  const callback = provider.callback();
  const { host, protocol } = new URL(publicUrl);
  const middleware: RequestHandler = (req, res, next) => {
    if (!req.path.startsWith('/oauth/') && req.path !== DISCOVERY_PATH) return next();
    // The provider names its endpoints after the request's host: make that PUBLIC_URL's, whatever a caller
    // (or a proxy) puts in X-Forwarded-* — a forged host would otherwise end up in discovery and device links.
    req.headers['x-forwarded-host'] = host;
    req.headers['x-forwarded-proto'] = protocol.slice(0, -1);
    delete req.headers['x-forwarded-port'];
    callback(req, res);
  };

  const jwks = createLocalJWKSet({ keys: keys.signing.map(publicJwk) });
  async function verifyAccessToken(token: string): Promise<AccessToken> {
    const { payload } = (await jwtVerify(token, jwks, {
      issuer: publicUrl,
      audience,
      algorithms: ['RS256'],
      typ: 'at+jwt',
      requiredClaims: ['exp', 'iat', 'jti', 'client_id'],
    })) as { payload: JWTPayload & { client_id?: string; scope?: string; grant_id?: string } };
    const oauthClientId = payload.client_id && payload.client_id !== CLI_CLIENT_ID ? payload.client_id : null;
    return {
      oauthClientId,
      // A client's own token has its client as subject (RFC 9068); any other subject is a user.
      userId: payload.sub && payload.sub !== payload.client_id ? payload.sub : null,
      grantId: payload.grant_id ?? null,
      scopes: (payload.scope ?? '').split(' ').filter(Boolean),
    };
  }

  return { provider, middleware, verifyAccessToken };
}
