import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { type ClientMetadata, type Configuration } from 'oidc-provider';
import { fetchBrowser, type FetchBrowser } from './fetch-browser.js';
import type { TestPlatform } from './platform.js';

/** What the identity provider knows of a person, by the login typed on its sign-in page. */
export interface IdpAccount {
  email: string;
  email_verified?: boolean;
  name?: string;
}

export interface IdentityProvider {
  /** `http://localhost:<port>`: its discovery document is at `/.well-known/openid-configuration`. */
  issuer: string;
  provider: Provider;
  /** The people who can sign in; add to it at any time. */
  accounts: Map<string, IdpAccount>;
  close(): Promise<void>;
}

/**
 * A real, external OpenID provider on a free port of this machine: oidc-provider with its development
 * sign-in and consent pages (any password is accepted for a known login), real discovery, JWKS, token and
 * userinfo endpoints, and `clients` registered statically.
 */
export async function startIdentityProvider(options: {
  clients: ClientMetadata[];
  accounts?: Record<string, IdpAccount>;
  /** More oidc-provider configuration (`conformIdTokenClaims: false` puts email claims in the ID token …). */
  configuration?: Configuration;
}): Promise<IdentityProvider> {
  const accounts = new Map(Object.entries(options.accounts ?? {}));
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  // The issuer names the port, so the server listens before the provider exists (nobody calls it yet).
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: options.clients,
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['a test identity provider only'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    // Explicit lifetimes (oidc-provider asks for them, loudly, otherwise).
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    async findAccount(_ctx, id) {
      const account = accounts.get(id);
      return account && { accountId: id, claims: async () => ({ sub: id, ...account }) };
    },
    ...options.configuration,
  });
  server.on('request', provider.callback());

  return {
    issuer,
    provider,
    accounts,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/**
 * Goes through the identity provider's pages as a person would: from `url` (its authorization endpoint),
 * signs in as `login` and consents (or cancels, with `cancel`), following its redirects until one leaves
 * it. Returns that redirect's URL (the relying party's callback, with `code` and `state`, or `error`).
 */
export async function signInAtIdentityProvider(
  browser: FetchBrowser,
  idp: IdentityProvider,
  url: string,
  login: string,
  { cancel = false } = {},
): Promise<string> {
  let next = url;
  for (let step = 0; step < 20; step++) {
    if (new URL(next).origin !== idp.issuer) return next;
    const response = await browser.get(next);
    if (response.location) {
      next = response.location;
      continue;
    }
    // A development interaction page: its form says which prompt (login, then consent) it asks for.
    const prompt = /name="prompt" value="(\w+)"/.exec(response.text)?.[1];
    const action = /<form[^>]* action="([^"]+)"/.exec(response.text)?.[1];
    if (!prompt || !action) throw new Error(`unexpected page at ${next}: ${response.status} ${response.text}`);
    const target = new URL(cancel ? `${action}/abort` : action, next).toString();
    const submitted = cancel
      ? await browser.get(target)
      : await browser.postForm(target, prompt === 'login' ? { prompt, login, password: 'any' } : { prompt });
    if (!submitted.location) throw new Error(`${prompt} was not accepted: ${submitted.status} ${submitted.text}`);
    next = submitted.location;
  }
  throw new Error('the identity provider redirected too many times');
}

/**
 * Gives an agency an SSO configuration on `idp` (registering no client there: nobody signs in) and one
 * sign-in attempt in flight, for tests that look at every table.
 */
export async function populateSso(
  platform: TestPlatform,
  agency: { agencyId: string; token: string },
  idp: IdentityProvider,
): Promise<void> {
  const configured = await platform.request('PUT', `/v1/agencies/${agency.agencyId}/sso`, {
    token: agency.token,
    body: { issuer: idp.issuer, client_id: 'unregistered', client_secret: 'unused', allowed_domains: ['sso.example'] },
  });
  if (configured.status !== 201) throw new Error(`SSO configuration: ${configured.status} ${configured.text}`);
  const started = await fetchBrowser().get(`${platform.url}/v1/sso/${agency.agencyId}/start`);
  if (started.status !== 302) throw new Error(`SSO start: ${started.status} ${started.text}`);
}
