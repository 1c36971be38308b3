import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { FieldProblem } from '@crm/errors';
import { moneySchema, type Money } from '@crm/money';
import { findByIds } from '@crm/mongo';
import type { ProductModel, ProductRecord } from '../modules/product/product.model.js';

/**
 * Line pricing shared by quotes and orders (SAL-4, SAL-6): one implementation, integer minor units
 * only (intermediate products in BigInt, so `amount × basis points` never loses precision).
 *
 * ROUNDING RULE (the only one): whenever a step yields a fraction of a minor unit it is rounded
 * **half away from zero** (all amounts here are non-negative, so: half up, 四舍五入) to whole minor
 * units, **once per line per step**:
 *   1. line discount in basis points: `round(quantity × unitPrice × bp / 10 000)`;
 *   2. document discount in basis points: `round(Σ line nets × bp / 10 000)` (once, on the document);
 *   3. tax per line: `round((line net − its share of the document discount) × taxRate / 10 000)`.
 * The document discount is split over the lines in proportion to their nets by the largest-remainder
 * method (shares floored, the minor units left over go to the lines with the largest remainders,
 * earlier lines first on ties), so the shares add up to the document discount exactly — that split
 * is an allocation, not a rounding. Totals are plain sums of the rounded line amounts, so
 * `total = Σ line totals` holds to the fen.
 */

/** One hundred percent in basis points. */
export const FULL_BP = 10_000;
const BP = 10_000n;

export const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** `numerator / denominator` rounded half away from zero (denominator > 0). */
export function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  const quotient = abs / denominator;
  const remainder = abs % denominator;
  const rounded = remainder * 2n >= denominator ? quotient + 1n : quotient;
  return negative ? -rounded : rounded;
}

/** A discount as stored: either basis points of the amount (1 bp = 0.01 %) or a fixed amount. */
export interface Discount {
  basisPoints: number | null;
  amount: Money | null;
}

export interface PricedLine {
  productId: string;
  sku: string;
  description: string;
  quantity: number;
  unitPrice: Money;
  discount: Discount | null;
  taxRateBasisPoints: number;
  /** quantity × unit price. */
  subtotal: Money;
  /** This line's own discount. */
  discountAmount: Money;
  /** This line's part of the document-level discount. */
  documentDiscountShare: Money;
  /** subtotal − discountAmount − documentDiscountShare: what tax is computed on. */
  netAmount: Money;
  taxAmount: Money;
  /** netAmount + taxAmount. */
  total: Money;
}

export interface Totals {
  /** Σ line subtotals. */
  subtotal: Money;
  /** Σ line discounts + the document discount. */
  discountTotal: Money;
  /** The document-level discount alone. */
  documentDiscount: Money;
  /** Σ line nets (taxable amount). */
  netTotal: Money;
  taxTotal: Money;
  total: Money;
}

export interface Priced {
  currency: string;
  lines: PricedLine[];
  discount: Discount | null;
  totals: Totals;
}

export const discountInput = z
  .object({
    basisPoints: z.number().int('Whole basis points').min(0, 'Must not be negative').max(FULL_BP, 'At most 10000 (100 %)').nullish(),
    amount: moneySchema().nullish(),
  })
  .superRefine((value, ctx) => {
    if ((value.basisPoints == null) === (value.amount == null)) {
      ctx.addIssue({ code: 'custom', path: ['basisPoints'], message: 'Give either basisPoints or amount' });
    }
  });

export const lineItemInput = z.object({
  productId: z.string().regex(OBJECT_ID, 'Not a product id'),
  description: z.string().trim().max(500, 'At most 500 characters').nullish(),
  quantity: z.number().int('Whole units').min(1, 'Must be at least 1').max(1_000_000, 'At most 1000000'),
  unitPrice: moneySchema().nullish(),
  discount: discountInput.nullish(),
  taxRateBasisPoints: z.number().int('Whole basis points').min(0, 'Must not be negative').max(FULL_BP, 'At most 10000 (100 %)').nullish(),
});
export type LineItemInput = z.input<typeof lineItemInput>;
export type ParsedLine = z.output<typeof lineItemInput>;
export type ParsedDiscount = z.output<typeof discountInput>;

export const linesInput = z.array(lineItemInput).min(1, 'At least one line').max(200, 'At most 200 lines');
export const currencyInput = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 code, e.g. CNY');

/** What pricing needs to know of a product. */
export interface CatalogProduct {
  id: string;
  sku: string;
  name: string;
  price: Money;
  status: string;
}

/** Looks products up by id (the product catalogue of this service). */
export interface Catalog {
  findProducts(ids: string[]): Promise<CatalogProduct[]>;
}

const money = (amountMinor: bigint, currency: string): Money => ({ amountMinor: Number(amountMinor), currency });
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Prices validated lines in `currency` with an optional document discount. Returns the priced
 * document, or the field problems (paths under `prefix`, e.g. `input.lines.1.productId`): unknown
 * or discontinued products, products priced in another currency, unit prices or fixed discounts in
 * another currency, fixed discounts larger than what they discount, amounts beyond 2^53−1.
 */
export async function priceLines(
  catalog: Catalog,
  currency: string,
  lines: ParsedLine[],
  discount: ParsedDiscount | null | undefined,
  prefix = 'input',
): Promise<{ priced: Priced; problems: [] } | { priced: null; problems: FieldProblem[] }> {
  const problems: FieldProblem[] = [];
  const products = new Map((await catalog.findProducts([...new Set(lines.map((l) => l.productId.toLowerCase()))])).map((p) => [p.id, p]));
  const staged: Array<{ line: ParsedLine; product: CatalogProduct; unit: bigint; subtotal: bigint; lineDiscount: bigint; tax: number }> = [];
  lines.forEach((line, index) => {
    const at = `${prefix}.lines.${index}`;
    const product = products.get(line.productId.toLowerCase());
    if (!product) return problems.push({ field: `${at}.productId`, message: 'Unknown product' });
    if (product.status !== 'ACTIVE') return problems.push({ field: `${at}.productId`, message: `Product ${product.sku} is discontinued` });
    if (product.price.currency !== currency) {
      return problems.push({ field: `${at}.productId`, message: `Product ${product.sku} is priced in ${product.price.currency}, not ${currency}` });
    }
    if (line.unitPrice && line.unitPrice.currency !== currency) {
      return problems.push({ field: `${at}.unitPrice.currency`, message: `Must be ${currency}` });
    }
    const unit = BigInt((line.unitPrice ?? product.price).amountMinor);
    const subtotal = unit * BigInt(line.quantity);
    if (subtotal > SAFE) return problems.push({ field: `${at}.quantity`, message: 'Line amount too large' });
    let lineDiscount = 0n;
    if (line.discount?.amount) {
      if (line.discount.amount.currency !== currency) return problems.push({ field: `${at}.discount.amount.currency`, message: `Must be ${currency}` });
      lineDiscount = BigInt(line.discount.amount.amountMinor);
      if (lineDiscount > subtotal) return problems.push({ field: `${at}.discount.amount.amountMinor`, message: 'More than the line amount' });
    } else if (line.discount?.basisPoints != null) {
      lineDiscount = divideRounded(subtotal * BigInt(line.discount.basisPoints), BP);
    }
    staged.push({ line, product, unit, subtotal, lineDiscount, tax: line.taxRateBasisPoints ?? 0 });
  });
  if (problems.length > 0) return { priced: null, problems };

  const nets = staged.map((s) => s.subtotal - s.lineDiscount);
  const netSum = nets.reduce((a, b) => a + b, 0n);
  let documentDiscount = 0n;
  if (discount?.amount) {
    if (discount.amount.currency !== currency) problems.push({ field: `${prefix}.discount.amount.currency`, message: `Must be ${currency}` });
    documentDiscount = BigInt(discount.amount.amountMinor);
    if (documentDiscount > netSum) problems.push({ field: `${prefix}.discount.amount.amountMinor`, message: 'More than the discounted lines add up to' });
  } else if (discount?.basisPoints != null) {
    documentDiscount = divideRounded(netSum * BigInt(discount.basisPoints), BP);
  }
  if (netSum > SAFE) problems.push({ field: `${prefix}.lines`, message: 'Total too large' });
  if (problems.length > 0) return { priced: null, problems };

  const shares = allocate(documentDiscount, nets);
  const pricedLines: PricedLine[] = staged.map((s, index) => {
    const net = nets[index]! - shares[index]!;
    const tax = divideRounded(net * BigInt(s.tax), BP);
    return {
      productId: s.product.id,
      sku: s.product.sku,
      description: s.line.description || s.product.name,
      quantity: s.line.quantity,
      unitPrice: money(s.unit, currency),
      discount: s.line.discount ? { basisPoints: s.line.discount.basisPoints ?? null, amount: s.line.discount.amount ?? null } : null,
      taxRateBasisPoints: s.tax,
      subtotal: money(s.subtotal, currency),
      discountAmount: money(s.lineDiscount, currency),
      documentDiscountShare: money(shares[index]!, currency),
      netAmount: money(net, currency),
      taxAmount: money(tax, currency),
      total: money(net + tax, currency),
    };
  });
  const sum = (pick: (line: PricedLine) => Money) => pricedLines.reduce((acc, line) => acc + BigInt(pick(line).amountMinor), 0n);
  const totals: Totals = {
    subtotal: money(sum((l) => l.subtotal), currency),
    discountTotal: money(sum((l) => l.discountAmount) + documentDiscount, currency),
    documentDiscount: money(documentDiscount, currency),
    netTotal: money(sum((l) => l.netAmount), currency),
    taxTotal: money(sum((l) => l.taxAmount), currency),
    total: money(sum((l) => l.total), currency),
  };
  if (BigInt(totals.total.amountMinor) > SAFE) return { priced: null, problems: [{ field: `${prefix}.lines`, message: 'Total too large' }] };
  return {
    priced: { currency, lines: pricedLines, discount: discount ? { basisPoints: discount.basisPoints ?? null, amount: discount.amount ?? null } : null, totals },
    problems: [],
  };
}

/** Splits `amount` over `weights` in proportion, exactly (largest remainder; earlier first on ties). */
export function allocate(amount: bigint, weights: bigint[]): bigint[] {
  const total = weights.reduce((a, b) => a + b, 0n);
  if (amount === 0n || total === 0n) return weights.map(() => 0n);
  const shares = weights.map((w) => (amount * w) / total);
  const remainders = weights.map((w, index) => ({ index, remainder: (amount * w) % total }));
  let left = amount - shares.reduce((a, b) => a + b, 0n);
  remainders.sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of remainders) {
    if (left === 0n) break;
    shares[index]! += 1n;
    left -= 1n;
  }
  return shares;
}

/**
 * A stable ObjectId derived from another record's id (e.g. the order created when quote X is
 * accepted): retrying the step finds the record it made instead of making a second one.
 */
export function derivedObjectId(kind: string, sourceId: string): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(`${kind}:${sourceId}`).digest().subarray(0, 12).toString('hex'));
}

/** The catalogue as pricing sees it: one query for all of a document's products. */
export function productCatalog(products: ProductModel): Catalog {
  return {
    async findProducts(ids) {
      const valid = ids.filter((id) => OBJECT_ID.test(id));
      if (valid.length === 0) return [];
      const found = await findByIds<ProductRecord>(products, valid.map((id) => new Types.ObjectId(id)), { sku: 1, name: 1, price: 1, status: 1 });
      return found.map((p) => ({ id: p._id.toHexString(), sku: p.sku, name: p.name, price: { amountMinor: p.price.amountMinor, currency: p.price.currency }, status: p.status }));
    },
  };
}
