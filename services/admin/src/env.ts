import { serviceEnvSchema, z } from '@crm/env';

export const adminEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4006),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_admin'),
  /** Confidential client whose service account calls Keycloak's admin API (manage-users, view-events ...). */
  KEYCLOAK_ADMIN_CLIENT_ID: z.string().min(1).default('crm-admin'),
  KEYCLOAK_ADMIN_CLIENT_SECRET: z.string().min(16, 'at least 16 characters'),
  /** Client the set-password email's link signs in to afterwards. */
  SET_PASSWORD_CLIENT_ID: z.string().min(1).default('crm-web'),
});

export type AdminEnv = z.infer<typeof adminEnvSchema>;
