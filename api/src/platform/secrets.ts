import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: object,
) => Promise<Buffer>;

/** Publishable key, secret key, session, OAuth client secret. */
export type TokenPrefix = 'pk' | 'sk' | 'ses' | 'ocs';

/** A new credential: `<prefix>_` and 256 random bits. Only its hash is ever stored. */
export function newToken(prefix: TokenPrefix): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 is enough for 256-bit random tokens: there is nothing to brute-force, so no slow hash. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export function sameHash(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What a key list shows to recognise a key by: its type and its first characters. */
export function tokenPrefix(token: string): string {
  return token.slice(0, token.indexOf('_') + 7);
}

// scrypt's recommended interactive parameters (N=2^15, r=8, p=1): about 50 ms a hash here.
const SCRYPT = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/**
 * A stored password is `scrypt$N$r$p$salt$hash`; everything but the hash is its "parameters", which
 * sign-in reads to derive the same string from a candidate password.
 */
async function derive(password: string, parameters: string): Promise<string> {
  const [, n, r, p, salt] = parameters.split('$');
  const hash = await scryptAsync(password.normalize('NFKC'), Buffer.from(salt!, 'base64url'), 32, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return `${parameters}$${hash.toString('base64url')}`;
}

export function hashPassword(password: string): Promise<string> {
  return derive(password, `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${randomBytes(16).toString('base64url')}`);
}

/**
 * What a candidate password would be stored as, given the stored parameters. Without parameters (no such
 * account, or one without a password) it still spends one hash, so timing does not tell which exist.
 */
export async function candidatePasswordHash(password: string, parameters: string | null): Promise<string | null> {
  if (parameters?.startsWith('scrypt$')) return derive(password, parameters);
  await hashPassword(password);
  return null;
}
