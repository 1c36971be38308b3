import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** AES-256-GCM; the associated data binds a sealed value to its entity and subject (no moving it to another person). */
const ALGORITHM = 'aes-256-gcm';
const PREFIX = 'pd1';

export function newDataKey(): Buffer {
  return randomBytes(32);
}

export function seal(key: Buffer, aad: string, plain: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return `${PREFIX}.${iv.toString('base64url')}.${body.toString('base64url')}`;
}

export function open(key: Buffer, aad: string, sealed: string): unknown {
  const [prefix, ivText, bodyText] = sealed.split('.');
  if (prefix !== PREFIX || !ivText || !bodyText) throw new Error('not a sealed value');
  const body = Buffer.from(bodyText, 'base64url');
  const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(ivText, 'base64url'));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return JSON.parse(Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8'));
}
