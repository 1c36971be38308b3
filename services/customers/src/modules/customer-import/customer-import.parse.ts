import {
  countRows as countAnyRows,
  readSheet as readAnySheet,
  type ImportFormat,
  type RowValues as GenericRowValues,
  type SheetItem as GenericSheetItem,
  type SheetSpec,
} from '@crm/import-jobs';
import type { CreateCustomerInput } from '../customer/customer.validation.js';

/**
 * The columns an import file may have (header row required, names case-insensitive; spaces, hyphens
 * and camelCase are read as `_`, so `Postal Code` and `postalCode` are `postal_code`). `phones` and
 * `tags` hold several values separated by `;`. Only `name` is required.
 */
export const IMPORT_COLUMNS = [
  'name',
  'email',
  'phone',
  'phones',
  'gender',
  'birthday',
  'organization',
  'source',
  'tags',
  'level',
  'lifecycle_stage',
  'country',
  'province',
  'city',
  'street',
  'postal_code',
  'id_type',
  'id_number',
  'notes',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** Columns an export writes that an import accepts and ignores, so an exported file imports again. */
export const IGNORED_COLUMNS = ['id', 'owner_id', 'department', 'created_at', 'updated_at'] as const;

export { cellText, IMPORT_FORMATS, ImportFileError, normaliseColumnName, type ImportFormat } from '@crm/import-jobs';

/** The customer columns as `@crm/import-jobs` reads them: only `name` is required. */
export const CUSTOMER_SHEET: SheetSpec<ImportColumn> = { columns: IMPORT_COLUMNS, required: ['name'], ignored: IGNORED_COLUMNS };

export type RowValues = GenericRowValues<ImportColumn>;
export type SheetItem = GenericSheetItem<ImportColumn>;

/** Reads a whole customer file, streaming: the header first, then rows and malformed rows in file order. */
export function readSheet(source: AsyncIterable<Buffer>, format: ImportFormat): AsyncGenerator<SheetItem> {
  return readAnySheet(source, format, CUSTOMER_SHEET);
}

/** Rows in a file that an import will report on (data rows and malformed rows; blank rows do not count). */
export function countRows(source: AsyncIterable<Buffer>, format: ImportFormat): Promise<{ rows: number; unknownColumns: string[] }> {
  return countAnyRows(source, format, CUSTOMER_SHEET);
}

const split = (value: string | undefined) =>
  (value ?? '')
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean);

const GENDER_ALIASES: Record<string, string> = { M: 'MALE', F: 'FEMALE', 男: 'MALE', 女: 'FEMALE' };

/**
 * The create input of one row, as typed (the customer service validates it). Enum-like values are
 * upper-cased; `phone` and `phones` are merged; the address and the identity document exist only
 * when one of their columns has a value.
 */
export function toCustomerInput(values: RowValues) {
  const upper = (value: string | undefined) => (value ? value.toUpperCase().replace(/[\s-]+/g, '_') : undefined);
  const gender = upper(values.gender);
  const phones = [...split(values.phone), ...split(values.phones)].map((number) => ({ number }));
  const address = { country: values.country, province: values.province, city: values.city, street: values.street, postalCode: values.postal_code };
  const hasAddress = Object.values(address).some(Boolean);
  const hasIdentity = Boolean(values.id_type || values.id_number);
  return {
    name: values.name ?? '',
    gender: gender ? (GENDER_ALIASES[gender] ?? gender) : undefined,
    birthday: values.birthday,
    email: values.email,
    phones: phones.length > 0 ? phones : undefined,
    identityDocument: hasIdentity ? { type: upper(values.id_type), number: values.id_number ?? '' } : undefined,
    address: hasAddress ? address : undefined,
    organization: values.organization,
    source: values.source,
    tags: values.tags ? split(values.tags) : undefined,
    level: upper(values.level),
    lifecycleStage: upper(values.lifecycle_stage),
    notes: values.notes,
  } as unknown as CreateCustomerInput;
}

const FIELD_COLUMNS: Record<string, ImportColumn> = {
  lifecycleStage: 'lifecycle_stage',
  'address.country': 'country',
  'address.province': 'province',
  'address.city': 'city',
  'address.street': 'street',
  'address.postalCode': 'postal_code',
  'identityDocument.type': 'id_type',
  'identityDocument.number': 'id_number',
  identityDocument: 'id_number',
};

/** The column a validation problem of the create input is about (`phones.0.number` → `phone` or `phones`). */
export function columnOf(field: string, values: RowValues): string {
  const phone = /^phones(?:\.(\d+))?/.exec(field);
  if (phone) {
    const index = Number(phone[1] ?? -1);
    return index >= 0 && index < split(values.phone).length ? 'phone' : values.phones ? 'phones' : 'phone';
  }
  const tag = /^tags(?:\.\d+)?$/.exec(field);
  if (tag) return 'tags';
  return FIELD_COLUMNS[field] ?? field;
}
