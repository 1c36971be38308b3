import { serviceEnvSchema, z } from '@crm/env';

export const salesEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4002),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_sales'),
});
export type SalesEnv = z.infer<typeof salesEnvSchema>;
