import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: object,
) => Promise<Buffer>;

export type TokenPrefix = 'pk' | 'sk' | 'ses';

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

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password.normalize('NFKC'), salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${hash.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  // Without an account, still spend the time of a hash, so a response's timing does not tell which emails exist.
  const [scheme, n, r, p, salt, hash] = (stored ?? `scrypt$${SCRYPT.N}$8$1$$`).split('$');
  if (scheme !== 'scrypt') return false;
  const expected = Buffer.from(hash!, 'base64url');
  const actual = await scryptAsync(password.normalize('NFKC'), Buffer.from(salt!, 'base64url'), 32, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return stored !== null && sameHash(actual, expected);
}
