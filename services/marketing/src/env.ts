import { serviceEnvSchema, z } from '@crm/env';
import { personalDataEnv } from '@crm/personal-data';

export const marketingEnvSchema = serviceEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(4004),
  MONGO_DB: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('crm_marketing'),
  ...personalDataEnv,
  /** The SMTP server email goes out through (e.g. smtp://user:pass@mail.example.com:587); without it, email sends fail as unconfigured. */
  SMTP_URL: z.string().regex(/^smtps?:\/\/\S+$/, 'smtp:// or smtps:// URL').optional(),
  MAIL_FROM: z.string().min(3).default('CRM Platform <marketing@crm.local>'),
  /** How often the care plans run (ms); 0 turns the timer off (runCarePlans still works). */
  CARE_INTERVAL_MS: z.coerce.number().int().min(0).default(3_600_000),
  /** The time zone care plans count days in. */
  CARE_TIME_ZONE: z
    .string()
    .default('Asia/Shanghai')
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, 'An IANA time zone, e.g. Asia/Shanghai'),
  /** More holidays, or other years (JSON list of { key, name, dates: ["YYYY-MM-DD"] }), merged into the built-in calendar by key. */
  CARE_HOLIDAYS: z
    .string()
    .default('[]')
    .transform((value, ctx) => {
      try {
        const parsed = z.array(z.object({ key: z.string().regex(/^[A-Z_]{2,40}$/), name: z.string().min(1), dates: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/)) })).parse(JSON.parse(value));
        return parsed;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'A JSON list of { key: "A_Z", name, dates: ["YYYY-MM-DD"] }' });
        return [];
      }
    }),
  /** {{company}} in message templates. */
  MARKETING_COMPANY_NAME: z.string().min(1).default('CRM Platform Co., Ltd.'),
  /** What a rewarded referral gives each side (minor units of REFERRAL_REWARD_CURRENCY). */
  REFERRAL_REWARD_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'An ISO 4217 code').default('CNY'),
  REFERRAL_REFERRER_REWARD_MINOR: z.coerce.number().int().min(0).max(100_000_000).default(10_000),
  REFERRAL_REFEREE_REWARD_MINOR: z.coerce.number().int().min(0).max(100_000_000).default(5_000),
  /** The currency whose spend decides the value tier. */
  VALUE_TIER_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'An ISO 4217 code').default('CNY'),
  /** `NAME:minimum minor units`, ascending (default ¥1,000 / ¥10,000 / ¥50,000). */
  VALUE_TIERS: z
    .string()
    .default('BRONZE:100000,SILVER:1000000,GOLD:5000000')
    .transform((value, ctx) => {
      const tiers = value.split(',').map((part) => {
        const m = /^([A-Z][A-Z0-9_]{0,30}):(\d{1,15})$/.exec(part.trim());
        return m ? { name: m[1]!, minMinor: Number(m[2]) } : null;
      });
      const ok = tiers.every((t) => t !== null) && tiers.every((t, i) => i === 0 || t!.minMinor > tiers[i - 1]!.minMinor);
      if (!ok) ctx.addIssue({ code: 'custom', message: 'NAME:minimum,... with names in capitals and minimums strictly ascending' });
      return tiers.filter((t) => t !== null);
    }),
});
export type MarketingEnv = z.infer<typeof marketingEnvSchema>;
