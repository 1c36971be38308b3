import { serviceEnvSchema, z } from '@crm/env';

export const serviceDeskEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4003),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_service_desk'),
});
export type ServiceDeskEnv = z.infer<typeof serviceDeskEnvSchema>;
