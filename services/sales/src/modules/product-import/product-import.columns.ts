import type { FieldProblem } from '@crm/errors';
import type { RowValues, SheetSpec } from '@crm/import-jobs';
import { DecimalAmountError, parseDecimalAmount } from '@crm/money';
import type { CreateProductInput } from '../product/product.service.js';

/**
 * The columns of a product import file (header row required; any case, spaces, hyphens and camelCase
 * read as `_`). `sku`, `name` and `price` are required. Prices and costs are decimals in major units
 * (`1299.00`, `1,299.5`) in `price_currency` (default CNY) and `cost_currency` (default: the price's).
 */
export const PRODUCT_IMPORT_COLUMNS = [
  'sku',
  'name',
  'category',
  'place_of_production',
  'production_date',
  'cost',
  'cost_currency',
  'price',
  'price_currency',
  'status',
  'notes',
] as const;
export type ProductImportColumn = (typeof PRODUCT_IMPORT_COLUMNS)[number];

/** Columns accepted and ignored (an export's extra columns). */
export const IGNORED_PRODUCT_COLUMNS = ['id', 'version', 'created_at', 'updated_at'] as const;

export const PRODUCT_SHEET: SheetSpec<ProductImportColumn> = { columns: PRODUCT_IMPORT_COLUMNS, required: ['sku', 'name', 'price'], ignored: IGNORED_PRODUCT_COLUMNS };

export const DEFAULT_IMPORT_CURRENCY = 'CNY';

const CURRENCY = /^[A-Z]{3}$/;

/**
 * The create input of one row, or the problems (by column) that keep it from being one. Amounts are
 * converted from decimal text to integer minor units by `@crm/money` (string arithmetic, never a
 * float); everything else is checked by the product service's own validation.
 */
export function toProductInput(values: RowValues<ProductImportColumn>): { input: CreateProductInput; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const priceCurrency = (values.price_currency ?? DEFAULT_IMPORT_CURRENCY).toUpperCase();
  const costCurrency = (values.cost_currency ?? priceCurrency).toUpperCase();
  const amount = (column: 'price' | 'cost', currency: string): number | null => {
    const text = values[column];
    if (!text) return null;
    if (!CURRENCY.test(currency)) return null; // reported on the currency column by the validation
    try {
      return parseDecimalAmount(text, currency);
    } catch (error) {
      if (!(error instanceof DecimalAmountError)) throw error;
      problems.push({ field: column, message: error.message });
      return null;
    }
  };
  const price = amount('price', priceCurrency);
  const cost = amount('cost', costCurrency);
  if (!values.price) problems.push({ field: 'price', message: 'Required' });
  if (values.cost_currency && !values.cost) problems.push({ field: 'cost', message: `Required with cost_currency` });
  const input = {
    sku: values.sku ?? '',
    name: values.name ?? '',
    category: values.category,
    placeOfProduction: values.place_of_production,
    productionDate: values.production_date,
    processingNotes: values.notes,
    // A price that did not convert is left to the problems above (0 keeps the rest of the row checked).
    price: { amountMinor: price ?? 0, currency: priceCurrency },
    cost: values.cost ? { amountMinor: cost ?? 0, currency: costCurrency } : null,
    status: values.status ? values.status.trim().toUpperCase() : undefined,
  } as CreateProductInput;
  return { input, problems };
}

const FIELD_COLUMNS: Record<string, ProductImportColumn> = {
  'price.amountMinor': 'price',
  'price.currency': 'price_currency',
  'cost.amountMinor': 'cost',
  'cost.currency': 'cost_currency',
  placeOfProduction: 'place_of_production',
  productionDate: 'production_date',
  processingNotes: 'notes',
};

/** The column a validation problem of the create input is about. */
export function productColumnOf(field: string): string {
  return FIELD_COLUMNS[field] ?? field;
}
