import { describe, expect, it } from 'vitest';
import { allocate, derivedObjectId, divideRounded, linesInput, priceLines, type Catalog, type CatalogProduct } from '../../../shared/pricing.js';

const P = (n: number) => n.toString(16).padStart(24, '0');
const products: CatalogProduct[] = [
  { id: P(1), sku: 'TAB-1', name: 'Tablet', price: { amountMinor: 999, currency: 'CNY' }, status: 'ACTIVE' },
  { id: P(2), sku: 'PEN-1', name: 'Pen', price: { amountMinor: 50, currency: 'CNY' }, status: 'ACTIVE' },
  { id: P(3), sku: 'USD-1', name: 'Imported', price: { amountMinor: 1000, currency: 'USD' }, status: 'ACTIVE' },
  { id: P(4), sku: 'OLD-1', name: 'Old', price: { amountMinor: 100, currency: 'CNY' }, status: 'DISCONTINUED' },
  { id: P(5), sku: 'BOX-1', name: 'Box', price: { amountMinor: 100, currency: 'CNY' }, status: 'ACTIVE' },
];
const catalog: Catalog = { findProducts: async (ids) => products.filter((p) => ids.includes(p.id)) };
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });

describe('pricing: integer minor units, one rounding rule (half away from zero)', () => {
  it('rounds half away from zero', () => {
    expect(divideRounded(25n, 10n)).toBe(3n);
    expect(divideRounded(15n, 10n)).toBe(2n);
    expect(divideRounded(14n, 10n)).toBe(1n);
    expect(divideRounded(5n, 2n)).toBe(3n);
    expect(divideRounded(-25n, 10n)).toBe(-3n);
    expect(divideRounded(0n, 7n)).toBe(0n);
  });

  it('prices a line: list price, discount in basis points, tax per line, each rounded once', async () => {
    // 3 × 9.99 = 29.97; 12.5 % of it is 3.74625 → 3.75; net 26.22; 13 % tax is 3.4086 → 3.41; total 29.63.
    const { priced } = await priceLines(catalog, 'CNY', [{ productId: P(1), quantity: 3, discount: { basisPoints: 1250 }, taxRateBasisPoints: 1300 }], null);
    expect(priced!.lines[0]).toMatchObject({
      sku: 'TAB-1',
      description: 'Tablet',
      unitPrice: cny(999),
      subtotal: cny(2997),
      discountAmount: cny(375),
      documentDiscountShare: cny(0),
      netAmount: cny(2622),
      taxAmount: cny(341),
      total: cny(2963),
    });
    expect(priced!.totals).toEqual({ subtotal: cny(2997), discountTotal: cny(375), documentDiscount: cny(0), netTotal: cny(2622), taxTotal: cny(341), total: cny(2963) });
  });

  it('rounds an exact half up (away from zero) and anything below it down', async () => {
    // 1 % of 0.50 is 0.005 → 0.01; net 0.49; 5 % tax is 0.0245 → 0.02.
    const { priced } = await priceLines(catalog, 'CNY', [{ productId: P(2), quantity: 1, discount: { basisPoints: 100 }, taxRateBasisPoints: 500 }], null);
    expect(priced!.lines[0]).toMatchObject({ discountAmount: cny(1), netAmount: cny(49), taxAmount: cny(2), total: cny(51) });
  });

  it('splits a document discount over the lines exactly (largest remainder, earlier first on ties) and taxes after it', async () => {
    const lines = [P(5), P(5), P(5)].map((productId) => ({ productId, quantity: 1, taxRateBasisPoints: 1000 }));
    const { priced } = await priceLines(catalog, 'CNY', lines, { amount: cny(100) });
    expect(priced!.lines.map((l) => l.documentDiscountShare.amountMinor)).toEqual([34, 33, 33]);
    expect(priced!.lines.map((l) => l.taxAmount.amountMinor)).toEqual([7, 7, 7]);
    expect(priced!.totals).toMatchObject({ subtotal: cny(300), documentDiscount: cny(100), discountTotal: cny(100), netTotal: cny(200), taxTotal: cny(21), total: cny(221) });
    // 10 % of the nets (299.70 + 0.50 → 30.02), split 2997:50.
    const pct = await priceLines(catalog, 'CNY', [{ productId: P(1), quantity: 3 }, { productId: P(2), quantity: 1 }], { basisPoints: 1000 });
    expect(pct.priced!.totals.documentDiscount).toEqual(cny(305));
    expect(pct.priced!.lines.map((l) => l.documentDiscountShare.amountMinor)).toEqual([300, 5]);
    expect(allocate(7n, [1n, 1n, 1n])).toEqual([3n, 2n, 2n]);
    expect(allocate(5n, [0n, 0n])).toEqual([0n, 0n]);
  });

  it('takes a given unit price and a fixed line discount in the document currency', async () => {
    const { priced } = await priceLines(catalog, 'CNY', [{ productId: P(1), quantity: 2, unitPrice: cny(900), discount: { amount: cny(150) } }], null);
    expect(priced!.lines[0]).toMatchObject({ unitPrice: cny(900), subtotal: cny(1800), discountAmount: cny(150), total: cny(1650) });
  });

  it('rejects currency mismatches, unknown and discontinued products, and discounts larger than their base', async () => {
    const result = await priceLines(
      catalog,
      'CNY',
      [
        { productId: P(3), quantity: 1 },
        { productId: P(9), quantity: 1 },
        { productId: P(4), quantity: 1 },
        { productId: P(1), quantity: 1, unitPrice: { amountMinor: 100, currency: 'USD' } },
        { productId: P(1), quantity: 1, discount: { amount: { amountMinor: 1, currency: 'USD' } } },
        { productId: P(2), quantity: 1, discount: { amount: cny(51) } },
      ],
      null,
    );
    expect(result.priced).toBeNull();
    expect(result.problems.map((p) => p.field)).toEqual([
      'input.lines.0.productId',
      'input.lines.1.productId',
      'input.lines.2.productId',
      'input.lines.3.unitPrice.currency',
      'input.lines.4.discount.amount.currency',
      'input.lines.5.discount.amount.amountMinor',
    ]);
    expect(result.problems[0]!.message).toContain('priced in USD');
    expect(result.problems[1]!.message).toBe('Unknown product');
    expect(result.problems[2]!.message).toContain('discontinued');

    const doc = await priceLines(catalog, 'CNY', [{ productId: P(2), quantity: 1 }], { amount: { amountMinor: 10, currency: 'EUR' } });
    expect(doc.problems.map((p) => p.field)).toEqual(['input.discount.amount.currency']);
    const tooMuch = await priceLines(catalog, 'CNY', [{ productId: P(2), quantity: 1 }], { amount: cny(51) });
    expect(tooMuch.problems.map((p) => p.field)).toEqual(['input.discount.amount.amountMinor']);
  });

  it('validates quantities and discounts before pricing: whole, positive; one kind of discount', () => {
    const parsed = linesInput.safeParse([
      { productId: P(1), quantity: -2 },
      { productId: P(1), quantity: 0 },
      { productId: P(1), quantity: 1.5 },
      { productId: 'nope', quantity: 1 },
      { productId: P(1), quantity: 1, discount: { basisPoints: 100, amount: cny(1) } },
      { productId: P(1), quantity: 1, discount: { basisPoints: 10_001 } },
      { productId: P(1), quantity: 1, taxRateBasisPoints: -1 },
    ]);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual([
      '0.quantity',
      '1.quantity',
      '2.quantity',
      '3.productId',
      '4.discount.basisPoints',
      '5.discount.basisPoints',
      '6.taxRateBasisPoints',
    ]);
    expect(linesInput.safeParse([]).success).toBe(false);
  });

  it('derives stable ids per kind and source', () => {
    const a = derivedObjectId('order', P(7));
    expect(a.toHexString()).toMatch(/^[0-9a-f]{24}$/);
    expect(derivedObjectId('order', P(7)).equals(a)).toBe(true);
    expect(derivedObjectId('contract', P(7)).equals(a)).toBe(false);
  });
});
