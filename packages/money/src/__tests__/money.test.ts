import { describe, expect, it } from 'vitest';
import { addMoney, formatMoney, moneySchema, SafeIntScalar } from '../index.js';

describe('money', () => {
  it('accepts integer minor units with an ISO code', () => {
    expect(moneySchema().parse({ amountMinor: 129900, currency: 'CNY' })).toEqual({ amountMinor: 129900, currency: 'CNY' });
  });

  it('rejects fractions, negatives, unsafe integers and bad codes', () => {
    const result = moneySchema().safeParse({ amountMinor: 12.5, currency: 'yuan' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path[0]).sort()).toEqual(['amountMinor', 'currency']);
    expect(moneySchema().safeParse({ amountMinor: -1, currency: 'CNY' }).success).toBe(false);
    expect(moneySchema({ nonNegative: false }).safeParse({ amountMinor: -1, currency: 'CNY' }).success).toBe(true);
    expect(moneySchema().safeParse({ amountMinor: 2 ** 53, currency: 'CNY' }).success).toBe(false);
  });

  it('adds only like currencies and formats by the currency exponent', () => {
    expect(addMoney({ amountMinor: 150, currency: 'CNY' }, { amountMinor: 1, currency: 'CNY' })).toEqual({ amountMinor: 151, currency: 'CNY' });
    expect(() => addMoney({ amountMinor: 1, currency: 'CNY' }, { amountMinor: 1, currency: 'USD' })).toThrow(/Cannot add/);
    expect(formatMoney({ amountMinor: 123450, currency: 'CNY' })).toBe('1234.50 CNY');
    expect(formatMoney({ amountMinor: 5, currency: 'USD' })).toBe('0.05 USD');
    expect(formatMoney({ amountMinor: -1500, currency: 'JPY' })).toBe('-1500 JPY');
  });

  it('SafeInt carries integers beyond GraphQL Int and refuses fractions', () => {
    expect(SafeIntScalar.parseValue(5_000_000_000)).toBe(5_000_000_000);
    expect(() => SafeIntScalar.parseValue(1.5)).toThrow(/SafeInt/);
    expect(() => SafeIntScalar.serialize('7')).toThrow(/SafeInt/);
  });
});
