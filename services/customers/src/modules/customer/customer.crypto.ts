import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** An identity number as stored: never in clear text (CUS-7, SYS-6). */
export interface SealedIdentity {
  type: string;
  /** `v1:` + base64(iv | tag | ciphertext), AES-256-GCM. */
  ciphertext: string;
  /** HMAC-SHA256 of type and number under a separate key: exact lookups without decrypting. */
  hash: string;
  /** Last four characters, for masked display. */
  last4: string;
}

/**
 * Encrypts and blind-indexes identity numbers. Keys are 32 random bytes (base64) from the
 * environment; the hash key is separate so a leaked hash index does not help decryption.
 */
export class IdentityVault {
  private readonly key: Buffer;
  private readonly hashKey: Buffer;

  constructor(encryptionKeyBase64: string, hashKeyBase64: string) {
    this.key = Buffer.from(encryptionKeyBase64, 'base64');
    this.hashKey = Buffer.from(hashKeyBase64, 'base64');
    if (this.key.length !== 32 || this.hashKey.length !== 32) throw new Error('Identity keys must be 32 bytes each (base64)');
  }

  hash(type: string, number: string): string {
    return createHmac('sha256', this.hashKey).update(`${type}:${number}`).digest('hex');
  }

  seal(type: string, number: string): SealedIdentity {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(type));
    const ciphertext = Buffer.concat([cipher.update(number, 'utf8'), cipher.final()]);
    return {
      type,
      ciphertext: `v1:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`,
      hash: this.hash(type, number),
      last4: number.slice(-4),
    };
  }

  open(sealed: SealedIdentity): string {
    const raw = Buffer.from(sealed.ciphertext.replace(/^v1:/, ''), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(sealed.type));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }
}

export function maskIdentity(last4: string): string {
  return `${'*'.repeat(8)}${last4}`;
}
