import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Secrets the platform must be able to read back (it sends them on), encrypted at rest with AES-256-GCM.
 * Each use has its own key, derived from SECRET_KEY with HKDF for a `purpose`; `boundTo` (the owner's id)
 * is authenticated with the ciphertext, so a sealed value copied to another row does not open.
 * See docs/decisions/0012-sso-relying-party.md.
 */
const FORMAT = 'v1';

const keyFor = (secretKey: string, purpose: string) =>
  Buffer.from(hkdfSync('sha256', secretKey, '', `dramac:${purpose}`, 32));

/** `v1.<iv>.<ciphertext>.<tag>`, base64url. */
export function seal(secretKey: string, purpose: string, boundTo: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyFor(secretKey, purpose), iv).setAAD(Buffer.from(boundTo));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [FORMAT, ...[iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url'))].join('.');
}

/** The sealed value, or null when it does not open: another SECRET_KEY, another owner, or tampered with. */
export function unseal(secretKey: string, purpose: string, boundTo: string, sealed: string): string | null {
  const [format, iv, ciphertext, tag] = sealed.split('.');
  if (format !== FORMAT || !iv || !ciphertext || !tag) return null;
  try {
    // A fixed tag length: GCM would otherwise accept a truncated tag, which is far easier to forge.
    const decipher = createDecipheriv('aes-256-gcm', keyFor(secretKey, purpose), Buffer.from(iv, 'base64url'), {
      authTagLength: 16,
    })
      .setAAD(Buffer.from(boundTo))
      .setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
