import { serviceEnvSchema, z } from '@crm/env';
import { personalDataEnv } from '@crm/personal-data';

const key32 = z
  .string()
  .refine((value) => Buffer.from(value, 'base64').length === 32, '32 random bytes, base64 (openssl rand -base64 32)');

export const customersEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4001),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_customers'),
  /** AES-256-GCM key for identity numbers at rest (CUS-7, SYS-6). */
  CUSTOMER_PII_KEY: key32,
  /**
   * Keys replaced by CUSTOMER_PII_KEY (comma-separated), still able to open what they sealed until
   * `reencryptIdentityDocuments` reports nothing remaining. See services/customers/README.md.
   */
  CUSTOMER_PII_PREVIOUS_KEYS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((k) => k.trim()).filter(Boolean))
    .refine((keys) => keys.every((k) => Buffer.from(k, 'base64').length === 32), 'comma-separated 32-byte keys, base64'),
  /** HMAC key of the identity-number blind index (exact lookups, duplicate detection). */
  CUSTOMER_PII_HASH_KEY: key32,
  ...personalDataEnv,
});
export type CustomersEnv = z.infer<typeof customersEnvSchema>;
