import { z } from 'zod';
import { moneySchema, type Money } from '@crm/money';

export const QUALIFICATION_LEVELS = ['LOW', 'MEDIUM', 'HIGH'] as const;
export type QualificationLevel = (typeof QUALIFICATION_LEVELS)[number];
export const PRIORITIES = ['P1', 'P2', 'P3'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Score of each qualification answer; an unanswered one counts as LOW. */
export const LEVEL_SCORES: Record<QualificationLevel, number> = { LOW: 1, MEDIUM: 2, HIGH: 3 };

/**
 * Priority from need, budget and decision process (SAL-3): each LOW 1, MEDIUM 2, HIGH 3 (unset = 1),
 * summed to a score of 3 to 9; 8 or 9 is P1, 6 or 7 is P2, 3 to 5 is P3. "Decision process" rates how
 * clear and advanced the customer's decision is (decision maker known, steps agreed): HIGH is best.
 */
export function priorityOf(levels: { need?: QualificationLevel | null; budget?: QualificationLevel | null; decisionProcess?: QualificationLevel | null }): {
  score: number;
  priority: Priority;
} {
  const score = [levels.need, levels.budget, levels.decisionProcess].reduce((sum, level) => sum + LEVEL_SCORES[level ?? 'LOW'], 0);
  return { score, priority: score >= 8 ? 'P1' : score >= 6 ? 'P2' : 'P3' };
}

const level = z.enum(QUALIFICATION_LEVELS).nullish().transform((v) => v ?? null);
const text = (max: number) => z.string().trim().max(max, `At most ${max} characters`);

/** Every editable opportunity field, as accepted on create (updates use the same rules field by field). */
export const opportunityFields = {
  name: text(200).min(1, 'Required'),
  amount: moneySchema(),
  expectedCloseDate: z.date({ error: 'Required' }),
  /** Overrides the stage's default, whole percent. */
  probability: z.number().int('Whole percent').min(0, '0 to 100 (percent)').max(100, '0 to 100 (percent)').nullish().transform((v) => v ?? null),
  need: level,
  budget: level,
  decisionProcess: level,
  competitors: z
    .array(text(100).min(1, 'Empty name'))
    .max(20, 'At most 20 competitors')
    .nullish()
    .transform((names) => {
      // Duplicates ignoring case; the first spelling stays.
      const byKey = new Map<string, string>();
      for (const name of names ?? []) if (!byKey.has(name.toLowerCase())) byKey.set(name.toLowerCase(), name);
      return [...byKey.values()];
    }),
  campaignCode: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z0-9][A-Z0-9_-]{1,39}$/, '2 to 40 of A-Z, 0-9, _ and -')
    .nullish()
    .transform((v) => v ?? null),
  description: text(10_000).nullish().transform((v) => v || null),
  /** An open stage of the pipeline; the first open stage when left out. */
  stage: z.string().trim().toUpperCase().nullish().transform((v) => v ?? null),
};

const OBJECT_ID = /^[0-9a-f]{24}$/i;

export const createOpportunityInput = z.object({
  ...opportunityFields,
  customerId: z.string().regex(OBJECT_ID, 'Not a customer id').transform((v) => v.toLowerCase()),
});
export type CreateOpportunityInput = z.input<typeof createOpportunityInput>;

/** The opportunity part of `convertLead`: the customer and the lead come from the conversion. */
export const conversionOpportunityInput = z.object(opportunityFields);
export type ConversionOpportunityInput = z.input<typeof conversionOpportunityInput>;

/** Update: only the fields present change (not the stage: `moveOpportunity` does that). */
const { stage: _stage, ...editable } = opportunityFields;
export const updateOpportunityInput = z.object(editable).partial();
export type UpdateOpportunityInput = { [K in keyof z.input<typeof updateOpportunityInput>]?: z.input<typeof updateOpportunityInput>[K] | null };

/** A validated new opportunity, its stage resolved (stored on a converted lead until the opportunity exists). */
export interface OpportunityDraft {
  name: string;
  amount: Money;
  expectedCloseDate: Date;
  probability: number | null;
  need: QualificationLevel | null;
  budget: QualificationLevel | null;
  decisionProcess: QualificationLevel | null;
  competitors: string[];
  campaignCode: string | null;
  description: string | null;
  stage: string;
}

export const opportunityFilterInput = z
  .object({
    statuses: z.array(z.enum(['OPEN', 'WON', 'LOST'])).max(3).nullish(),
    stages: z.array(z.string().trim().toUpperCase().max(40)).max(20).nullish(),
    priorities: z.array(z.enum(PRIORITIES)).max(3).nullish(),
    ownerId: z.string().max(64).nullish(),
    customerId: z.string().regex(OBJECT_ID, 'Not a customer id').nullish(),
    campaignCode: z.string().trim().toUpperCase().max(40).nullish(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, e.g. CNY').nullish(),
    expectedCloseAfter: z.date().nullish(),
    expectedCloseBefore: z.date().nullish(),
    search: z.string().trim().min(1, 'Nothing to search for').max(100).nullish(),
  })
  .nullish();
export type OpportunityFilterInput = z.input<typeof opportunityFilterInput>;
