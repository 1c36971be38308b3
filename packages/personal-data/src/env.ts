import { z } from '@crm/env';
import { PERSONAL_FIELDS, type PersonalEntity } from './contract.js';

/** The settings every service that seals or opens personal data adds to its env schema. */
export const personalDataEnv = {
  /** Shared by the services of one installation: presented when a consumer asks an owner for keys. */
  PERSONAL_DATA_SECRET: z.string().min(24, 'at least 24 characters'),
  /** During a rotation, owners (customers, sales) accept the replaced secret too (infra/README.md). */
  PERSONAL_DATA_SECRET_PREVIOUS: z.string().min(24, 'at least 24 characters').optional(),
  /** `entity=baseURL` pairs, comma-separated: where each entity's keys are kept (its owning service). */
  PERSONAL_DATA_KEY_SOURCES: z
    .string()
    .default('customer=http://127.0.0.1:4001,lead=http://127.0.0.1:4002')
    .transform((value, ctx) => {
      const sources: Partial<Record<PersonalEntity, string>> = {};
      for (const pair of value.split(',').map((p) => p.trim()).filter(Boolean)) {
        const [entity, url] = pair.split('=', 2).map((s) => s?.trim());
        if (!entity || !Object.hasOwn(PERSONAL_FIELDS, entity) || !url || !URL.canParse(url)) {
          ctx.addIssue({ code: 'custom', message: `"${pair}": expected <${Object.keys(PERSONAL_FIELDS).join('|')}>=<url>` });
          continue;
        }
        sources[entity as PersonalEntity] = url;
      }
      return sources;
    }),
};

export type PersonalDataEnv = z.infer<z.ZodObject<typeof personalDataEnv>>;
