import type { Request } from 'express';
import type { Knex } from 'knex';
import type { components, operations } from '@dramac/openapi/types';
import type { Tenant } from '../db/tenant.js';
import type { RateLimits } from './rate-limits.js';

/** Types derived from the generated contract: a handler cannot take or return what the spec does not say. */
export type OperationId = keyof operations;
export type Schemas = components['schemas'];
export type Scope = Schemas['Scope'];
export type Role = Schemas['Role'];

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : undefined;
type Parameters<O extends OperationId> = operations[O]['parameters'];
export type PathOf<O extends OperationId> = NonNullable<Parameters<O>['path']>;
export type QueryOf<O extends OperationId> = NonNullable<Parameters<O>['query']>;
export type BodyOf<O extends OperationId> = operations[O] extends { requestBody: infer R }
  ? Json<R>
  : operations[O] extends { requestBody?: infer R }
    ? Json<NonNullable<R>> | undefined
    : undefined;

type SuccessStatus<O extends OperationId> = Extract<
  keyof operations[O]['responses'],
  200 | 201 | 202 | 204 | 302 | 304
>;
/**
 * Runs `work` in a short transaction of its own in the caller's tenant (and commits it): for work too long for
 * the request's one transaction, done in pieces — a large download, an import.
 */
export type InTenant = <T>(work: (tx: Knex.Transaction) => Promise<T>) => Promise<T>;

/** What a handler may add to any reply: headers (caching), or a file or a stream instead of a JSON body. */
interface ReplyExtras {
  headers?: Record<string, string>;
  file?: { type: string; content: Buffer };
  /**
   * A body sent piece by piece once the request's transaction has committed: each piece may read in a
   * transaction of its own (`inTenant`), so that no transaction stays open for the whole download. An error
   * after the first piece can only cut the response short.
   */
  stream?: { type: string; pieces: (inTenant: InTenant) => AsyncIterable<string> };
}
export type Reply<O extends OperationId> = {
  [S in SuccessStatus<O>]: S extends 302
    ? { status: S; body?: undefined; headers: { Location: string } & Record<string, string> }
    : Json<operations[O]['responses'][S]> extends undefined
      ? { status: S; body?: undefined } & ReplyExtras
      : { status: S; body: Json<operations[O]['responses'][S]> } & ReplyExtras;
}[SuccessStatus<O>];

/** Who is calling. Every request has one; operations without security run as `anonymous`. */
export interface Principal {
  kind: 'anonymous' | 'session' | 'secret' | 'publishable' | 'token';
  /** The key's or session's id. */
  credentialId: string | null;
  agencyId: string | null;
  /** Set when the credential is limited to one client (client users, client keys, publishable keys). */
  clientId: string | null;
  siteId: string | null;
  userId: string | null;
  role: Role | null;
  scopes: ReadonlySet<Scope>;
  /** The platform operator's agency (OPERATOR_AGENCY_ID), not limited to one client. */
  operator: boolean;
}

export const ANONYMOUS: Principal = {
  kind: 'anonymous',
  credentialId: null,
  agencyId: null,
  clientId: null,
  siteId: null,
  userId: null,
  role: null,
  scopes: new Set(),
  operator: false,
};

export interface Context<O extends OperationId> {
  /** The request's one transaction, already scoped to the principal's tenant. */
  tx: Knex.Transaction;
  principal: Principal;
  /** The principal's agency; throws for anonymous calls, which no tenant-scoped handler serves. */
  agencyId: string;
  params: PathOf<O>;
  query: QueryOf<O>;
  body: BodyOf<O>;
  request: Request;
  /** Moves the transaction into a tenant: for anonymous operations only (sign-up and sign-in). */
  enterTenant(tenant: Tenant): Promise<void>;
  /** What the handler's `prepare` returned (see `withPreparation`). */
  prepared: unknown;
  /** Where this server is reached (PUBLIC_URL), for absolute URLs in responses. */
  publicUrl: string;
  /** See Config.frameUrl. */
  frameUrl: string | null;
  /** See Config.allowLocalHooks. */
  allowLocalHooks: boolean;
  /** See Config.secretKey (signs visitors' booking links, among others). */
  secretKey: string;
  /** Runs `effect` once the transaction has committed (never if it rolls back); its failure is only logged. */
  afterCommit(effect: () => void): void;
}

export interface PrepareInput<O extends OperationId> {
  body: BodyOf<O>;
  params: PathOf<O>;
  /** Who calls (already authenticated), or `anonymous` for operations without security. */
  principal: Principal;
  /** See Config.allowLocalHooks. */
  allowLocalHooks: boolean;
  knex: Knex;
  /** Short transactions of their own in the caller's tenant, for work done in pieces (an import's batches). */
  inTenant: InTenant;
  request: Request;
  limits: RateLimits;
  /** See Config.secretKey. */
  secretKey: string;
}

export type Handler<O extends OperationId> = ((ctx: Context<O>) => Promise<Reply<O>>) & {
  prepare?: (input: PrepareInput<O>) => Promise<unknown>;
};
export type Handlers = { [O in OperationId]: Handler<O> };

/**
 * A handler with slow work to do before its transaction opens (password hashing: ~50 ms of CPU), so that
 * meanwhile it holds no database connection — with the embedded database there is only one.
 */
export function withPreparation<O extends OperationId, P>(
  prepare: (input: PrepareInput<O>) => Promise<P>,
  handle: (ctx: Context<O>, prepared: P) => Promise<Reply<O>>,
): Handler<O> {
  return Object.assign((ctx: Context<O>) => handle(ctx, ctx.prepared as P), { prepare });
}
