/**
 * Single sign-on, end to end: a second, real OpenID provider (oidc-provider) runs in this process as the
 * agency's identity provider, and a small cookie-keeping fetch plays the browser through every redirect.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_SECRET_KEY } from '../src/config.js';
import { unseal } from '../src/platform/sealed.js';
import { hashToken } from '../src/platform/secrets.js';
import { fetchBrowser } from './support/fetch-browser.js';
import { signInAtIdentityProvider, startIdentityProvider, type IdentityProvider } from './support/idp.js';
import { UserAgent } from './support/user-agent.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

const CLIENT_ID = 'dramac-acme';
const CLIENT_SECRET = 'acme-registered-this-client-secret-x7Qz';

let platform: TestPlatform;
let idp: IdentityProvider;
let acme: Awaited<ReturnType<TestPlatform['signUp']>>;
let other: Awaited<ReturnType<TestPlatform['signUp']>>;

beforeAll(async () => {
  // Reachable at its PUBLIC_URL, so the provider's redirects back to the platform really arrive.
  platform = await startTestPlatform({ browser: true });
  idp = await startIdentityProvider({
    clients: [
      { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${platform.url}/v1/sso/callback`] },
    ],
    accounts: {
      alice: { email: 'Alice@acme.test', email_verified: true, name: 'Alice Admin' },
      bob: { email: 'bob@acme.test', email_verified: true, name: 'Bob New' },
      carol: { email: 'carol@elsewhere.test', email_verified: true },
      dave: { email: 'dave@acme.test', email_verified: false },
      erin: { email: 'erin@acme.test', email_verified: true },
    },
  });
  acme = await platform.signUp('Acme');
  other = await platform.signUp('Other');
});
afterAll(async () => {
  await idp?.close();
  await platform?.close();
});

const ssoPath = (agencyId: string) => `/v1/agencies/${agencyId}/sso`;

/** Configures Acme's provider: the test IdP, acme.test only, no accounts made at first sign-in. */
async function configure(settings: Record<string, unknown> = {}) {
  const reply = await platform.request('PUT', ssoPath(acme.agencyId), {
    token: acme.token,
    body: {
      issuer: idp.issuer,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      allowed_domains: ['acme.test'],
      ...settings,
    },
  });
  expect([200, 201], reply.text).toContain(reply.status);
  return reply;
}

async function addUser(email: string, role: string) {
  const reply = await platform.request('POST', '/v1/users', {
    token: acme.token,
    body: { email, name: email, role, password: 'a long enough password' },
  });
  expect(reply.status, reply.text).toBe(201);
  return reply.body.id as string;
}

const userByEmail = (email: string) =>
  platform.db.knex('users').where({ agency_id: acme.agencyId }).whereRaw('lower(email) = lower(?)', [email]).first();

/** Starts at Acme's start URL and goes through the provider's pages up to (not into) the callback. */
async function throughProvider(login: string, options: { returnTo?: string; cancel?: boolean } = {}) {
  const browser = fetchBrowser();
  const query = options.returnTo ? `?return_to=${encodeURIComponent(options.returnTo)}` : '';
  const start = await browser.get(`${platform.url}/v1/sso/${acme.agencyId}/start${query}`);
  expect(start.status, start.text).toBe(302);
  const authorization = new URL(start.location!);
  const state = authorization.searchParams.get('state')!;
  const callbackUrl = await signInAtIdentityProvider(browser, idp, start.location!, login, options);
  expect(callbackUrl.startsWith(`${platform.url}/v1/sso/callback?`)).toBe(true);
  return { browser, authorization, state, callbackUrl };
}

/** The whole sign-in; the callback's answer. */
async function signInThroughSso(login: string, options: { returnTo?: string; cancel?: boolean } = {}) {
  const { browser, callbackUrl } = await throughProvider(login, options);
  return browser.get(callbackUrl);
}

const sessionIn = (location: string | null) => new URLSearchParams(new URL(location!).hash.slice(1)).get('session');

async function sessionUser(token: string) {
  const session = await platform.db
    .knex('sessions')
    .where({ hash: hashToken(token) })
    .first('user_id', 'agency_id');
  return session as { user_id: string; agency_id: string };
}

describe('the SSO configuration', () => {
  it('is created and replaced by an admin, and shows only a hint of the client secret', async () => {
    await platform.request('DELETE', ssoPath(acme.agencyId), { token: acme.token });
    const created = await configure({ provision_users: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      agency_id: acme.agencyId,
      issuer: idp.issuer,
      client_id: CLIENT_ID,
      client_secret_hint: `…${CLIENT_SECRET.slice(-4)}`,
      allowed_domains: ['acme.test'],
      provision_users: true,
      provision_role: 'agency_member',
      enabled: true,
      enforced: false,
      redirect_uri: `${platform.url}/v1/sso/callback`,
      start_url: `${platform.url}/v1/sso/${acme.agencyId}/start`,
    });
    expect(created.text).not.toContain(CLIENT_SECRET);

    // Replaced without a secret: the stored one stays.
    const replaced = await platform.request('PUT', ssoPath(acme.agencyId), {
      token: acme.token,
      body: { issuer: idp.issuer, client_id: CLIENT_ID, allowed_domains: ['ACME.test', 'acme.example'] },
    });
    expect(replaced.status, replaced.text).toBe(200);
    expect(replaced.body.allowed_domains).toEqual(['acme.test', 'acme.example']);
    expect(replaced.body.provision_users).toBe(false);
    expect(replaced.body.client_secret_hint).toBe(created.body.client_secret_hint);
    const read = await platform.request('GET', ssoPath(acme.agencyId), { token: acme.token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(replaced.body);
    expect(read.body).not.toHaveProperty('client_secret');
  });

  it('needs a client secret the first time', async () => {
    await platform.request('DELETE', ssoPath(acme.agencyId), { token: acme.token });
    const reply = await platform.request('PUT', ssoPath(acme.agencyId), {
      token: acme.token,
      body: { issuer: idp.issuer, client_id: CLIENT_ID, allowed_domains: ['acme.test'] },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.code).toBe('client_secret_required');
  });

  it('keeps the client secret encrypted, bound to its agency', async () => {
    await configure();
    const row = await platform.db.knex('sso_configurations').where({ agency_id: acme.agencyId }).first();
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(CLIENT_SECRET);
    expect(stored).not.toContain(Buffer.from(CLIENT_SECRET).toString('base64'));
    expect(row.client_secret_sealed).toMatch(/^v1\./);
    const open = (agencyId: string) =>
      unseal(DEVELOPMENT_SECRET_KEY, 'sso-client-secret', agencyId, row.client_secret_sealed);
    expect(open(acme.agencyId)).toBe(CLIENT_SECRET);
    // Copied into another agency's row, it does not open.
    expect(open(other.agencyId)).toBeNull();
  });

  it('refuses an issuer that cannot be reached or is not an OpenID provider', async () => {
    const put = (issuer: string) =>
      platform.request('PUT', ssoPath(acme.agencyId), {
        token: acme.token,
        body: { issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, allowed_domains: ['acme.test'] },
      });
    const closed = await startIdentityProvider({ clients: [] });
    await closed.close();
    const unreachable = await put(closed.issuer);
    expect(unreachable.status).toBe(422);
    expect(unreachable.body.code).toBe('issuer_unreachable');
    expect(unreachable.body.errors[0].path).toBe('/body/issuer');
    // The platform answers, but with no discovery document there (its own is at its root).
    const invalid = await put(`${platform.url}/docs`);
    expect(invalid.status).toBe(422);
    expect(invalid.body.code).toBe('issuer_invalid');
    // The provider's document, reached under another name than the issuer it states.
    const mismatched = await put(idp.issuer.replace('localhost', '127.0.0.1'));
    expect(mismatched.status).toBe(422);
    expect(mismatched.body.code).toBe('issuer_invalid');
  });

  it('refuses plain HTTP and local issuers unless HOOKS_ALLOW_LOCAL allows them', async () => {
    const strict = await startTestPlatform({ env: { HOOKS_ALLOW_LOCAL: 'false' } });
    try {
      const owner = await strict.signUp('Strict');
      for (const issuer of [idp.issuer, 'https://127.0.0.1:9/', 'https://localhost:9/']) {
        const reply = await strict.request('PUT', ssoPath(owner.agencyId), {
          token: owner.token,
          body: { issuer, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, allowed_domains: ['acme.test'] },
        });
        expect(reply.status, issuer).toBe(422);
        expect(['issuer_not_allowed', 'issuer_unreachable']).toContain(reply.body.code);
      }
    } finally {
      await strict.close();
    }
  });

  it('is invisible to another agency, readable by members, and changed by owners only', async () => {
    await configure();
    for (const method of ['GET', 'DELETE']) {
      const reply = await platform.request(method, ssoPath(acme.agencyId), { token: other.token });
      expect(reply.status, method).toBe(404);
    }
    const put = await platform.request('PUT', ssoPath(acme.agencyId), {
      token: other.token,
      body: { issuer: idp.issuer, client_id: 'x', client_secret: 'y', allowed_domains: ['other.test'] },
    });
    expect(put.status).toBe(404);
    expect((await platform.request('GET', ssoPath(other.agencyId), { token: other.token })).status).toBe(404);
    expect((await platform.request('GET', ssoPath(acme.agencyId), { token: acme.token })).body.client_id).toBe(
      CLIENT_ID,
    );

    const memberEmail = 'member@acme.test';
    await addUser(memberEmail, 'agency_member');
    const member = await platform.signIn(memberEmail, 'a long enough password', acme.agencyId);
    expect((await platform.request('GET', ssoPath(acme.agencyId), { token: member })).status).toBe(200);
    const refused = await platform.request('DELETE', ssoPath(acme.agencyId), { token: member });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('insufficient_scope');

    // Nor to admins: the provider could open an owner's account, which an admin may not.
    const adminEmail = 'admin@acme.test';
    await addUser(adminEmail, 'agency_admin');
    const admin = await platform.signIn(adminEmail, 'a long enough password', acme.agencyId);
    const byAdmin = await platform.request('PUT', ssoPath(acme.agencyId), {
      token: admin,
      body: {
        issuer: idp.issuer,
        client_id: CLIENT_ID,
        allowed_domains: ['acme.test'],
        provision_role: 'agency_admin',
      },
    });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.detail).toContain('agency:delete');
  });
});

describe('signing in through the identity provider', () => {
  it('goes from the start URL through the provider to a session for the existing account, which keeps its role', async () => {
    await configure({ provision_users: true, provision_role: 'agency_member' });
    const aliceId = await addUser('alice@acme.test', 'agency_admin');
    const { authorization, browser, callbackUrl } = await throughProvider('alice', { returnTo: '/docs?tab=sso' });

    expect(`${authorization.origin}${authorization.pathname}`).toBe(`${idp.issuer}/auth`);
    expect(Object.fromEntries(authorization.searchParams)).toMatchObject({
      client_id: CLIENT_ID,
      redirect_uri: `${platform.url}/v1/sso/callback`,
      response_type: 'code',
      scope: 'openid email profile',
      code_challenge_method: 'S256',
    });
    for (const name of ['state', 'nonce', 'code_challenge']) {
      expect(authorization.searchParams.get(name)!.length).toBeGreaterThanOrEqual(43);
    }
    expect(browser.cookies(platform.url).get('dramac_sso')).toBe(authorization.searchParams.get('state'));

    const callback = await browser.get(callbackUrl);
    expect(callback.status, callback.text).toBe(302);
    expect(callback.location!.startsWith(`${platform.url}/docs?tab=sso#session=ses_`)).toBe(true);
    expect(browser.cookies(platform.url).has('dramac_sso')).toBe(false);
    const token = sessionIn(callback.location)!;

    expect((await sessionUser(token)).user_id).toBe(aliceId);
    const agencies = await platform.request('GET', '/v1/agencies', { token });
    expect(agencies.status).toBe(200);
    expect(agencies.body.data.map((agency: { id: string }) => agency.id)).toEqual([acme.agencyId]);
    // Still an admin, not the role new accounts get: admins make keys, members may not.
    const keys = await platform.request('POST', '/v1/keys', {
      token,
      body: { type: 'secret', name: 'by alice', scopes: ['sites:read'] },
    });
    expect(keys.status, keys.text).toBe(201);
    expect((await userByEmail('alice@acme.test')).role).toBe('agency_admin');
  });

  it('makes an account at first sign-in, with the configured role, when the configuration says so', async () => {
    await configure({ provision_users: false });
    const refused = await signInThroughSso('bob');
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text).code).toBe('account_not_found');
    expect(await userByEmail('bob@acme.test')).toBeUndefined();

    await configure({ provision_users: true, provision_role: 'agency_admin' });
    const callback = await signInThroughSso('bob');
    expect(callback.status, callback.text).toBe(302);
    // No return_to: the platform's home page.
    expect(callback.location!.startsWith(`${platform.url}/#session=ses_`)).toBe(true);
    const bob = await userByEmail('bob@acme.test');
    expect(bob).toMatchObject({ name: 'Bob New', role: 'agency_admin', client_id: null, password_hash: null });
    expect((await sessionUser(sessionIn(callback.location)!)).user_id).toBe(bob.id);

    // The second time, the same account.
    const again = await signInThroughSso('bob');
    expect((await sessionUser(sessionIn(again.location)!)).user_id).toBe(bob.id);
  });

  it('refuses an email outside the allowed domains, and one the provider has not verified', async () => {
    await configure({ provision_users: true });
    const outside = await signInThroughSso('carol');
    expect(outside.status).toBe(403);
    expect(JSON.parse(outside.text).code).toBe('email_domain_not_allowed');
    expect(await userByEmail('carol@elsewhere.test')).toBeUndefined();

    const unverified = await signInThroughSso('dave');
    expect(unverified.status).toBe(403);
    expect(JSON.parse(unverified.text).code).toBe('email_not_verified');
    expect(await userByEmail('dave@acme.test')).toBeUndefined();
  });

  it('refuses a state that does not match, one from another browser, and one used before', async () => {
    await configure({ provision_users: true });
    const { browser, callbackUrl, state } = await throughProvider('erin');

    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', `${state.slice(0, -2)}xx`);
    const mismatch = await browser.get(forged.toString());
    expect(mismatch.status).toBe(400);
    expect(JSON.parse(mismatch.text).code).toBe('sso_state_invalid');

    // The right URL, opened in a browser that did not start the sign-in (login CSRF).
    const elsewhere = await fetchBrowser().get(callbackUrl);
    expect(elsewhere.status).toBe(400);
    expect(JSON.parse(elsewhere.text).code).toBe('sso_state_invalid');

    const first = await browser.get(callbackUrl);
    expect(first.status, first.text).toBe(302);
    // Replayed, cookie and all: the attempt was used up.
    const path = callbackUrl.slice(platform.url.length);
    const replay = await platform.request('GET', path, { headers: { cookie: `dramac_sso=${state}` } });
    expect(replay.status).toBe(400);
    expect(replay.body.code).toBe('sso_state_invalid');
  });

  it('keeps an attempt for ten minutes, then refuses it and sweeps it away', async () => {
    await configure({ provision_users: true });
    const { browser, callbackUrl, state } = await throughProvider('erin');
    const attempt = platform.db.knex('sso_attempts').where({ state_hash: hashToken(state) });
    const { rows } = await platform.db.knex.raw(
      'SELECT extract(epoch FROM expires_at - now()) AS seconds FROM sso_attempts WHERE state_hash = ?',
      [hashToken(state)],
    );
    expect(Number(rows[0].seconds)).toBeGreaterThan(590);
    expect(Number(rows[0].seconds)).toBeLessThanOrEqual(600);

    await attempt.clone().update({ expires_at: platform.db.knex.raw(`now() - interval '1 second'`) });
    const late = await browser.get(callbackUrl);
    expect(late.status).toBe(400);
    expect(JSON.parse(late.text).code).toBe('sso_state_invalid');
    // The agency's next start clears it out.
    expect(await attempt.clone().first()).toBeDefined();
    expect((await fetchBrowser().get(`${platform.url}/v1/sso/${acme.agencyId}/start`)).status).toBe(302);
    expect(await attempt.clone().first()).toBeUndefined();
  });

  it('refuses an ID token whose nonce is not the attempt’s', async () => {
    await configure({ provision_users: true });
    const { browser, callbackUrl, state } = await throughProvider('erin');
    const tampered = await platform.db
      .knex('sso_attempts')
      .where({ state_hash: hashToken(state) })
      .update({ nonce: 'not-the-nonce-the-provider-was-given' });
    expect(tampered).toBe(1);
    const callback = await browser.get(callbackUrl);
    expect(callback.status).toBe(400);
    const problem = JSON.parse(callback.text);
    expect(problem.code).toBe('sso_response_invalid');
    expect(problem.detail).toMatch(/nonce/);
  });

  it('passes on a refusal from the provider as 403', async () => {
    await configure({ provision_users: true });
    const callback = await signInThroughSso('erin', { cancel: true });
    expect(callback.status, callback.text).toBe(403);
    const problem = JSON.parse(callback.text);
    expect(problem.code).toBe('sso_denied');
    expect(problem.detail).toContain('access_denied');
  });

  it('says so when the provider refuses the client credentials', async () => {
    await configure({ provision_users: true, client_secret: 'not-the-secret-the-provider-knows' });
    const callback = await signInThroughSso('erin');
    expect(callback.status).toBe(502);
    expect(JSON.parse(callback.text).code).toBe('idp_misconfigured');
  });

  it('never sends the browser to another origin', async () => {
    await configure();
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)']) {
      const reply = await platform.request(
        'GET',
        `/v1/sso/${acme.agencyId}/start?return_to=${encodeURIComponent(returnTo)}`,
      );
      expect(reply.status, returnTo).toBe(400);
      expect(reply.body.code, reply.text).toBe('return_to_not_allowed');
      expect(reply.headers.get('location')).toBeNull();
    }
    const own = await fetchBrowser().get(
      `${platform.url}/v1/sso/${acme.agencyId}/start?return_to=${encodeURIComponent(`${platform.url}/x`)}`,
    );
    expect(own.status, own.text).toBe(302);
    expect(own.location!.startsWith(`${idp.issuer}/auth?`)).toBe(true);
  });

  it('reads the email from the ID token when the provider puts it there', async () => {
    const generous = await startIdentityProvider({
      clients: [
        { client_id: 'generous', client_secret: CLIENT_SECRET, redirect_uris: [`${platform.url}/v1/sso/callback`] },
      ],
      accounts: { erin: { email: 'erin@acme.test', email_verified: true } },
      configuration: { conformIdTokenClaims: false },
    });
    try {
      await configure({ issuer: generous.issuer, client_id: 'generous', provision_users: true });
      const browser = fetchBrowser();
      const start = await browser.get(`${platform.url}/v1/sso/${acme.agencyId}/start`);
      const callbackUrl = await signInAtIdentityProvider(browser, generous, start.location!, 'erin');
      const callback = await browser.get(callbackUrl);
      expect(callback.status, callback.text).toBe(302);
      const erin = await userByEmail('erin@acme.test');
      expect((await sessionUser(sessionIn(callback.location)!)).user_id).toBe(erin.id);
    } finally {
      await generous.close();
    }
  });

  it('is not offered while disabled, nor once removed', async () => {
    await configure({ enabled: false });
    const disabled = await platform.request('GET', `/v1/sso/${acme.agencyId}/start`);
    expect(disabled.status).toBe(404);
    await configure();
    expect((await platform.request('DELETE', ssoPath(acme.agencyId), { token: acme.token })).status).toBe(204);
    expect((await platform.request('GET', `/v1/sso/${acme.agencyId}/start`)).status).toBe(404);
    expect((await platform.request('GET', `/v1/sso/${other.agencyId}/start`)).status).toBe(404);
  });
});

describe('enforced single sign-on', () => {
  it('refuses password sign-in to accounts in the allowed domains, pointing at the start URL', async () => {
    const email = 'frank@acme.test';
    await addUser(email, 'agency_member');
    await configure({ enforced: true });
    const refused = await platform.request('POST', '/v1/sessions', {
      body: { email, password: 'a long enough password', agency_id: acme.agencyId },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('sso_required');
    expect(refused.body.detail).toContain(`${platform.url}/v1/sso/${acme.agencyId}/start`);
    // A wrong password learns nothing of it.
    const wrong = await platform.request('POST', '/v1/sessions', {
      body: { email, password: 'not the password', agency_id: acme.agencyId },
    });
    expect(wrong.status).toBe(401);
    // The owner's email is outside the domains: their password still works (a way in if the provider fails).
    expect(await platform.signIn(acme.email, acme.password, acme.agencyId)).toMatch(/^ses_/);

    // Nor does the password open the OAuth sign-in page an app sends people to.
    const app = await platform.request('POST', '/v1/oauth-clients', {
      token: acme.token,
      body: { type: 'app', name: 'App', scopes: ['clients:read'], redirect_uris: ['http://localhost:7777/cb'] },
    });
    const authorize = new URL(`${platform.url}/oauth/auth`);
    authorize.search = new URLSearchParams({
      client_id: app.body.id,
      redirect_uri: 'http://localhost:7777/cb',
      response_type: 'code',
      scope: 'clients:read',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const agent = new UserAgent();
    const signIn = await agent.follow(authorize);
    const answer = await agent.submit(
      signIn.url,
      signIn.visit.text,
      { email, password: 'a long enough password' },
      '/login',
    );
    expect(answer.status).toBe(401);
    expect(answer.text).toContain(`/v1/sso/${acme.agencyId}/start`);

    await configure({ enforced: false });
    expect(await platform.signIn(email, 'a long enough password', acme.agencyId)).toMatch(/^ses_/);
  });
});
