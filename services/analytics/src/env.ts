import { serviceEnvSchema, z } from '@crm/env';
import { personalDataEnv } from '@crm/personal-data';
import { isTimeZone } from './modules/read-model/zoned-time.js';

export const analyticsEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4005),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_analytics'),
  ...personalDataEnv,
  /** Consumer groups are `<prefix>.<read model>`; a new prefix builds fresh read models from the topics' history. */
  ANALYTICS_GROUP_PREFIX: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/).default('analytics'),
  /** Reports sum one currency at a time; this is the default, and the currency of RFM and lifetime value. */
  REPORTING_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'An ISO 4217 code such as CNY').default('CNY'),
  /** Expected customer lifespan in the lifetime value formula. */
  CLV_LIFESPAN_YEARS: z.coerce.number().positive().max(50).default(3),
  /** How often RFM boundaries, churn risks and patterns are recomputed (0: never by timer). */
  ANALYTICS_JOB_INTERVAL_MS: z.coerce.number().int().min(0).default(15 * 60_000),
  /**
   * Zones whose local days, months and years are kept as ready sums (`sales_periods`): a sales trend in
   * one of them reads one small document per period; other zones are summed from 15-minute slots.
   */
  ANALYTICS_TIME_ZONES: z
    .string()
    .default('Asia/Shanghai')
    .transform((v) => [...new Set(v.split(',').map((z) => z.trim()).filter(Boolean))])
    .refine((zones) => zones.length > 0 && zones.length <= 5 && zones.every(isTimeZone), 'One to five IANA time zones, comma-separated (e.g. Asia/Shanghai,UTC)'),
  /** Products bought together are counted over the orders of this many days back. */
  PATTERNS_WINDOW_DAYS: z.coerce.number().int().min(1).max(3660).default(365),
  /** k of the customer clusters (k-means on RFM). */
  CUSTOMER_CLUSTERS: z.coerce.number().int().min(2).max(12).default(5),
});
export type AnalyticsEnv = z.infer<typeof analyticsEnvSchema>;
