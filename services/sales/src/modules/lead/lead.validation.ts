import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';
import { LEAD_SOURCES, LEAD_STATUSES, type LeadStatus } from './lead.model.js';

/**
 * Allowed status moves (SAL-2). CONVERTED is reached only through `convertLead`, from QUALIFIED, and
 * is final; a disqualified lead can be reopened (back to CONTACTED).
 */
export const LEAD_TRANSITIONS: Record<LeadStatus, readonly LeadStatus[]> = {
  NEW: ['CONTACTED', 'DISQUALIFIED'],
  CONTACTED: ['QUALIFIED', 'DISQUALIFIED'],
  QUALIFIED: ['CONTACTED', 'DISQUALIFIED'],
  DISQUALIFIED: ['CONTACTED'],
  CONVERTED: [],
};

export function canMoveLead(from: LeadStatus, to: LeadStatus): boolean {
  return LEAD_TRANSITIONS[from].includes(to);
}

/** Phone numbers as the customers service stores them: E.164; numbers without a country code are read as Chinese. */
export function normalisePhone(raw: string): string | null {
  const parsed = parsePhoneNumberFromString(raw.trim(), 'CN');
  return parsed?.isValid() ? parsed.number : null;
}

const text = (max: number) => z.string().trim().max(max, `At most ${max} characters`);
const optionalText = (max: number) =>
  text(max)
    .nullish()
    .transform((value) => value || null);

export const CAMPAIGN_CODE = /^[A-Z0-9][A-Z0-9_-]{1,39}$/;

const phone = z.string().transform((raw, ctx) => {
  const e164 = normalisePhone(raw);
  if (!e164) {
    ctx.addIssue({ code: 'custom', message: 'Not a valid phone number (E.164, or a Chinese number as typed)' });
    return z.NEVER;
  }
  return e164;
});

/** Contact fields shared by leads and the contact overrides of a conversion. */
export const contactFields = {
  name: text(200).min(1, 'Required'),
  // Trimmed before the check (a pasted address often carries spaces); empty means none.
  email: z
    .string()
    .trim()
    .toLowerCase()
    .nullish()
    .transform((v) => v || null)
    .pipe(z.email('Not an email address').max(254, 'At most 254 characters').nullable()),
  phones: z
    .array(phone)
    .max(10, 'At most 10 phone numbers')
    .nullish()
    .transform((phones) => [...new Set(phones ?? [])]),
  company: optionalText(200),
};

export const leadFields = {
  ...contactFields,
  title: optionalText(100),
  notes: optionalText(10_000),
  source: z.enum(LEAD_SOURCES),
  campaignCode: z
    .string()
    .trim()
    .toUpperCase()
    .regex(CAMPAIGN_CODE, '2 to 40 of A-Z, 0-9, _ and -')
    .nullish()
    .transform((v) => v ?? null),
};

const reachable = (lead: { email?: string | null; phones?: string[] }, ctx: z.RefinementCtx) => {
  if (!lead.email && (lead.phones?.length ?? 0) === 0) ctx.addIssue({ code: 'custom', path: ['email'], message: 'Give an email or a phone number' });
};

export const createLeadInput = z.object(leadFields).superRefine(reachable);
export type CreateLeadInput = z.input<typeof createLeadInput>;

/** Update: only the fields present change; name and source cannot be cleared. */
export const updateLeadInput = z.object(leadFields).partial();
export type UpdateLeadInput = { [K in keyof z.input<typeof updateLeadInput>]?: z.input<typeof updateLeadInput>[K] | null };

export const changeStatusInput = z
  .object({
    status: z.enum(LEAD_STATUSES),
    reason: text(500).nullish().transform((v) => v || null),
  })
  .superRefine((input, ctx) => {
    if (input.status === 'DISQUALIFIED' && !input.reason) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'Say why the lead is disqualified' });
  });

export const contactOverridesInput = z.object(contactFields).partial();

export const leadFilterInput = z
  .object({
    statuses: z.array(z.enum(LEAD_STATUSES)).max(5).nullish(),
    sources: z.array(z.enum(LEAD_SOURCES)).max(6).nullish(),
    ownerId: z.string().max(64).nullish(),
    campaignCode: z.string().trim().toUpperCase().max(40).nullish(),
    customerId: z.string().regex(/^[0-9a-f]{24}$/i, 'Not a customer id').nullish(),
    createdAfter: z.date().nullish(),
    createdBefore: z.date().nullish(),
  })
  .nullish();
export type LeadFilterInput = z.input<typeof leadFilterInput>;
