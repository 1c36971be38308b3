import { serviceEnvSchema, z } from '@crm/env';
import { personalDataEnv } from '@crm/personal-data';

export const salesEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4002),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_sales'),
  ...personalDataEnv,
  // Quotes, contracts, orders (SAL-4..6).
  /** Order total (minor units) from which a manager approves: `1000000` for every currency, or `CNY=1000000,USD=150000,*=1000000`. */
  ORDER_APPROVAL_THRESHOLD_MINOR: z
    .string()
    .default('1000000')
    .transform((value, ctx) => {
      const thresholds: Record<string, number> = {};
      for (const part of value.split(',').map((p) => p.trim()).filter(Boolean)) {
        const match = /^(?:([A-Z]{3}|\*)=)?(\d{1,15})$/.exec(part);
        if (!match) {
          ctx.addIssue({ code: 'custom', message: 'A whole number, or CUR=number pairs separated by commas (* for the rest)' });
          return z.NEVER;
        }
        thresholds[match[1] ?? '*'] = Number(match[2]);
      }
      return thresholds;
    }),
  CONTRACT_RENEWAL_LEAD_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  QUOTE_VALIDITY_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** How often the scheduler (contract expiry and renewal reminders, quote expiry) runs; 0 turns it off. */
  SALES_SCHEDULER_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  /** Our company as party A of contracts. */
  SALES_COMPANY_NAME: z.string().trim().min(1).max(200).default('CRM Platform Co., Ltd.'),
});
export type SalesEnv = z.infer<typeof salesEnvSchema>;
