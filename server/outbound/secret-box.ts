import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { HooklineError } from '../errors.js';

/** Version tag of the stored format, so the scheme can change without ambiguity. */
const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts an endpoint secret for storage with AES-256-GCM: `v1.<iv>.<tag>.<ciphertext>`
 * (base64url). A fresh random IV per value; the tag makes tampering detectable.
 */
export function encryptSecret(plaintext: string, key: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [FORMAT, iv, tag, ciphertext]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** Reverses {@link encryptSecret}; throws HL_ERR_INTERNAL (never the value) when it cannot. */
export function decryptSecret(stored: string, key: Buffer): string {
  const [format, iv, tag, ciphertext] = stored.split('.');
  if (format !== FORMAT || !iv || !tag || ciphertext === undefined) {
    throw new HooklineError('HL_ERR_INTERNAL', 'An endpoint secret is stored in an unknown format');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  } catch (error) {
    throw new HooklineError(
      'HL_ERR_INTERNAL',
      'An endpoint secret cannot be decrypted (was ENCRYPTION_KEY changed?)',
      {
        cause: error,
      },
    );
  }
}
