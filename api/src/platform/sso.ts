import type { Request } from 'express';
import type { Knex } from 'knex';
import * as oauth from 'oauth4webapi';
import { fetch as undiciFetch } from 'undici';
import { enterTenant, NO_TENANT } from '../db/tenant.js';
import { withPreparation, type Handlers, type Role, type Schemas } from '../http/operations.js';
import { badRequest, forbidden, notFound, Problem } from '../http/problem.js';
import { internetOnly, urlRefusal } from '../modules/hooks.js';
import { seal, unseal } from './sealed.js';
import { hashToken } from './secrets.js';
import { openSession, type Account } from './sessions.js';

/**
 * Single sign-on through an agency's own OpenID Connect provider, with the platform as the relying party
 * (oauth4webapi): authorization code flow with state, nonce and PKCE (S256). See
 * docs/decisions/0012-sso-relying-party.md.
 */
const CALLBACK_PATH = '/v1/sso/callback';
const SCOPE = 'openid email profile';
const ATTEMPT_SECONDS = 10 * 60;
/** Ties an attempt to the browser that started it, so nobody can finish their sign-in in someone else's. */
const COOKIE = 'dramac_sso';
const SECRET_PURPOSE = 'sso-client-secret';
const IDP_TIMEOUT_MS = 10_000;

interface Row {
  agency_id: string;
  issuer: string;
  client_id: string;
  client_secret_sealed: string;
  client_secret_hint: string;
  metadata: oauth.AuthorizationServer;
  allowed_domains: string[];
  provision_users: boolean;
  provision_role: Schemas['SsoProvisionRole'];
  enabled: boolean;
  enforced: boolean;
  created_at: Date;
  updated_at: Date;
}

interface Attempt {
  agency_id: string;
  code_verifier: string;
  nonce: string;
  redirect_uri: string;
  return_to: string;
}

const startUrl = (publicUrl: string, agencyId: string) => `${publicUrl}/v1/sso/${agencyId}/start`;

function shown(row: Row, publicUrl: string): Schemas['SsoConfiguration'] {
  const { client_secret_sealed: _sealed, metadata: _metadata, ...settings } = row;
  return {
    ...settings,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
    redirect_uri: `${publicUrl}${CALLBACK_PATH}`,
    start_url: startUrl(publicUrl, row.agency_id),
  };
}

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1).toLowerCase();

const unprocessable = (code: string, message: string) =>
  new Problem(422, code, 'Unprocessable', `The issuer is refused: ${message}.`, [{ path: '/body/issuer', message }]);

/**
 * How the platform calls a provider: HTTPS to internet addresses only (checked on connecting, as for
 * webhooks) unless HOOKS_ALLOW_LOCAL allows plain HTTP and local ones; no redirects; 10 seconds at most.
 */
function outbound(allowLocal: boolean): oauth.HttpRequestOptions<'GET' | 'POST', URLSearchParams | undefined> {
  return {
    [oauth.customFetch]: (url, init) =>
      undiciFetch(url, { ...init, dispatcher: allowLocal ? undefined : internetOnly }) as unknown as Promise<Response>,
    [oauth.allowInsecureRequests]: allowLocal,
    signal: () => AbortSignal.timeout(IDP_TIMEOUT_MS),
  };
}

/** The provider's metadata, from its discovery document; refused with a 422 naming what is wrong. */
async function discover(issuer: string, allowLocal: boolean): Promise<oauth.AuthorizationServer> {
  const refusal = urlRefusal(issuer, allowLocal);
  if (refusal) throw unprocessable('issuer_not_allowed', refusal);
  let response: Response;
  try {
    response = await oauth.discoveryRequest(new URL(issuer), outbound(allowLocal));
  } catch {
    throw unprocessable('issuer_unreachable', 'its discovery document could not be fetched');
  }
  let metadata: oauth.AuthorizationServer;
  try {
    metadata = await oauth.processDiscoveryResponse(new URL(issuer), response);
  } catch (error) {
    throw unprocessable('issuer_invalid', `its discovery document is not valid (${(error as Error).message})`);
  }
  const authorization = metadata.authorization_endpoint;
  if (!authorization || !metadata.token_endpoint || urlRefusal(authorization, allowLocal)) {
    throw unprocessable('issuer_invalid', 'its discovery document names no usable authorization and token endpoints');
  }
  return metadata;
}

/** Where the browser goes once signed in: the platform's own origin only, never elsewhere (no open redirect). */
function returnTarget(returnTo: string | undefined, publicUrl: string): string {
  let target: URL | null = null;
  try {
    target = new URL(returnTo ?? '/', publicUrl);
  } catch {
    // refused below
  }
  if (target?.origin !== publicUrl) {
    const message = `must be a path or a URL on ${publicUrl}`;
    throw badRequest('return_to_not_allowed', `return_to ${message}.`, [{ path: '/query/return_to', message }]);
  }
  target.hash = '';
  return target.href;
}

const attemptCookie = (value: string, maxAge: number, publicUrl: string) =>
  `${COOKIE}=${value}; Path=/v1/sso; Max-Age=${maxAge}; HttpOnly; SameSite=Lax` +
  (publicUrl.startsWith('https:') ? '; Secure' : '');

const cookieOf = (request: Request, name: string) =>
  request
    .get('cookie')
    ?.split(';')
    .map((pair) => pair.trim())
    .find((pair) => pair.startsWith(`${name}=`))
    ?.slice(name.length + 1);

const stateInvalid = () =>
  badRequest(
    'sso_state_invalid',
    'This sign-in is unknown, expired, already used, or was started in another browser: start again.',
  );

/** Takes the attempt (it is used up, whatever happens next) and its agency's configuration. */
function takeAttempt(knex: Knex, state: string) {
  return knex.transaction(async (tx) => {
    await enterTenant(tx, NO_TENANT);
    const { rows } = (await tx.raw('SELECT * FROM dramac_take_sso_attempt(?)', [hashToken(state)])) as {
      rows: Attempt[];
    };
    const attempt = rows[0];
    if (!attempt) return null;
    await enterTenant(tx, { agencyId: attempt.agency_id, clientId: null });
    const config = (await tx('sso_configurations').where({ enabled: true }).first()) as Row | undefined;
    return { attempt, config };
  });
}

/** What went wrong with the provider, as the caller should hear it. */
function idpProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  if (
    error instanceof oauth.WWWAuthenticateChallengeError ||
    (error instanceof oauth.ResponseBodyError && error.error === 'invalid_client')
  ) {
    return new Problem(
      502,
      'idp_misconfigured',
      'Bad gateway',
      "The identity provider refuses the platform's client credentials: check client_id and client_secret in the agency's SSO configuration.",
    );
  }
  if (error instanceof oauth.ResponseBodyError) {
    return badRequest('sso_response_invalid', `The identity provider refused the code (${error.error}): start again.`);
  }
  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
    return badRequest('sso_response_invalid', `The identity provider's answer does not verify: ${error.message}.`);
  }
  return new Problem(502, 'idp_unreachable', 'Bad gateway', 'The identity provider could not be reached: try again.');
}

/**
 * Redeems the code (with the PKCE verifier) and checks the ID token (issuer, audience, expiry, nonce).
 * Its claims, or the userinfo endpoint's where the ID token carries no email (providers may keep profile
 * claims there, as oidc-provider does for the code flow).
 */
async function verifiedClaims(
  metadata: oauth.AuthorizationServer,
  client: oauth.Client,
  clientSecret: string,
  callback: URLSearchParams,
  attempt: Attempt,
  allowLocal: boolean,
): Promise<Record<string, unknown>> {
  const http = outbound(allowLocal);
  // client_secret_basic is the default every provider supports unless it lists only client_secret_post.
  const methods = metadata.token_endpoint_auth_methods_supported;
  const auth =
    methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')
      ? oauth.ClientSecretPost(clientSecret)
      : oauth.ClientSecretBasic(clientSecret);
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      metadata,
      client,
      auth,
      callback,
      attempt.redirect_uri,
      attempt.code_verifier,
      http,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(metadata, client, response, {
      expectedNonce: attempt.nonce,
      requireIdToken: true,
    });
    const idToken = oauth.getValidatedIdTokenClaims(tokens)!;
    if (idToken.email !== undefined) return idToken;
    const userinfo = await oauth.userInfoRequest(metadata, client, tokens.access_token, http);
    return { ...(await oauth.processUserInfoResponse(metadata, client, idToken.sub, userinfo)) };
  } catch (error) {
    throw idpProblem(error);
  }
}

interface SignIn {
  agencyId: string;
  email: string;
  name: string;
  /** The role of an account made at first sign-in; null: none is made. */
  provisionRole: Role | null;
  returnTo: string;
}

/** Who the provider says signs in, if the agency lets them: a verified email in one of its domains. */
function signInOf(claims: Record<string, unknown>, config: Row, attempt: Attempt): SignIn {
  const { email, email_verified: verified, name } = claims;
  if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email) || email.length > 254) {
    throw badRequest('sso_response_invalid', 'The identity provider gave no usable email address.');
  }
  if (verified !== true) throw forbidden('email_not_verified', `The identity provider has not verified ${email}.`);
  if (!config.allowed_domains.includes(domainOf(email))) {
    throw forbidden('email_domain_not_allowed', `${domainOf(email)} is not one of the agency's SSO domains.`);
  }
  const displayName = typeof name === 'string' && name.trim() ? name.trim() : email.slice(0, email.indexOf('@'));
  return {
    agencyId: attempt.agency_id,
    email,
    name: displayName.slice(0, 200),
    provisionRole: config.provision_users ? config.provision_role : null,
    returnTo: attempt.return_to,
  };
}

const ACCOUNT = ['id', 'agency_id', 'email', 'name', 'role', 'client_id'];

/** The agency's account with this email, or one made now if the configuration says so. */
async function accountFor(tx: Knex.Transaction, signIn: SignIn): Promise<Account> {
  const byEmail = () => tx('users').whereRaw('lower(email) = lower(?)', [signIn.email]).first(ACCOUNT);
  const existing = (await byEmail()) as Account | undefined;
  if (existing) return existing;
  if (!signIn.provisionRole) {
    throw forbidden(
      'account_not_found',
      `${signIn.email} has no account in this agency: an admin can add one, or let SSO make accounts at first sign-in.`,
    );
  }
  const { rows } = (await tx.raw(
    `INSERT INTO users (id, agency_id, email, name, role) VALUES (gen_random_uuid(), ?, ?, ?, ?)
     ON CONFLICT (agency_id, lower(email)) DO NOTHING RETURNING ${ACCOUNT.join(', ')}`,
    [signIn.agencyId, signIn.email, signIn.name, signIn.provisionRole],
  )) as { rows: Account[] };
  // Nothing inserted: a concurrent first sign-in made it a moment ago.
  return rows[0] ?? ((await byEmail()) as Account);
}

/**
 * Password sign-in is refused to accounts the agency signs in through its provider (`enforced`, for the
 * allowed domains: an account outside them, such as an owner kept for emergencies, keeps its password).
 */
export async function assertPasswordSignInAllowed(tx: Knex.Transaction, account: Account, publicUrl: string) {
  const config = (await tx('sso_configurations').where({ enabled: true, enforced: true }).first('allowed_domains')) as
    Pick<Row, 'allowed_domains'> | undefined;
  if (config?.allowed_domains.includes(domainOf(account.email))) {
    throw forbidden(
      'sso_required',
      `This account signs in through its agency's identity provider: ${startUrl(publicUrl, account.agency_id)}`,
    );
  }
}

export const ssoHandlers: Pick<
  Handlers,
  'getSsoConfiguration' | 'putSsoConfiguration' | 'deleteSsoConfiguration' | 'startSsoSignIn' | 'finishSsoSignIn'
> = {
  async getSsoConfiguration({ tx, params, publicUrl }) {
    const row = (await tx('sso_configurations').where({ agency_id: params.agencyId }).first()) as Row | undefined;
    if (!row) throw notFound('SSO configuration');
    return { status: 200, body: shown(row, publicUrl) };
  },

  putSsoConfiguration: withPreparation(
    async ({ body, params, principal, allowLocalHooks, secretKey }) => {
      // Another agency's, or a client-limited credential (which sees none of it): before calling anyone.
      if (params.agencyId !== principal.agencyId || principal.clientId) throw notFound('agency');
      const metadata = await discover(body.issuer, allowLocalHooks);
      const secret = body.client_secret;
      return {
        metadata,
        sealedSecret: secret && {
          client_secret_sealed: seal(secretKey, SECRET_PURPOSE, params.agencyId, secret),
          // A few characters to recognise it by; none of a short one, where they would give too much away.
          client_secret_hint: secret.length >= 16 ? `…${secret.slice(-4)}` : '…',
        },
      };
    },
    async ({ tx, agencyId, body, publicUrl }, { metadata, sealedSecret }) => {
      const existing = await tx('sso_configurations').where({ agency_id: agencyId }).forUpdate().first('agency_id');
      if (!existing && !sealedSecret) {
        throw new Problem(
          422,
          'client_secret_required',
          'Unprocessable',
          'The first configuration needs client_secret.',
          [{ path: '/body/client_secret', message: 'is required the first time' }],
        );
      }
      const settings = {
        issuer: body.issuer,
        client_id: body.client_id,
        metadata: JSON.stringify(metadata),
        allowed_domains: body.allowed_domains.map((domain) => domain.toLowerCase()),
        provision_users: body.provision_users ?? false,
        provision_role: body.provision_role ?? 'agency_member',
        enabled: body.enabled ?? true,
        enforced: body.enforced ?? false,
        updated_at: tx.fn.now(),
        ...sealedSecret,
      };
      const [row] = (await (
        existing
          ? tx('sso_configurations').where({ agency_id: agencyId }).update(settings)
          : tx('sso_configurations').insert({ agency_id: agencyId, ...settings })
      ).returning('*')) as Row[];
      return { status: existing ? 200 : 201, body: shown(row!, publicUrl) };
    },
  ),

  async deleteSsoConfiguration({ tx, params }) {
    const deleted = await tx('sso_configurations')
      .where({ agency_id: params.agencyId })
      .delete()
      .returning('agency_id');
    if (deleted.length === 0) throw notFound('SSO configuration');
    return { status: 204 };
  },

  startSsoSignIn: withPreparation(
    // Counted with password sign-ins: each start stores an attempt.
    ({ request, limits }) => limits.consume('signIn', String(request.ip)),
    async ({ tx, params, query, publicUrl, enterTenant }) => {
      const returnTo = returnTarget(query.return_to, publicUrl);
      await enterTenant({ agencyId: params.agencyId, clientId: null });
      const config = (await tx('sso_configurations').where({ enabled: true }).first('client_id', 'metadata')) as
        Pick<Row, 'client_id' | 'metadata'> | undefined;
      if (!config) throw notFound('SSO configuration (or it is disabled)');
      await tx('sso_attempts').where('expires_at', '<=', tx.fn.now()).delete();
      const state = oauth.generateRandomState();
      const nonce = oauth.generateRandomNonce();
      const verifier = oauth.generateRandomCodeVerifier();
      const redirectUri = `${publicUrl}${CALLBACK_PATH}`;
      await tx('sso_attempts').insert({
        state_hash: hashToken(state),
        agency_id: params.agencyId,
        code_verifier: verifier,
        nonce,
        redirect_uri: redirectUri,
        return_to: returnTo,
        expires_at: tx.raw(`now() + make_interval(secs => ?)`, [ATTEMPT_SECONDS]),
      });
      const authorization = new URL(config.metadata.authorization_endpoint!);
      const parameters = {
        client_id: config.client_id,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: SCOPE,
        state,
        nonce,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      };
      for (const [name, value] of Object.entries(parameters)) authorization.searchParams.set(name, value);
      return {
        status: 302,
        headers: {
          Location: authorization.href,
          'Set-Cookie': attemptCookie(state, ATTEMPT_SECONDS, publicUrl),
          'Cache-Control': 'no-store',
        },
      };
    },
  ),

  finishSsoSignIn: withPreparation(
    async ({ knex, request, secretKey, allowLocalHooks }): Promise<SignIn> => {
      const callback = new URL(request.originalUrl, 'http://callback.invalid').searchParams;
      const state = callback.get('state');
      if (!state || cookieOf(request, COOKIE) !== state) throw stateInvalid();
      const taken = await takeAttempt(knex, state);
      if (!taken) throw stateInvalid();
      const { attempt, config } = taken;
      if (!config) throw forbidden('sso_not_configured', "The agency's single sign-on was disabled meanwhile.");
      const client: oauth.Client = { client_id: config.client_id };

      let parameters: URLSearchParams;
      try {
        parameters = oauth.validateAuthResponse(config.metadata, client, callback, state);
      } catch (error) {
        if (!(error instanceof oauth.AuthorizationResponseError)) throw idpProblem(error);
        const description = error.error_description ? `: ${error.error_description}` : '';
        throw forbidden('sso_denied', `The identity provider refused the sign-in (${error.error}${description}).`);
      }
      const secret = unseal(secretKey, SECRET_PURPOSE, attempt.agency_id, config.client_secret_sealed);
      if (secret === null) {
        throw new Problem(
          500,
          'sso_secret_unreadable',
          'Internal server error',
          "The stored client secret does not decrypt with this server's SECRET_KEY (was it changed?): save the SSO configuration again with its client_secret.",
        );
      }
      const claims = await verifiedClaims(config.metadata, client, secret, parameters, attempt, allowLocalHooks);
      return signInOf(claims, config, attempt);
    },
    async ({ tx, enterTenant, publicUrl }, signIn) => {
      await enterTenant({ agencyId: signIn.agencyId, clientId: null });
      const session = await openSession(tx, await accountFor(tx, signIn));
      return {
        status: 302,
        headers: {
          // In the fragment: the browser keeps it to itself (no server, log or Referer ever sees it).
          Location: `${signIn.returnTo}#session=${session.token}`,
          'Set-Cookie': attemptCookie('', 0, publicUrl),
          'Cache-Control': 'no-store',
          'Referrer-Policy': 'no-referrer',
        },
      };
    },
  ),
};
