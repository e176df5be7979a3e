import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { Principal } from './operations.js';
import { conflict } from './problem.js';

/** How long a key is remembered. */
const RETENTION = '24 hours';

/** Who owns a key: the user behind a session (who may sign in again), else the key, else anyone anonymous. */
function ownerOf(principal: Principal): string {
  if (principal.userId) return `user:${principal.userId}`;
  if (principal.credentialId) return `key:${principal.credentialId}`;
  return 'anonymous';
}

interface IdempotentRequest {
  method: string;
  path: string;
  body: unknown;
}

function fingerprint(request: IdempotentRequest): string {
  // Passwords stay out of the hash: a fast unsalted digest of a body that holds one could be cracked.
  const body = JSON.stringify(request.body ?? null, (name, value) => (name === 'password' ? undefined : value));
  return createHash('sha256').update(`${request.method} ${request.path}\n${body}`).digest('base64url');
}

/**
 * Whether this very request has been answered already (so its replay needs no preparation: a vendor's
 * hook is not asked twice). Reads only; `claimKey` decides, in the request's transaction.
 */
export async function answeredBefore(
  tx: Knex.Transaction,
  principal: Principal,
  key: string,
  request: IdempotentRequest,
): Promise<boolean> {
  const previous = await tx('idempotency_keys')
    .where({ principal: ownerOf(principal), key, request_hash: fingerprint(request) })
    .whereNotNull('status')
    .first('id');
  return Boolean(previous);
}

export interface Claim {
  id: string;
}
export interface Replay {
  status: number;
  body: unknown;
}

/**
 * Claims an idempotency key inside the request's transaction. A concurrent request with the same key
 * blocks on the unique index until the first commits, then replays its response; a key reused with
 * another request is refused.
 */
export async function claimKey(
  tx: Knex.Transaction,
  principal: Principal,
  key: string,
  request: IdempotentRequest,
): Promise<Claim | Replay> {
  const owner = ownerOf(principal);
  const requestHash = fingerprint(request);
  // The caller's expired keys go as it makes new ones; an idle caller's wait for a cleanup job.
  await tx('idempotency_keys')
    .where({ principal: owner })
    .whereRaw(`created_at < now() - interval '${RETENTION}'`)
    .delete();
  const [claimed] = await tx('idempotency_keys')
    .insert({ id: uuidv7(), agency_id: principal.agencyId, principal: owner, key, request_hash: requestHash })
    .onConflict(['principal', 'key'])
    .ignore()
    .returning('id');
  if (claimed) return { id: claimed.id as string };

  const previous = await tx('idempotency_keys').where({ principal: owner, key }).first();
  if (!previous || previous.request_hash !== requestHash) {
    throw conflict(
      'idempotency_key_reused',
      'This Idempotency-Key was used with another request. Use a new key for each operation.',
    );
  }
  return { status: previous.status as number, body: previous.body };
}

const ONE_TIME_SECRETS = ['secret', 'token', 'client_secret', 'signing_secret'];

/** Replaces one-time secrets by null: a replayed response never shows them again, since none is stored. */
function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([name, inner]) => [name, ONE_TIME_SECRETS.includes(name) ? null : redactSecrets(inner)]),
  );
}

export async function rememberResponse(tx: Knex.Transaction, claim: Claim, status: number, body: unknown) {
  await tx('idempotency_keys')
    .where({ id: claim.id })
    .update({ status, body: body === undefined ? null : JSON.stringify(redactSecrets(body)) });
}
