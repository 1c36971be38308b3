import { describe, expect, it } from 'vitest';
import { addMoney, DecimalAmountError, formatMoney, moneySchema, parseDecimalAmount, SafeIntScalar } from '../index.js';

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

  it('reads decimal amounts into exact minor units by the currency exponent, never through floats', () => {
    expect(parseDecimalAmount('1299.00', 'CNY')).toBe(129_900);
    expect(parseDecimalAmount(' 1,299.5 ', 'CNY')).toBe(129_950);
    expect(parseDecimalAmount('0.07', 'USD')).toBe(7);
    // 0.07 * 100 is 7.000000000000001 in floating point; 1.005 * 100 is 100.49999999999999.
    expect(parseDecimalAmount('1.01', 'CNY')).toBe(101);
    expect(parseDecimalAmount('-3', 'CNY')).toBe(-300);
    expect(parseDecimalAmount('1500', 'JPY')).toBe(1500);
    expect(parseDecimalAmount('1.234', 'KWD')).toBe(1234);
    expect(parseDecimalAmount('90071992547409.91', 'CNY')).toBe(9_007_199_254_740_991);
    for (const [text, currency] of [['12.345', 'CNY'], ['15.5', 'JPY'], ['1e3', 'CNY'], ['12,34', 'CNY'], ['', 'CNY'], ['¥12', 'CNY'], ['1.', 'CNY'], ['90071992547409.92', 'CNY']]) {
      expect(() => parseDecimalAmount(text!, currency!), `${text} ${currency}`).toThrow(DecimalAmountError);
    }
  });

  it('SafeInt carries integers beyond GraphQL Int and refuses fractions', () => {
    expect(SafeIntScalar.parseValue(5_000_000_000)).toBe(5_000_000_000);
    expect(() => SafeIntScalar.parseValue(1.5)).toThrow(/SafeInt/);
    expect(() => SafeIntScalar.serialize('7')).toThrow(/SafeInt/);
  });
});
