import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import { UUID } from '../http/pagination.js';
import { Problem } from '../http/problem.js';
import type { RateLimits } from '../http/rate-limits.js';
import type { Role, Scope } from '../http/operations.js';
import { ROLE_SCOPES } from '../platform/roles.js';
import { enterTenant } from '../db/tenant.js';
import { checkSignIn, type Account } from '../platform/sessions.js';
import { assertPasswordSignInAllowed } from '../platform/sso.js';
import { escape, PAGE_HEADERS, renderPage, STYLESHEET, STYLESHEET_PATH } from './pages.js';

function page(res: Response, status: number, title: string, body: string) {
  res.status(status).set(PAGE_HEADERS).type('html').send(renderPage(title, body));
}

const expired = (res: Response) =>
  page(res, 400, 'This sign-in has expired', '<p>Go back to the application and start again.</p>');

/** What the OpenID scopes an app may ask for let it do, as the consent page says it. */
const OIDC_SCOPES: Record<string, string> = {
  openid: 'Know which Dramac account you are.',
  email: 'See your email address.',
  profile: 'See your name.',
  offline_access: 'Keep this access while you are away (until you revoke it).',
};

function signInPage(res: Response, uid: string, clientName: string, error?: string, email = '') {
  page(
    res,
    error ? 401 : 200,
    'Sign in to Dramac',
    `<p>to continue to <strong>${escape(clientName)}</strong>.</p>` +
      (error ? `<p class="error" role="alert">${escape(error)}</p>` : '') +
      `<form method="post" action="/oauth/interaction/${escape(uid)}/login">` +
      `<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${escape(email)}">` +
      `<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>` +
      `<button type="submit">Sign in</button></form>` +
      `<form method="post" action="/oauth/interaction/${escape(uid)}/abort"><button type="submit">Cancel</button></form>`,
  );
}

const ACCOUNT = ['id', 'agency_id', 'email', 'name', 'role', 'client_id'];

const partition = <T>(items: T[], test: (item: T) => boolean): [T[], T[]] => [
  items.filter(test),
  items.filter((item) => !test(item)),
];

/**
 * The pages oidc-provider sends people to when it needs them: sign in with a Dramac account, then consent
 * to what an app asks for. An app gets only the scopes the user's role has; the page says which it won't get.
 */
export function interactionRoutes(options: {
  provider: Provider;
  knex: Knex;
  limits: RateLimits;
  publicUrl: string;
  scopeDescriptions: Record<string, string>;
}): Router {
  const { provider, knex, limits, publicUrl, scopeDescriptions } = options;
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '10kb' });

  const clientName = async (clientId: unknown) => {
    const client = typeof clientId === 'string' ? await provider.Client.find(clientId) : undefined;
    return client?.clientName ?? (typeof clientId === 'string' ? clientId : 'an application');
  };
  // An agency that enforces its own identity provider refuses passwords here as on POST /v1/sessions.
  const passwordRefusal = (opened: { id: string; agencyId: string }) =>
    knex.transaction(async (tx) => {
      await enterTenant(tx, { agencyId: opened.agencyId, clientId: null });
      const account = (await tx('users').where({ id: opened.id }).first(ACCOUNT)) as Account | undefined;
      if (!account) return 'The email or password is wrong.';
      try {
        await assertPasswordSignInAllowed(tx, account, publicUrl);
        return null;
      } catch (error) {
        if (error instanceof Problem && error.code === 'sso_required') return error.detail!;
        throw error;
      }
    });
  const agencyOf = async (clientId: unknown) => {
    if (typeof clientId !== 'string' || !UUID.test(clientId)) return undefined;
    const row = (await knex('oauth_clients').where({ id: clientId }).first('agency_id')) as
      { agency_id: string } | undefined;
    return row?.agency_id;
  };
  const publisherOf = async (clientId: unknown) => {
    const agencyId = await agencyOf(clientId);
    const agency = agencyId && ((await knex('agencies').where({ id: agencyId }).first('name')) as { name: string });
    return agency ? agency.name : 'Dramac';
  };
  const roleOf = async (accountId: string) =>
    ((await knex('users').where({ id: accountId }).first('role')) as { role: Role } | undefined)?.role;

  router.get(STYLESHEET_PATH, (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').type('css').send(STYLESHEET);
  });

  router.get('/oauth/interaction/:uid', async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    const name = await clientName(details.params.client_id);
    if (details.prompt.name === 'login') return signInPage(res, details.uid, name);

    const role = details.session ? await roleOf(details.session.accountId) : undefined;
    const requested = Object.values(
      (details.prompt.details.missingResourceScopes ?? {}) as Record<string, string[]>,
    ).flat();
    const identity = ((details.prompt.details.missingOIDCScope ?? []) as string[]).filter(
      (scope) => OIDC_SCOPES[scope],
    );
    const redirect = typeof details.params.redirect_uri === 'string' ? URL.parse(details.params.redirect_uri) : null;
    const allowed = new Set<string>(role ? ROLE_SCOPES[role] : []);
    const item = (scope: string) =>
      `<li${allowed.has(scope) ? '' : ' class="withheld"'}><code>${escape(scope)}</code> — ${escape(
        scopeDescriptions[scope] ?? scope,
      )}${allowed.has(scope) ? '' : ' <em>(not granted: your role does not have it)</em>'}</li>`;
    page(
      res,
      200,
      `Allow ${name}?`,
      `<p><strong>${escape(name)}</strong> asks to act for you on Dramac, to:</p>` +
        `<ul>${requested.map(item).join('')}${identity
          .map((scope) => `<li>${escape(OIDC_SCOPES[scope]!)}</li>`)
          .join('')}</ul>` +
        `<p>Registered by <strong>${escape(await publisherOf(details.params.client_id))}</strong>` +
        (redirect ? `; you will be sent back to <strong>${escape(redirect.host)}</strong>` : '') +
        '.</p>' +
        `<form method="post" action="/oauth/interaction/${escape(details.uid)}/confirm"><button type="submit">Allow</button></form>` +
        `<form method="post" action="/oauth/interaction/${escape(details.uid)}/abort"><button type="submit">Deny</button></form>`,
    );
  });

  router.post('/oauth/interaction/:uid/login', form, async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    const { email, password } = req.body as { email?: unknown; password?: unknown };
    const name = await clientName(details.params.client_id);
    if (typeof email !== 'string' || typeof password !== 'string' || !email || !password) {
      return signInPage(res, details.uid, name, 'Enter your email and password.');
    }
    // An app signs in people of the agency that registered it (the CLI, anyone's).
    const agencyId = await agencyOf(details.params.client_id);
    const opened = await checkSignIn(knex, limits, String(req.ip), {
      email,
      password,
      ...(agencyId && { agency_id: agencyId }),
    });
    if (!opened) return signInPage(res, details.uid, name, 'The email or password is wrong.', email);
    const refusal = await passwordRefusal(opened);
    if (refusal) return signInPage(res, details.uid, name, refusal, email);
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: opened.id } },
      { mergeWithLastSubmission: false },
    );
  });

  router.post('/oauth/interaction/:uid/confirm', form, async (req, res) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'consent' || !details.session) {
      return page(res, 400, 'Nothing to confirm', '<p>Start again from the application.</p>');
    }
    const { accountId } = details.session;
    const role = await roleOf(accountId);
    const allowed = new Set<Scope>(role ? ROLE_SCOPES[role] : []);
    const existing = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    if (details.grantId && !existing) return expired(res);
    const grant = existing ?? new provider.Grant({ accountId, clientId: details.params.client_id as string });
    const { missingOIDCScope, missingResourceScopes } = details.prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) {
      const [granted, withheld] = partition(scopes, (scope) => allowed.has(scope as Scope));
      grant.addResourceScope(resource, granted.join(' '));
      // Recorded as refused, so the app is not asked about them again and its tokens never carry them.
      grant.rejectResourceScope(resource, withheld.join(' '));
    }
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  });

  router.post('/oauth/interaction/:uid/abort', form, async (req, res) => {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'The user did not allow access.' },
      { mergeWithLastSubmission: false },
    );
  });

  // An expired or unknown interaction (its cookie gone, or another browser's link) and too many attempts
  // get a page that says what happened, never a stack trace.
  router.use('/oauth/interaction', (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (error instanceof errors.SessionNotFound || error instanceof errors.InvalidRequest) return expired(res);
    if (error instanceof Problem && error.status === 429) {
      res.set(error.headers);
      return page(res, 429, 'Too many attempts', `<p>${escape(error.detail ?? 'Try again later.')}</p>`);
    }
    next(error);
  });
  return router;
}
