import type { Money } from '@crm/money';

/**
 * An amount weighted by a probability in whole percent, in integer minor units: amount × percent / 100
 * rounded half up (amounts are never negative), computed in BigInt so no product loses precision.
 * Each opportunity is rounded once; sums add the rounded values.
 */
export function weightedMinor(amountMinor: number, percent: number): bigint {
  return (BigInt(amountMinor) * BigInt(percent) + 50n) / 100n;
}

/** `sum / count` rounded half up (non-negative sums). */
export function averageMinor(sum: bigint, count: number): bigint {
  return count > 0 ? (sum * 2n + BigInt(count)) / (BigInt(count) * 2n) : 0n;
}

/** Sums per currency, never mixing currencies. */
export class CurrencyTotals {
  private readonly totals = new Map<string, bigint>();

  add(currency: string, amountMinor: bigint | number): void {
    this.totals.set(currency, (this.totals.get(currency) ?? 0n) + BigInt(amountMinor));
  }

  get(currency: string): bigint {
    return this.totals.get(currency) ?? 0n;
  }

  currencies(): string[] {
    return [...this.totals.keys()].sort();
  }

  /** As `Money`, sorted by currency; throws past 2^53-1 minor units (what `SafeInt` carries). */
  toMoney(): Money[] {
    return this.currencies().map((currency) => ({ currency, amountMinor: toSafeNumber(this.get(currency)) }));
  }
}

export function toSafeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('Amount beyond 2^53-1 minor units');
  return Number(value);
}
