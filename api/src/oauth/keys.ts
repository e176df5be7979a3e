import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Knex } from 'knex';
import { StartupError } from '../db/startup-error.js';
import { seal, unseal } from '../platform/sealed.js';

export interface ProviderKeys {
  /** Private signing keys, newest first: the first signs, all verify. */
  signing: JWK[];
  cookies: string[];
}

const PURPOSE = 'oauth-keys';

async function readKeys(knex: Knex, secretKey: string): Promise<ProviderKeys> {
  const rows = (await knex('oauth_keys').orderBy('created_at', 'desc').select('id', 'use', 'material')) as {
    id: string;
    use: 'signing' | 'cookies';
    material: string;
  }[];
  const open = (row: (typeof rows)[number]) => {
    const opened = unseal(secretKey, PURPOSE, row.id, row.material);
    if (opened === null) {
      throw new StartupError(
        'The OAuth keys (table oauth_keys) do not open with this SECRET_KEY: start with the key they were made ' +
          'with, or delete their rows to make new ones (every OAuth token and sign-in in progress then ends).',
      );
    }
    return JSON.parse(opened) as JWK | string;
  };
  return {
    signing: rows.filter((row) => row.use === 'signing').map((row) => open(row) as JWK),
    cookies: rows.filter((row) => row.use === 'cookies').map((row) => open(row) as string),
  };
}

/**
 * The authorization server's keys, made on first start and kept in the database — sealed under SECRET_KEY (a
 * copy of the database alone cannot sign tokens) — so every API process signs and verifies with the same ones
 * and tokens outlive restarts. Two processes starting together may both make keys: the first insert wins and
 * both read it back.
 */
export async function loadProviderKeys(knex: Knex, secretKey: string): Promise<ProviderKeys> {
  const existing = await readKeys(knex, secretKey);
  if (existing.signing.length > 0 && existing.cookies.length > 0) return existing;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signing = { ...(await exportJWK(privateKey)), kid: `k${Date.now().toString(36)}`, alg: 'RS256', use: 'sig' };
  const sealed = (id: string, value: unknown) => JSON.stringify(seal(secretKey, PURPOSE, id, JSON.stringify(value)));
  await knex('oauth_keys')
    .insert([
      { id: 'signing-1', use: 'signing', material: sealed('signing-1', signing) },
      { id: 'cookies-1', use: 'cookies', material: sealed('cookies-1', randomBytes(32).toString('base64url')) },
    ])
    .onConflict('id')
    .ignore();
  return readKeys(knex, secretKey);
}

/** The public half of a signing key, as the JWKS publishes it. */
export const publicJwk = ({ kty, n, e, kid, alg, use }: JWK): JWK => ({ kty, n, e, kid, alg, use });
