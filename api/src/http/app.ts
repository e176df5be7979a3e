import { createHash, randomUUID } from 'node:crypto';
import compression from 'compression';
import express, { type Express } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { moduleDocs } from '../modules/docs.js';
import { interactionRoutes } from '../oauth/interactions.js';
import type { AuthorizationServer } from '../oauth/provider.js';
import { handlers } from '../platform/index.js';
import { corsOnErrors, preflight } from './cors.js';
import { bodyShape } from './body-shape.js';
import { frameHostsServeFramesOnly } from './frames.js';
import { BODY_LIMIT, PUBLISH_BODY_LIMIT } from './limits.js';
import { dispatcher } from './dispatch.js';
import { errorHandler } from './errors.js';
import { healthRoutes, type Lifecycle } from './health.js';
import { pages } from './pages.js';
import { cachePathPatterns } from './path-patterns.js';
import type { RateLimits } from './rate-limits.js';
import { listOperations, type OpenApiDocument } from './spec.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const MAY_NEED_REDACTING = /%|key|code|token|secret|pk_|sk_|ses_|ocs_/i;
/** Query parameters that carry credentials (publishable keys, OAuth codes and secrets). */
const SECRET_PARAMETERS = ['key', 'token', 'code', 'user_code', 'refresh_token', 'client_secret', 'code_verifier'];

/** A request URL fit for logs: the `key` parameter, and anything that looks like a credential, redacted. */
function loggedUrl(url: string): string {
  // Most query strings cannot hold a credential (nothing escaped, no `key`, no token prefix): skip parsing them.
  const query = url.indexOf('?');
  if (query === -1 || !MAY_NEED_REDACTING.test(url.slice(query))) return url;
  const parsed = new URL(url, 'http://log.invalid');
  if (!parsed.search) return url;
  for (const [name, value] of [...parsed.searchParams]) {
    if (SECRET_PARAMETERS.includes(name.toLowerCase()) || /^(pk|sk|ses|ocs)_/.test(value)) {
      parsed.searchParams.set(name, '[redacted]');
    }
  }
  return `${parsed.pathname}${parsed.search.replace(/%5Bredacted%5D/g, '[redacted]')}`;
}

export interface AppOptions {
  knex: Knex;
  spec: OpenApiDocument;
  logger: Logger;
  publicUrl: string;
  /** See Config.allowLocalHooks. */
  allowLocalHooks: boolean;
  /** See Config.frameUrl. */
  frameUrl: string | null;
  /** Check every response against the spec too (on in tests: a drifting response fails loudly). */
  validateResponses: boolean;
  limits: RateLimits;
  /** The OAuth authorization server (api/src/oauth). */
  oauth: AuthorizationServer;
  /** See Config.secretKey. */
  secretKey: string;
  demoKey?: string | null;
}

/** What each scope allows, as the spec's `oauth2` scheme says: the consent page shows it. */
function scopeDescriptions(spec: OpenApiDocument): Record<string, string> {
  const scheme = spec.components?.securitySchemes?.oauth2 as
    { flows: { clientCredentials: { scopes: Record<string, string> } } } | undefined;
  return scheme?.flows.clientCredentials.scopes ?? {};
}

export function createApp(options: AppOptions): { app: Express; lifecycle: Lifecycle } {
  const { knex, spec } = options;
  const operations = listOperations(spec);
  const lifecycle: Lifecycle = { draining: false };
  const health = healthRoutes(knex, options.limits, lifecycle);
  const app = express();
  app.disable('x-powered-by');
  cachePathPatterns(); // for the validator below

  app.use(
    pinoHttp({
      logger: options.logger,
      // One short line per request: what was asked, and the outcome. Headers (and credentials) stay out.
      // They read the raw request and response: pino-http's wrapping would first copy every header for them.
      wrapSerializers: false,
      serializers: {
        req: (req: { id: unknown; method: string; url: string; originalUrl?: string }) => ({
          id: req.id,
          method: req.method,
          url: loggedUrl(req.originalUrl ?? req.url),
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      genReqId(req, res) {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
    }),
  );
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'strict-origin-when-cross-origin' });
    next();
  });
  if (options.frameUrl) app.use(frameHostsServeFramesOnly(options.frameUrl));
  // What a site's pages download — the embed script, the shared runtime, module bundles — goes compressed.
  app.use(['/v1/embed', '/v1/runtime', '/v1/bundles'], compression());
  const modules = moduleDocs(knex, options.publicUrl);
  app.use(
    pages({
      spec,
      publicUrl: options.publicUrl,
      frameUrl: options.frameUrl,
      demoKey: options.demoKey ?? null,
      moduleSources: modules.sources,
    }),
  );
  app.use(modules.router);
  // The authorization server parses its own bodies: before the JSON parser and the API's validator.
  app.use(
    interactionRoutes({
      provider: options.oauth.provider,
      knex,
      limits: options.limits,
      publicUrl: options.publicUrl,
      scopeDescriptions: scopeDescriptions(spec),
    }),
  );
  app.use(options.oauth.middleware);
  app.options('/{*path}', preflight(knex, operations, options.frameUrl));
  const json = ['application/json', 'application/*+json'];
  // Publishing carries a module's bundle (the files' own limits are checked with the manifest).
  app.post('/v1/modules', express.json({ limit: PUBLISH_BODY_LIMIT, type: json }));
  app.use(express.json({ limit: BODY_LIMIT, type: json }));
  app.use(bodyShape);
  app.use(contractValidation(spec, options.validateResponses));
  app.get('/healthz', health.getHealth);
  app.get('/readyz', health.getReadiness);
  app.use(
    dispatcher({
      knex,
      operations,
      handlers,
      platformOrigin: options.publicUrl,
      frameOrigin: options.frameUrl,
      allowLocalHooks: options.allowLocalHooks,
      limits: options.limits,
      verifyAccessToken: options.oauth.verifyAccessToken,
      secretKey: options.secretKey,
    }),
  );
  app.use(corsOnErrors(knex, operations, options.frameUrl));
  app.use(errorHandler);
  return { app, lifecycle };
}

type ValidatorHandlers = ReturnType<typeof OpenApiValidator.middleware>;
const validators = new Map<string, ValidatorHandlers>();

/**
 * Requests (and, in tests, responses) checked against the contract. express-openapi-validator preprocesses
 * the whole document, then compiles a route's schemas on its first request: half a second of every start, and
 * more per route, for each of the dozens of platforms a test run starts in one process. Their documents differ
 * only in the security schemes (the OAuth flows' absolute URLs), which are not checked here, so a process
 * makes the validators once per document less those, and its apps share them.
 */
function contractValidation(spec: OpenApiDocument, validateResponses: boolean): ValidatorHandlers {
  const checked = { ...spec, components: { ...spec.components, securitySchemes: undefined } };
  const key = `${validateResponses} ${createHash('sha256').update(JSON.stringify(checked)).digest('base64')}`;
  let made = validators.get(key);
  if (!made) {
    made = OpenApiValidator.middleware({
      // It writes into the document it is given.
      apiSpec: structuredClone(spec) as never,
      validateRequests: { allowUnknownQueryParameters: false },
      validateResponses,
      validateSecurity: false,
      validateFormats: true,
    });
    validators.set(key, made);
  }
  return made;
}
