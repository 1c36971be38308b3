import { serviceEnvSchema, z } from '@crm/env';

export const marketingEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4004),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_marketing'),
});
export type MarketingEnv = z.infer<typeof marketingEnvSchema>;
