import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';

export const LIFECYCLE_STAGES = ['LEAD', 'PROSPECT', 'CUSTOMER', 'LOYAL', 'CHURNED'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];
export const GENDERS = ['MALE', 'FEMALE', 'OTHER', 'UNDISCLOSED'] as const;
export const CUSTOMER_LEVELS = ['VIP', 'A', 'B', 'C', 'D'] as const;
export const PHONE_KINDS = ['MOBILE', 'WORK', 'HOME', 'OTHER'] as const;
export const IDENTITY_DOCUMENT_TYPES = ['PRC_RESIDENT_ID', 'PASSPORT', 'HK_MACAO_PERMIT', 'TAIWAN_PERMIT', 'OTHER'] as const;
export type IdentityDocumentType = (typeof IDENTITY_DOCUMENT_TYPES)[number];

/** Which stage may follow which (CUS-1). Churned customers can be won back. */
export const STAGE_TRANSITIONS: Record<LifecycleStage, readonly LifecycleStage[]> = {
  LEAD: ['PROSPECT', 'CUSTOMER', 'CHURNED'],
  PROSPECT: ['LEAD', 'CUSTOMER', 'CHURNED'],
  CUSTOMER: ['LOYAL', 'CHURNED'],
  LOYAL: ['CUSTOMER', 'CHURNED'],
  CHURNED: ['PROSPECT', 'CUSTOMER'],
};

export function canTransition(from: LifecycleStage, to: LifecycleStage): boolean {
  return from === to || STAGE_TRANSITIONS[from].includes(to);
}

/** Normalises a phone number to E.164; numbers without a country code are read as Chinese. */
export function normalisePhone(raw: string): string | null {
  const parsed = parsePhoneNumberFromString(raw.trim(), 'CN');
  return parsed?.isValid() ? parsed.number : null;
}

const PRC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const PRC_CHECK = '10X98765432';

/** PRC resident identity number (GB 11643): 18 characters, a valid birth date and the ISO 7064 check character. */
export function isValidPrcResidentId(value: string, today = new Date()): boolean {
  if (!/^\d{17}[\dX]$/.test(value)) return false;
  const sum = PRC_WEIGHTS.reduce((acc, weight, i) => acc + weight * Number(value[i]), 0);
  if (PRC_CHECK[sum % 11] !== value[17]) return false;
  const birth = `${value.slice(6, 10)}-${value.slice(10, 12)}-${value.slice(12, 14)}`;
  return isPastDate(birth, today) && birth >= '1900-01-01';
}

const IDENTITY_FORMATS: Record<IdentityDocumentType, { check: (n: string) => boolean; message: string }> = {
  PRC_RESIDENT_ID: { check: (n) => isValidPrcResidentId(n), message: '18 characters with a valid birth date and check character' },
  PASSPORT: { check: (n) => /^[A-Z0-9]{5,20}$/.test(n), message: '5 to 20 letters or digits' },
  HK_MACAO_PERMIT: { check: (n) => /^[HM]\d{8,10}$/.test(n), message: 'H or M followed by 8 to 10 digits' },
  TAIWAN_PERMIT: { check: (n) => /^\d{8}$/.test(n), message: '8 digits' },
  OTHER: { check: (n) => /^[\x21-\x7E]{1,40}$/.test(n), message: '1 to 40 printable characters' },
};

/** `YYYY-MM-DD` that exists in the calendar and is not after `today` (UTC). */
export function isPastDate(value: string, today = new Date()): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value && value <= today.toISOString().slice(0, 10);
}

const text = (max: number) => z.string().trim().max(max, `At most ${max} characters`);
const optionalText = (max: number) =>
  text(max)
    .nullish()
    .transform((value) => value || null);

const phoneInput = z
  .object({ number: z.string(), kind: z.enum(PHONE_KINDS).nullish() })
  .transform((phone, ctx) => {
    const e164 = normalisePhone(phone.number);
    if (!e164) {
      ctx.addIssue({ code: 'custom', path: ['number'], message: 'Not a valid phone number (E.164, or a Chinese number as typed)' });
      return z.NEVER;
    }
    return { number: e164, kind: phone.kind ?? 'MOBILE' };
  });

const identityInput = z
  .object({ type: z.enum(IDENTITY_DOCUMENT_TYPES), number: z.string() })
  .transform((identity, ctx) => {
    const number = identity.number.replace(/\s+/g, '').toUpperCase();
    const format = IDENTITY_FORMATS[identity.type];
    if (!format.check(number)) {
      ctx.addIssue({ code: 'custom', path: ['number'], message: `Not a valid ${identity.type}: ${format.message}` });
      return z.NEVER;
    }
    return { type: identity.type, number };
  });

const addressInput = z.object({
  country: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code, e.g. CN')
    .nullish()
    .transform((v) => v ?? null),
  province: optionalText(100),
  city: optionalText(100),
  street: optionalText(300),
  postalCode: optionalText(20),
});

/** Every profile field, as accepted on create; updates use the same rules field by field. */
export const profileFields = {
  name: text(200).min(1, 'Required'),
  gender: z.enum(GENDERS).nullish().transform((v) => v ?? null),
  birthday: z
    .string()
    .nullish()
    .refine((v) => v == null || (isPastDate(v) && v >= '1900-01-01'), 'A date (YYYY-MM-DD) from 1900 up to today')
    .transform((v) => v ?? null),
  // Trimmed and lower-cased before the format check: " Ann@Example.cn " is a valid address typed carelessly.
  email: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.email('Not an email address').max(254))
    .nullish()
    .or(z.literal('').transform(() => null))
    .transform((v) => v ?? null),
  phones: z
    .array(phoneInput)
    .max(10, 'At most 10 phone numbers')
    .nullish()
    .transform((phones) => [...new Map((phones ?? []).map((p) => [p.number, p])).values()]),
  identityDocument: identityInput.nullish().transform((v) => v ?? null),
  address: addressInput.nullish().transform((v) => v ?? null),
  organization: optionalText(200),
  /** Link to an Organization entity (CUS-2); its name then fills `organization`. */
  organizationId: z.string().regex(/^[0-9a-f]{24}$/i, 'Not an organisation id').nullish().transform((v) => v?.toLowerCase() ?? null),
  source: optionalText(100),
  tags: z
    .array(text(40).min(1, 'Empty tag'))
    .max(30, 'At most 30 tags')
    .nullish()
    .transform((tags) => [...new Set(tags ?? [])]),
  level: z.enum(CUSTOMER_LEVELS).nullish().transform((v) => v ?? null),
  lifecycleStage: z.enum(LIFECYCLE_STAGES).nullish(),
  notes: optionalText(10_000),
};

export const createCustomerInput = z.object(profileFields).transform(({ lifecycleStage, ...rest }) => ({ ...rest, lifecycleStage: lifecycleStage ?? 'LEAD' }));
export type CreateCustomerInput = z.input<typeof createCustomerInput>;
export type CustomerProfile = z.output<typeof createCustomerInput>;

/** Update: only the fields present change; `name` cannot be cleared. */
export const updateCustomerInput = z.object(profileFields).partial();
/** As clients send it: any field may be null (clears it; refused for name and stage). */
export type UpdateCustomerInput = { [K in keyof z.input<typeof updateCustomerInput>]?: z.input<typeof updateCustomerInput>[K] | null };
