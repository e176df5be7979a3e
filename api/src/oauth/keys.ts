import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Knex } from 'knex';

export interface ProviderKeys {
  /** Private signing keys, newest first: the first signs, all verify. */
  signing: JWK[];
  cookies: string[];
}

async function readKeys(knex: Knex): Promise<ProviderKeys> {
  const rows = (await knex('oauth_keys').orderBy('created_at', 'desc').select('use', 'material')) as {
    use: 'signing' | 'cookies';
    material: JWK | string;
  }[];
  return {
    signing: rows.filter((row) => row.use === 'signing').map((row) => row.material as JWK),
    cookies: rows.filter((row) => row.use === 'cookies').map((row) => row.material as string),
  };
}

/**
 * The authorization server's keys, made on first start and kept in the database, so every API process signs
 * and verifies with the same ones and tokens outlive restarts. Two processes starting together may both make
 * keys: the first insert wins and both read it back.
 */
export async function loadProviderKeys(knex: Knex): Promise<ProviderKeys> {
  const existing = await readKeys(knex);
  if (existing.signing.length > 0 && existing.cookies.length > 0) return existing;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signing = { ...(await exportJWK(privateKey)), kid: `k${Date.now().toString(36)}`, alg: 'RS256', use: 'sig' };
  await knex('oauth_keys')
    .insert([
      { id: 'signing-1', use: 'signing', material: JSON.stringify(signing) },
      { id: 'cookies-1', use: 'cookies', material: JSON.stringify(randomBytes(32).toString('base64url')) },
    ])
    .onConflict('id')
    .ignore();
  return readKeys(knex);
}

/** The public half of a signing key, as the JWKS publishes it. */
export const publicJwk = ({ kty, n, e, kid, alg, use }: JWK): JWK => ({ kty, n, e, kid, alg, use });
