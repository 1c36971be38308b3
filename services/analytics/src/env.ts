import { serviceEnvSchema, z } from '@crm/env';

export const analyticsEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4005),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_analytics'),
  /** Consumer group of the customer read model; change it to rebuild the model from the topic's history. */
  CUSTOMER_STATS_GROUP: z.string().min(1).default('analytics.customer-stats'),
});
export type AnalyticsEnv = z.infer<typeof analyticsEnvSchema>;
