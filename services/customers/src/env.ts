import { serviceEnvSchema, z } from '@crm/env';

export const customersEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4001),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_customers'),
});
export type CustomersEnv = z.infer<typeof customersEnvSchema>;
