import { createCipheriv, createHash, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

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

/** A key's id in ciphertexts: the first 8 hex characters of its SHA-256 (never the key itself). */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * Encrypts and blind-indexes identity numbers. Keys are 32 random bytes (base64) from the
 * environment; the hash key is separate so a leaked hash index does not help decryption.
 *
 * Rotation: the current key seals (`v2:<key id>:...`); `previousKeys` still open what older keys
 * sealed, including `v1:` values from before key ids, until `reseal` has moved every record to the
 * current key (`reencryptIdentityDocuments`); then the old key can be dropped.
 */
export class IdentityVault {
  private readonly key: Buffer;
  private readonly keyId: string;
  private readonly keys = new Map<string, Buffer>();
  private readonly hashKey: Buffer;

  constructor(encryptionKeyBase64: string, hashKeyBase64: string, previousKeysBase64: string[] = []) {
    this.key = Buffer.from(encryptionKeyBase64, 'base64');
    this.hashKey = Buffer.from(hashKeyBase64, 'base64');
    const previous = previousKeysBase64.map((k) => Buffer.from(k, 'base64'));
    if ([this.key, this.hashKey, ...previous].some((k) => k.length !== 32)) throw new Error('Identity keys must be 32 bytes each (base64)');
    this.keyId = keyIdOf(this.key);
    for (const key of [this.key, ...previous]) this.keys.set(keyIdOf(key), key);
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
      ciphertext: `v2:${this.keyId}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`,
      hash: this.hash(type, number),
      last4: number.slice(-4),
    };
  }

  /** How ciphertexts sealed under the current key begin. */
  currentPrefix(): string {
    return `v2:${this.keyId}:`;
  }

  open(sealed: SealedIdentity): string {
    const v2 = /^v2:([0-9a-f]{8}):(.+)$/.exec(sealed.ciphertext);
    // v1 values carry no key id: the key that opens them (GCM authenticates) is the one.
    const candidates = v2 ? [this.keys.get(v2[1]!)].filter((k): k is Buffer => Boolean(k)) : [...this.keys.values()];
    if (candidates.length === 0) throw new Error(`No key ${v2?.[1]} to open this identity number: add it to CUSTOMER_PII_PREVIOUS_KEYS`);
    const raw = Buffer.from(v2 ? v2[2]! : sealed.ciphertext.replace(/^v1:/, ''), 'base64');
    for (const key of candidates) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(sealed.type));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        // not this key
      }
    }
    throw new Error('No configured key opens this identity number: add the key it was sealed with to CUSTOMER_PII_PREVIOUS_KEYS');
  }

  /** The same number sealed under the current key (hash and last4 unchanged). */
  reseal(sealed: SealedIdentity): SealedIdentity {
    return this.seal(sealed.type, this.open(sealed));
  }
}

export function maskIdentity(last4: string): string {
  return `${'*'.repeat(8)}${last4}`;
}
