import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_SECRET_KEY } from '../src/config.js';
import { knexAdapter, sweepExpired } from '../src/oauth/adapter.js';
import { loadProviderKeys } from '../src/oauth/keys.js';
import { ALL_SCOPES } from '../src/platform/roles.js';
import { listOperations, loadPlatformSpec } from '../src/http/spec.js';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { UserAgent } from './support/user-agent.js';

/*
 * The authorization server, checked with an independent, strict client (oauth4webapi): every grant it
 * offers, the refusals the specs require, and the API honouring what the tokens say.
 */

let platform: TestPlatform;
let a: PopulatedAgency;
let as: oauth.AuthorizationServer;
// The platform runs on http://localhost in tests; oauth4webapi insists on https unless told.
const insecure = { [oauth.allowInsecureRequests]: true };

beforeAll(async () => {
  platform = await startTestPlatform({ reachable: true });
  a = await populateAgency(platform, 'OAuth');
  const issuer = new URL(platform.url);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
});
afterAll(() => platform?.close());

async function register(body: Record<string, unknown>, token = a.token) {
  const reply = await platform.request('POST', '/v1/oauth-clients', { token, body: { name: 'Integration', ...body } });
  expect(reply.status, reply.text).toBe(201);
  return reply.body as { id: string; secret: string; scopes: string[] };
}

async function serviceToken(client: { id: string; secret: string }, scope: string) {
  const response = await oauth.clientCredentialsGrantRequest(
    as,
    { client_id: client.id },
    oauth.ClientSecretBasic(client.secret),
    { scope },
    insecure,
  );
  return oauth.processClientCredentialsResponse(as, { client_id: client.id }, response);
}

const api = (token: string, method = 'GET', path = '/v1/clients', body?: unknown) =>
  platform.request(method, path, { token, body });

describe('discovery and keys', () => {
  it('publishes its metadata at /.well-known/openid-configuration with the endpoints of every grant', () => {
    expect(as.issuer).toBe(`${platform.url}/`.replace(/\/$/, ''));
    expect(as.token_endpoint).toBe(`${platform.url}/oauth/token`);
    expect(as.grant_types_supported).toEqual(
      expect.arrayContaining([
        'authorization_code',
        'refresh_token',
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:device_code',
      ]),
    );
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.revocation_endpoint).toBeDefined();
    expect(as.introspection_endpoint).toBeDefined();
    expect(as.device_authorization_endpoint).toBeDefined();
  });

  it('names its endpoints after PUBLIC_URL, whatever X-Forwarded-Host says', async () => {
    const forged = await fetch(`${platform.url}/.well-known/openid-configuration`, {
      headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
    });
    const metadata = (await forged.json()) as { token_endpoint: string; device_authorization_endpoint: string };
    expect(metadata.token_endpoint).toBe(`${platform.url}/oauth/token`);
    expect(metadata.device_authorization_endpoint).toBe(`${platform.url}/oauth/device/auth`);
  });

  it('lets a token do everything a key may, scope for scope, as every operation of the spec says', () => {
    for (const operation of listOperations(loadPlatformSpec())) {
      const bearer = operation.security.find((requirement) => 'bearer' in requirement)?.bearer;
      if (!bearer?.length) continue;
      const oauth2 = operation.security.find((requirement) => 'oauth2' in requirement)?.oauth2;
      expect(oauth2, `${operation.method} ${operation.path}`).toEqual(bearer);
    }
  });

  it('lists in the spec exactly the scopes the server knows', () => {
    const scheme = loadPlatformSpec().components!.securitySchemes!.oauth2 as {
      flows: Record<string, { scopes: Record<string, string> }>;
    };
    for (const flow of Object.values(scheme.flows)) expect(Object.keys(flow.scopes)).toEqual([...ALL_SCOPES]);
  });
});

describe('storage', () => {
  it('keeps its signing keys sealed: a copy of the database alone cannot sign tokens', async () => {
    const rows = (await platform.db.knex('oauth_keys').select('id', 'material')) as { id: string; material: string }[];
    expect(rows.map((row) => row.id).sort()).toEqual(['cookies-1', 'signing-1']);
    for (const row of rows) expect(row.material).toMatch(/^v1\./);
    const keys = await loadProviderKeys(platform.db.knex, DEVELOPMENT_SECRET_KEY);
    const published = (await (await fetch(as.jwks_uri!)).json()) as { keys: { kid: string }[] };
    expect(published.keys.map((key) => key.kid)).toEqual(keys.signing.map((key) => key.kid));
    expect(JSON.stringify(rows)).not.toContain(keys.signing[0]!.d);
    await expect(loadProviderKeys(platform.db.knex, 'another secret key, at least 32 characters')).rejects.toThrow(
      /do not open with this SECRET_KEY/,
    );
  });

  it('forgets what has expired: never found again, and swept', async () => {
    const knex = platform.db.knex;
    const Adapter = knexAdapter(knex);
    const sessions = new Adapter('Session');
    await sessions.upsert('live', { accountId: a.ownerId }, 60);
    await sessions.upsert('gone', { accountId: a.ownerId }, 60);
    await knex('oauth_store')
      .where({ model: 'Session', id: 'gone' })
      .update({ expires_at: new Date(Date.now() - 1000) });
    expect(await sessions.find('gone')).toBeUndefined();
    expect(await sessions.find('live')).toMatchObject({ accountId: a.ownerId });
    await sweepExpired(knex);
    expect(await knex('oauth_store').where({ model: 'Session' }).pluck('id')).toEqual(['live']);
  });
});

describe('client credentials', () => {
  it('gives a service a short-lived JWT that a resource server verifies with the published JWKS', async () => {
    const service = await register({ type: 'service', scopes: ['clients:read', 'sites:read'] });
    expect(service.secret).toMatch(/^ocs_/);
    const tokens = await serviceToken(service, 'clients:read');
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(600);
    expect(tokens.refresh_token).toBeUndefined();

    const request = new Request(`${platform.url}/v1/clients`, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    const claims = await oauth.validateJwtAccessToken(as, request, `${platform.url}/v1`, insecure);
    expect(claims.client_id).toBe(service.id);
    expect(claims.scope).toBe('clients:read');
  });

  it('lets a token do what its scopes say and nothing more, in its own agency only', async () => {
    const service = await register({ type: 'service', scopes: ['clients:read', 'clients:write'] });
    const tokens = await serviceToken(service, 'clients:read');
    const list = await api(tokens.access_token);
    expect(list.status).toBe(200);
    expect(list.body.data.map((client: { id: string }) => client.id)).toContain(a.clientId);
    const write = await api(tokens.access_token, 'POST', '/v1/clients', { name: 'x' });
    expect(write.status).toBe(403);
    expect(write.body.code).toBe('insufficient_scope');

    const other = await populateAgency(platform, 'Other');
    expect((await api(tokens.access_token, 'GET', `/v1/clients/${other.clientId}`)).status).toBe(404);
  });

  it('refuses scopes the client was not registered with, and a wrong secret', async () => {
    const service = await register({ type: 'service', scopes: ['clients:read'] });
    await expect(serviceToken(service, 'clients:write')).rejects.toMatchObject({ error: 'invalid_scope' });
    await expect(serviceToken({ id: service.id, secret: 'ocs_wrong' }, 'clients:read')).rejects.toBeInstanceOf(
      oauth.WWWAuthenticateChallengeError,
    );
  });

  it('keeps only a hash of the client secret', async () => {
    const service = await register({ type: 'service', scopes: ['clients:read'] });
    const row = await platform.db.knex('oauth_clients').where({ id: service.id }).first();
    expect(JSON.stringify(row)).not.toContain(service.secret.slice(4));
    const listed = await platform.request('GET', `/v1/oauth-clients/${service.id}`, { token: a.token });
    expect(listed.body.secret).toBeUndefined();
  });

  it('ends every token of a deleted client at once', async () => {
    const service = await register({ type: 'service', scopes: ['clients:read'] });
    const tokens = await serviceToken(service, 'clients:read');
    expect((await api(tokens.access_token)).status).toBe(200);
    expect((await platform.request('DELETE', `/v1/oauth-clients/${service.id}`, { token: a.token })).status).toBe(204);
    const after = await api(tokens.access_token);
    expect(after.status).toBe(401);
    await expect(serviceToken(service, 'clients:read')).rejects.toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
  });

  it('refuses a forged, tampered or foreign token with 401', async () => {
    const service = await register({ type: 'service', scopes: ['clients:read'] });
    const { access_token } = await serviceToken(service, 'clients:read');
    const [header, payload, signature] = access_token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'clients:write' })).toString('base64url');
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    for (const token of [
      `${header}.${widened}.${signature}`,
      `${header}.${payload}.${'A'.repeat(342)}`,
      `${none}.${payload}.`,
      `${none}.${payload}.x`,
      'a.b.c',
    ]) {
      const reply = await api(token);
      expect(reply.status).toBe(401);
      expect(reply.headers.get('content-type')).toMatch(/problem\+json/);
    }
  });

  it('does not let an agency register a client with more than its registrar holds', async () => {
    const member = await platform.request('POST', '/v1/keys', {
      token: a.token,
      body: { type: 'secret', name: 'narrow', scopes: ['keys:write', 'clients:read'] },
    });
    const reply = await platform.request('POST', '/v1/oauth-clients', {
      token: member.body.secret,
      body: { type: 'service', name: 'wide', scopes: ['clients:write'] },
    });
    expect(reply.status).toBe(403);
    expect(reply.body.code).toBe('scope_not_grantable');
  });

  it('refuses apps without redirect URIs, services with them, and unsafe redirect URIs', async () => {
    const cases = [
      { type: 'app', scopes: ['clients:read'] },
      { type: 'service', scopes: ['clients:read'], redirect_uris: ['https://app.example/cb'] },
      { type: 'app', scopes: ['clients:read'], redirect_uris: ['http://app.example/cb'] },
    ];
    for (const body of cases) {
      const reply = await platform.request('POST', '/v1/oauth-clients', {
        token: a.token,
        body: { name: 'x', ...body },
      });
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.body.errors[0].path).toMatch(/^\/body\/redirect_uris/);
    }
  });
});

const REDIRECT = 'http://localhost:7777/callback';

/** An authorization request for `clients:read` with a fresh PKCE challenge, as an app would send people to. */
async function signInUrl(client: { id: string }, params: Record<string, string> = {}) {
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: client.id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'clients:read',
    code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()),
    code_challenge_method: 'S256',
    ...params,
  }).toString();
  return url;
}

/** Opens an app's sign-in page in `agent` and submits `person`'s email and password there. */
async function submitSignIn(agent: UserAgent, client: { id: string }, person: { email: string; password: string }) {
  const page = await agent.follow(await signInUrl(client));
  const answer = await agent.submit(
    page.url,
    page.visit.text,
    { email: person.email, password: person.password },
    '/login',
  );
  return { page, answer };
}

/** Runs an authorization request as a person would in a browser, up to the redirect back to the app. */
async function authorize(
  client: { id: string },
  params: Record<string, string>,
  person: { email: string; password: string },
  agent = new UserAgent(),
) {
  const url = new URL(as.authorization_endpoint!);
  for (const [name, value] of Object.entries({
    client_id: client.id,
    redirect_uri: REDIRECT,
    response_type: 'code',
    ...params,
  })) {
    url.searchParams.set(name, value);
  }
  const backToApp = (location: URL) => location.href.startsWith(REDIRECT);
  let step = await agent.follow(url, backToApp);
  const pages: string[] = [];
  for (let page = 0; page < 4 && !backToApp(step.url); page += 1) {
    const html = step.visit.text;
    pages.push(html);
    const answer = html.includes('/login"')
      ? await agent.submit(step.url, html, { email: person.email, password: person.password }, '/login')
      : await agent.submit(step.url, html, {}, '/confirm');
    step = await agent.follow(new URL(answer.location!), backToApp);
  }
  return { callback: step.url, pages, agent };
}

describe('authorization code with PKCE', () => {
  let app: { id: string; secret: string };
  const appClient = () => ({ client_id: app.id });

  beforeAll(async () => {
    app = await register({
      type: 'app',
      name: '<script>alert(1)</script> Marketplace app',
      scopes: ['clients:read', 'clients:write', 'sites:read'],
      redirect_uris: [REDIRECT],
    });
  });

  async function codeFlow(scope: string, person = { email: a.email, password: a.password }) {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    // A nonce goes with an OpenID request only (the server refuses one without `openid`).
    const nonce = scope.split(' ').includes('openid') ? oauth.generateRandomNonce() : undefined;
    const { callback, pages } = await authorize(
      app,
      {
        scope,
        state,
        ...(nonce && { nonce }),
        // OpenID Connect grants offline access (a refresh token) only on a request that prompts for consent.
        ...(scope.includes('offline_access') && { prompt: 'consent' }),
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      },
      person,
    );
    const params = oauth.validateAuthResponse(as, appClient(), callback, state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      appClient(),
      oauth.ClientSecretBasic(app.secret),
      params,
      REDIRECT,
      verifier,
      insecure,
    );
    const tokens = await oauth.processAuthorizationCodeResponse(as, appClient(), response, { expectedNonce: nonce });
    return { tokens, pages };
  }

  it('signs a user in, asks for consent listing the scopes, and issues tokens for that user', async () => {
    const { tokens, pages } = await codeFlow('openid offline_access clients:read');
    const consent = pages.find((html) => html.includes('/confirm"'))!;
    expect(consent).toContain('clients:read');
    expect(consent).toContain('Read clients.');
    // The app's name is the registrant's text: escaped wherever a page shows it.
    expect(pages.join('')).not.toContain('<script>alert(1)</script>');
    expect(consent).toContain('&#60;script&#62;');

    const claims = oauth.getValidatedIdTokenClaims(tokens)!;
    expect(claims.sub).toBe(a.ownerId);
    expect(tokens.refresh_token).toBeDefined();
    const list = await api(tokens.access_token);
    expect(list.status).toBe(200);
    expect((await api(tokens.access_token, 'POST', '/v1/clients', { name: 'x' })).status).toBe(403);
  });

  it("grants a user no scope beyond their role's, and says so on the consent page", async () => {
    const member = await platform.request('POST', `/v1/users`, {
      token: a.token,
      body: {
        email: `member-${Date.now()}@example.com`,
        name: 'Member',
        role: 'client_member',
        client_id: a.clientId,
        password: 'correct horse battery',
      },
    });
    expect(member.status, member.text).toBe(201);
    const { tokens, pages } = await codeFlow('clients:read clients:write', {
      email: member.body.email,
      password: 'correct horse battery',
    });
    expect(pages.join('')).toContain('not granted: your role does not have it');
    expect(tokens.scope).toBe('clients:read');
    expect((await api(tokens.access_token, 'POST', '/v1/clients', { name: 'x' })).status).toBe(403);
    // The token is the member's: limited to the member's client, like their session.
    const clients = await api(tokens.access_token);
    expect(clients.body.data.map((client: { id: string }) => client.id)).toEqual([a.clientId]);
  });

  it("keeps an app limited to one client within it, even when the agency's owner signs in", async () => {
    const limited = await register({
      type: 'app',
      name: 'Client app',
      client_id: a.clientId,
      scopes: ['clients:read'],
      redirect_uris: [REDIRECT],
    });
    const previous = app;
    app = limited;
    try {
      await platform.request('POST', '/v1/clients', { token: a.token, body: { name: 'Another client' } });
      const { tokens } = await codeFlow('clients:read');
      const clients = await api(tokens.access_token);
      expect(clients.body.data.map((client: { id: string }) => client.id)).toEqual([a.clientId]);
    } finally {
      app = previous;
    }
  });

  it("signs in only people of the app's own agency", async () => {
    const stranger = await populateAgency(platform, 'Stranger');
    const { answer: refused } = await submitSignIn(new UserAgent(), app, stranger);
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('The email or password is wrong.');
  });

  it('follows the user as they are now: a lowered role narrows the token, a deleted user ends it', async () => {
    const email = `admin-${Date.now()}@example.com`;
    const admin = await platform.request('POST', '/v1/users', {
      token: a.token,
      body: { email, name: 'Admin', role: 'agency_admin', password: 'correct horse battery' },
    });
    expect(admin.status, admin.text).toBe(201);
    const { tokens } = await codeFlow('clients:read clients:write', { email, password: 'correct horse battery' });
    expect(tokens.scope).toBe('clients:read clients:write');
    const write = () => api(tokens.access_token, 'POST', '/v1/clients', { name: 'By the app' });
    expect((await write()).status).toBe(201);

    const lowered = await platform.request('PATCH', `/v1/users/${admin.body.id}`, {
      token: a.token,
      body: { role: 'agency_member' },
    });
    expect(lowered.status, lowered.text).toBe(200);
    expect((await write()).status).toBe(403);
    expect((await api(tokens.access_token)).status).toBe(200);

    expect((await platform.request('DELETE', `/v1/users/${admin.body.id}`, { token: a.token })).status).toBe(204);
    expect((await api(tokens.access_token)).status).toBe(401);
  });

  it('refuses an authorization request without PKCE, and with the plain method', async () => {
    const base = { scope: 'clients:read', state: 's' };
    const missing = await authorize(app, base, { email: a.email, password: a.password });
    expect(missing.callback.searchParams.get('error')).toBe('invalid_request');
    expect(missing.callback.searchParams.get('error_description')).toMatch(/PKCE/i);
    const plain = await authorize(
      app,
      { ...base, code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' },
      { email: a.email, password: a.password },
    );
    expect(plain.callback.searchParams.get('error')).toBe('invalid_request');
  });

  it('matches redirect URIs exactly', async () => {
    for (const redirect of [`${REDIRECT}/`, `${REDIRECT}?x=1`, REDIRECT.replace('7777', '7778')]) {
      const url = await signInUrl(app, { redirect_uri: redirect });
      const response = await new UserAgent().fetch(url);
      expect(response.status, redirect).toBe(400);
      expect(response.location).toBeNull();
    }
  });

  it('refuses the code with a wrong verifier, and once it has been used', async () => {
    const verifier = oauth.generateRandomCodeVerifier();
    const { callback } = await authorize(
      app,
      {
        scope: 'clients:read',
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      },
      { email: a.email, password: a.password },
    );
    const params = oauth.validateAuthResponse(as, appClient(), callback, oauth.expectNoState);
    const exchange = (codeVerifier: string) =>
      oauth
        .authorizationCodeGrantRequest(
          as,
          appClient(),
          oauth.ClientSecretBasic(app.secret),
          params,
          REDIRECT,
          codeVerifier,
          insecure,
        )
        .then((response) => oauth.processAuthorizationCodeResponse(as, appClient(), response));
    await expect(exchange(oauth.generateRandomCodeVerifier())).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await exchange(verifier)).access_token).toBeDefined();
    await expect(exchange(verifier)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('rotates refresh tokens, and treats a reused one as theft: the grant and its access tokens end', async () => {
    const { tokens } = await codeFlow('offline_access clients:read');
    const refresh = (token: string) =>
      oauth
        .refreshTokenGrantRequest(as, appClient(), oauth.ClientSecretBasic(app.secret), token, insecure)
        .then((response) => oauth.processRefreshTokenResponse(as, appClient(), response));
    const second = await refresh(tokens.refresh_token!);
    expect(second.refresh_token).toBeDefined();
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    expect((await api(second.access_token)).status).toBe(200);

    await expect(refresh(tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(refresh(second.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect((await api(second.access_token)).status).toBe(401);
  });

  it('revokes: a revoked refresh token is inactive and its access tokens stop working', async () => {
    const { tokens } = await codeFlow('offline_access clients:read');
    const auth = oauth.ClientSecretBasic(app.secret);
    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(
        as,
        appClient(),
        await oauth.introspectionRequest(as, appClient(), auth, token, insecure),
      );
    expect((await introspect(tokens.refresh_token!)).active).toBe(true);

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, appClient(), auth, tokens.refresh_token!, insecure),
    );
    expect((await introspect(tokens.refresh_token!)).active).toBe(false);
    expect((await api(tokens.access_token)).status).toBe(401);
  });

  it('ends the sign-in with access_denied when the user denies', async () => {
    const agent = new UserAgent();
    const { answer: loggedIn } = await submitSignIn(agent, app, a);
    const consent = await agent.follow(new URL(loggedIn.location!));
    const denied = await agent.submit(consent.url, consent.visit.text, {}, '/abort');
    const back = await agent.follow(new URL(denied.location!), (l) => l.href.startsWith(REDIRECT));
    expect(back.url.searchParams.get('error')).toBe('access_denied');
  });

  it('says which sign-in was wrong without telling which part', async () => {
    const { page: login, answer: wrong } = await submitSignIn(new UserAgent(), app, {
      email: a.email,
      password: 'nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('The email or password is wrong.');
    // Another browser (without the interaction's cookie) cannot use the same page.
    const stranger = await new UserAgent().fetch(login.url);
    expect(stranger.status).toBe(400);
  });
});

describe('device authorization grant (the CLI)', () => {
  const cli = { client_id: 'dramac-cli', token_endpoint_auth_method: 'none' } as oauth.Client;

  it('signs the CLI in once the user approves the code in a browser', async () => {
    const response = await oauth.deviceAuthorizationRequest(
      as,
      cli,
      oauth.None(),
      { scope: 'offline_access clients:read' },
      insecure,
    );
    const device = await oauth.processDeviceAuthorizationResponse(as, cli, response);
    expect(device.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    const poll = async () =>
      oauth.processDeviceCodeResponse(
        as,
        cli,
        await oauth.deviceCodeGrantRequest(as, cli, oauth.None(), device.device_code, insecure),
      );
    await expect(poll()).rejects.toMatchObject({ error: 'authorization_pending' });

    // The person, in a browser: enter the code, confirm it, sign in, consent.
    const agent = new UserAgent();
    let step = await agent.follow(device.verification_uri);
    const seen: string[] = [];
    for (let page = 0; page < 5; page += 1) {
      const html = step.visit.text;
      seen.push(html);
      if (html.includes('Device signed in')) break;
      const answer = html.includes('/login"')
        ? await agent.submit(step.url, html, { email: a.email, password: a.password }, '/login')
        : html.includes('/confirm"')
          ? await agent.submit(step.url, html, {}, '/confirm')
          : await agent.submit(step.url, html, { user_code: device.user_code });
      const location = answer.location;
      step = location ? await agent.follow(new URL(location, step.url)) : { visit: answer, url: step.url };
    }
    expect(seen.some((html) => html.includes(`<code>${device.user_code}</code>`))).toBe(true);
    expect(seen.at(-1)).toContain('The sign-in is complete');
    expect(seen.join('')).not.toContain('googleapis');

    const tokens = await poll();
    expect(tokens.refresh_token).toBeDefined();
    expect((await api(tokens.access_token)).status).toBe(200);
  });
});
