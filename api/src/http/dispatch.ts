import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Request, RequestHandler, Response } from 'express';
import type { OpenApiRequest } from 'express-openapi-validator/dist/framework/types.js';
import type { Knex } from 'knex';
import { enterTenant, NO_TENANT, type Tenant } from '../db/tenant.js';
import { authenticate, type AccessTokenVerifier } from './auth.js';
import { authorize } from './authorize.js';
import { answeredBefore, claimKey, rememberResponse } from './idempotency.js';
import {
  ANONYMOUS,
  type Context,
  type Handlers,
  type InTenant,
  type OperationId,
  type PrepareInput,
  type Principal,
} from './operations.js';
import { allowOrigin, requestOrigin } from './origins.js';
import { badRequest, forbidden, Problem } from './problem.js';
import type { RateLimits } from './rate-limits.js';
import type { OperationInfo } from './spec.js';

interface Outcome {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  file?: { type: string; content: Buffer };
  stream?: { type: string; pieces: (inTenant: InTenant) => AsyncIterable<string> };
  replayed?: boolean;
}

/**
 * Dates from the database become the ISO strings the spec promises before the response is validated
 * and sent (the validator checks values, not their JSON form).
 */
function toJsonValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  // A plain loop: it runs over every row of every response, and entries/fromEntries allocate per key.
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = toJsonValue((value as Record<string, unknown>)[key]);
  return copy;
}

const usesPublishableKey = (operation: OperationInfo) => operation.security.some((r) => 'publishableKey' in r);
const usesBearer = (operation: OperationInfo) => operation.security.some((r) => 'bearer' in r || 'oauth2' in r);

/**
 * Runs the operation the validator matched: one transaction per request — authentication, tenant,
 * idempotency, the handler — committed before the response is sent, so a client never sees a success
 * that did not persist.
 */
export function dispatcher(options: {
  knex: Knex;
  operations: OperationInfo[];
  handlers: Partial<Handlers>;
  platformOrigin: string;
  /** See Config.frameUrl. */
  frameOrigin: string | null;
  allowLocalHooks: boolean;
  limits: RateLimits;
  verifyAccessToken: AccessTokenVerifier;
  /** See Config.secretKey. */
  secretKey: string;
}): RequestHandler {
  const byId = new Map(options.operations.map((operation) => [operation.id, operation]));

  return async (req: Request, res: Response) => {
    const matched = (req as OpenApiRequest).openapi;
    const operation = byId.get(matched?.schema.operationId ?? '');
    const handler = operation && (options.handlers[operation.id as OperationId] as Handlers[OperationId] | undefined);
    if (!operation || !handler) throw new Problem(501, 'not_implemented', 'Not implemented');

    // Other sites' pages may call with a publishable key only; bearer credentials are for servers and the
    // platform's own pages, even on operations that take either.
    const origin = requestOrigin(req, options.platformOrigin);
    const bearer = Boolean(req.get('authorization')) && usesBearer(operation);
    const publicCall = operation.anyOrigin || (usesPublishableKey(operation) && !bearer);
    if (origin && !publicCall && origin !== options.platformOrigin) {
      throw forbidden('origin_not_allowed', `Requests from ${origin} may use publishable keys only.`);
    }
    // body-parser reads an empty JSON body as `{}`, which a schema without required fields would accept.
    if (operation.body?.required && req.get('content-length') === '0') {
      throw badRequest('malformed_json', 'The body is empty: send a JSON object.');
    }
    // The validator lets unknown parameters through beside a deepObject one (`filter[…]`); refuse them here.
    const unknown = operation.openQuery
      ? undefined
      : Object.keys(req.query).find((name) => !operation.queryNames.has(name));
    if (unknown !== undefined) {
      throw badRequest('validation_failed', `Unknown query parameter '${unknown}'.`, [
        { path: `/query/${unknown}`, message: 'is not a parameter of this operation' },
      ]);
    }
    const idempotencyKey = operation.idempotent ? req.get('idempotency-key') : undefined;
    /** Who calls, and whether they may: the credential and its scopes, then the module permission needed. */
    const admit = async (tx: Knex.Transaction): Promise<Principal> => {
      const principal = await authenticate(
        tx,
        req,
        operation.security,
        origin,
        options.frameOrigin,
        options.verifyAccessToken,
      );
      await authorize(tx, operation, principal, { params: matched?.pathParams ?? {}, query: req.query });
      return principal;
    };
    const prepare = handler.prepare as ((input: PrepareInput<OperationId>) => Promise<unknown>) | undefined;
    // Slow preparation (a password hash, a vendor's hook) is for callers who may make the call, and not for
    // a replay: check the credential and the idempotency key first.
    const early =
      prepare &&
      (await options.knex.transaction(async (tx) => {
        let principal = ANONYMOUS;
        if (operation.security.length > 0) principal = await admit(tx);
        else await enterTenant(tx, NO_TENANT);
        const replay = idempotencyKey
          ? await answeredBefore(tx, principal, idempotencyKey, { method: req.method, path: req.path, body: req.body })
          : false;
        return { principal, replay };
      }));
    const caller = early ? early.principal : ANONYMOUS;
    /** Short transactions in a tenant, for work too long for the request's one (see InTenant). */
    const inTenantOf =
      (tenant: Tenant): InTenant =>
      (work) =>
        options.knex.transaction(async (tx) => {
          await enterTenant(tx, tenant);
          return work(tx);
        });
    const prepared =
      prepare && !early?.replay
        ? await prepare({
            body: req.body as never,
            params: (matched?.pathParams ?? {}) as never,
            principal: caller,
            allowLocalHooks: options.allowLocalHooks,
            knex: options.knex,
            inTenant: inTenantOf({ agencyId: caller.agencyId, clientId: caller.clientId }),
            request: req,
            limits: options.limits,
            secretKey: options.secretKey,
          })
        : undefined;

    const effects: (() => void)[] = [];
    let tenant: Tenant = NO_TENANT;
    const outcome = await options.knex.transaction(async (tx): Promise<Outcome> => {
      let principal: Principal = ANONYMOUS;
      if (operation.security.length > 0) principal = await admit(tx);
      else await enterTenant(tx, NO_TENANT);
      // From here on the origin is known to be allowed: errors may be read by the page too.
      if (origin && principal.kind === 'publishable') res.locals.allowedOrigin = origin;
      tenant = { agencyId: principal.agencyId, clientId: principal.clientId };

      const claim = idempotencyKey
        ? await claimKey(tx, principal, idempotencyKey, { method: req.method, path: req.path, body: req.body })
        : undefined;
      if (claim && 'status' in claim) return { ...claim, replayed: true };

      const context: Context<OperationId> = {
        tx,
        principal,
        get agencyId() {
          if (!principal.agencyId) throw new Error(`${operation.id} needs a tenant but runs anonymously`);
          return principal.agencyId;
        },
        params: (matched?.pathParams ?? {}) as never,
        query: req.query as never,
        body: req.body as never,
        request: req,
        async enterTenant(next) {
          if (principal.kind !== 'anonymous') throw new Error(`${operation.id} may not change its tenant`);
          await enterTenant(tx, next);
        },
        prepared,
        publicUrl: options.platformOrigin,
        frameUrl: options.frameOrigin,
        allowLocalHooks: options.allowLocalHooks,
        secretKey: options.secretKey,
        afterCommit: (effect) => effects.push(effect),
      };
      const reply: Outcome = await handler(context as never);
      const body = toJsonValue(reply.body);
      if (claim) {
        await enterTenant(tx, tenant);
        await rememberResponse(tx, claim, reply.status, body);
      }
      return { ...reply, body };
    });

    for (const effect of effects) {
      try {
        effect();
      } catch (error) {
        req.log.error({ err: error }, 'an effect after commit failed');
      }
    }
    if (res.locals.allowedOrigin) allowOrigin(res, origin!);
    if (outcome.replayed) res.set('Idempotent-Replayed', 'true');
    if (outcome.headers) res.set(outcome.headers);
    if (outcome.stream) {
      const pieces = outcome.stream.pieces(inTenantOf(tenant))[Symbol.asyncIterator]();
      // A failure before the first piece is an ordinary error response; past it the status is sent, and a
      // failure can only end the response early (and is logged).
      const first = await pieces.next();
      res.status(outcome.status).type(outcome.stream.type);
      const all = async function* () {
        for (let piece = first; !piece.done; piece = await pieces.next()) yield piece.value;
      };
      await pipeline(Readable.from(all()), res).catch((error: unknown) => {
        req.log.error({ err: error }, 'a streamed response failed');
        res.destroy();
      });
    } else if (outcome.file) res.status(outcome.status).type(outcome.file.type).send(outcome.file.content);
    else if (outcome.body === undefined || outcome.body === null) res.status(outcome.status).end();
    else res.status(outcome.status).json(outcome.body);
  };
}
