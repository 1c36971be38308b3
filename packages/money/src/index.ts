import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';
import { z } from 'zod';

/** An amount of money: integer minor units (fen, cents) and an ISO 4217 code. Never a float. */
export interface Money {
  amountMinor: number;
  currency: string;
}

/** Minor-unit digits for currencies whose exponent is not 2 (ISO 4217). */
const EXPONENTS: Record<string, number> = { JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 };

export function minorUnitDigits(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

const CURRENCY = /^[A-Z]{3}$/;

/** zod schema for money input; `nonNegative` for prices and budgets. */
export function moneySchema({ nonNegative = true }: { nonNegative?: boolean } = {}) {
  return z.object({
    amountMinor: z
      .number()
      .int('Whole minor units (e.g. cents), not a fraction')
      .refine((n) => Number.isSafeInteger(n), 'Too large')
      .refine((n) => !nonNegative || n >= 0, 'Must not be negative'),
    currency: z.string().regex(CURRENCY, 'ISO 4217 code, e.g. CNY'),
  });
}

export function addMoney(a: Money, b: Money): Money {
  if (a.currency !== b.currency) throw new Error(`Cannot add ${a.currency} to ${b.currency}`);
  const amountMinor = a.amountMinor + b.amountMinor;
  if (!Number.isSafeInteger(amountMinor)) throw new Error('Amount out of range');
  return { amountMinor, currency: a.currency };
}

/** Display string such as `1234.50 CNY`; integer arithmetic only. */
export function formatMoney({ amountMinor, currency }: Money): string {
  const digits = minorUnitDigits(currency);
  const sign = amountMinor < 0 ? '-' : '';
  const abs = Math.abs(amountMinor).toString().padStart(digits + 1, '0');
  const major = digits ? `${abs.slice(0, -digits)}.${abs.slice(-digits)}` : abs;
  return `${sign}${major} ${currency}`;
}

/** Why a decimal amount cannot be converted (see {@link parseDecimalAmount}). */
export class DecimalAmountError extends Error {
  override name = 'DecimalAmountError';
}

const DECIMAL = /^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/;

/**
 * A decimal amount in major units as people write it (`1299.00`, `1,299.5`, `-3`, `0.05`) as exact
 * integer minor units of `currency`, by string arithmetic only (never through a float). More fraction
 * digits than the currency has (`12.345` CNY), anything but digits, one `.` and thousands commas, and
 * amounts beyond 2^53-1 minor units throw a {@link DecimalAmountError}.
 */
export function parseDecimalAmount(text: string, currency: string): number {
  const match = DECIMAL.exec(text.trim());
  if (!match) throw new DecimalAmountError(`Not a decimal amount: ${JSON.stringify(text)} (e.g. 1299.00)`);
  const [, sign, whole, fraction = ''] = match;
  const digits = minorUnitDigits(currency);
  if (fraction.length > digits) {
    throw new DecimalAmountError(digits === 0 ? `${currency} has no minor units: a whole amount` : `At most ${digits} decimals for ${currency}`);
  }
  const minor = BigInt(whole!.replace(/,/g, '') + fraction.padEnd(digits, '0')) * (sign === '-' ? -1n : 1n);
  if (minor > BigInt(Number.MAX_SAFE_INTEGER) || minor < -BigInt(Number.MAX_SAFE_INTEGER)) throw new DecimalAmountError('Too large');
  return Number(minor);
}

function toSafeInt(value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new GraphQLError('SafeInt must be an integer between -(2^53-1) and 2^53-1', { extensions: { code: 'BAD_USER_INPUT' } });
  }
  return value;
}

/**
 * GraphQL `Int` is 32-bit (about 21 million yuan in fen); money needs more. `SafeInt` is a JSON
 * integer up to 2^53-1.
 */
export const SafeIntScalar = new GraphQLScalarType<number, number>({
  name: 'SafeInt',
  description: 'An integer between -(2^53-1) and 2^53-1.',
  serialize: toSafeInt,
  parseValue: toSafeInt,
  parseLiteral: (ast) => (ast.kind === Kind.INT ? toSafeInt(Number(ast.value)) : toSafeInt(NaN)),
});
