import { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import ExcelJS from 'exceljs';
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

export const IMPORT_FORMATS = ['CSV', 'XLSX'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/**
 * Longest CSV record read. With stray quotes kept as text, only a quote that is never closed makes a
 * record this long; the parser cannot resync after it, so the rest of the file is reported unread.
 */
const MAX_RECORD_BYTES = 1024 * 1024;

/** Errors after which the parser does not find the next record again: reading stops there. */
const FINAL_CSV_ERRORS = new Set(['CSV_MAX_RECORD_SIZE', 'CSV_QUOTE_NOT_CLOSED']);

function skipMessage(error: CsvError | undefined): string {
  if (error?.code === 'CSV_MAX_RECORD_SIZE') return 'The row is longer than 1 MiB, probably from a quote never closed: the rest of the file was not read';
  if (error?.code === 'CSV_QUOTE_NOT_CLOSED') return 'A quote opened in this row is never closed: the rest of the file was not read';
  return error?.message ?? 'Unreadable row';
}

/** The file cannot be read at all (no header, no `name` column, not a spreadsheet): the job fails. */
export class ImportFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportFileError';
  }
}

export type RowValues = Partial<Record<ImportColumn, string>>;

/**
 * What reading a file yields, in file order. `row` is the row number a spreadsheet shows (the header
 * is row 1; a CSV record spanning several lines is one row).
 */
export type SheetItem =
  | { kind: 'header'; row: number; unknownColumns: string[] }
  | { kind: 'row'; row: number; values: RowValues }
  | { kind: 'malformed'; row: number; message: string };

export function normaliseColumnName(raw: string): string {
  return raw
    .replace(/^\ufeff/, '')
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/** Maps header cells to known columns (null: ignored); fails without a `name` column. */
function readHeader(cells: string[]): { columns: Array<ImportColumn | null>; unknownColumns: string[] } {
  const seen = new Set<string>();
  const unknownColumns: string[] = [];
  const columns = cells.map((cell) => {
    const name = normaliseColumnName(cell);
    if (name === '') return null;
    if ((IMPORT_COLUMNS as readonly string[]).includes(name)) {
      if (seen.has(name)) throw new ImportFileError(`The header names the column "${name}" twice`);
      seen.add(name);
      return name as ImportColumn;
    }
    if (!(IGNORED_COLUMNS as readonly string[]).includes(name)) unknownColumns.push(cell.trim());
    return null;
  });
  if (!seen.has('name')) {
    throw new ImportFileError(`The first row must be a header naming the columns, with at least "name" (known columns: ${IMPORT_COLUMNS.join(', ')})`);
  }
  return { columns, unknownColumns };
}

/** One data row: values by column, or why it is malformed; null for a row with nothing in it. */
function readRow(columns: Array<ImportColumn | null>, cells: string[], row: number): SheetItem | null {
  if (cells.every((cell) => cell.trim() === '')) return null;
  const extra = cells.slice(columns.length).filter((cell) => cell.trim() !== '').length;
  if (extra > 0) return { kind: 'malformed', row, message: `The row has ${columns.length + extra} values but the header names ${columns.length} columns` };
  const values: RowValues = {};
  columns.forEach((column, index) => {
    const value = cells[index]?.trim();
    if (column && value) values[column] = value;
  });
  return { kind: 'row', row, values };
}

/**
 * Reads a CSV (UTF-8, optional BOM, comma-separated, RFC 4180 quotes; stray quotes inside a field are
 * kept). A record the parser cannot read is reported as a malformed row and reading goes on.
 */
async function* readCsv(source: AsyncIterable<Buffer>): AsyncGenerator<SheetItem> {
  // Records the parser skipped: how many records it had emitted before each (keeps row numbers exact).
  const skipped: Array<{ before: number; message: string; final: boolean }> = [];
  const parser: ReturnType<typeof parse> = parse({
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
    max_record_size: MAX_RECORD_BYTES,
    info: true,
    on_skip: (error: CsvError | undefined) => {
      skipped.push({ before: parser.info.records, message: skipMessage(error), final: FINAL_CSV_ERRORS.has(error?.code ?? '') });
      return undefined;
    },
  });
  Readable.from(source).on('error', (error) => parser.destroy(error)).pipe(parser);
  let columns: Array<ImportColumn | null> | null = null;
  let reported = 0;
  let ended = false;
  // Row number of a record = records emitted before it + records skipped before it + 1.
  const flushSkipped = function* (upTo: number): Generator<SheetItem> {
    while (!ended && reported < skipped.length && skipped[reported]!.before < upTo) {
      const skip = skipped[reported]!;
      reported += 1;
      ended = skip.final;
      yield { kind: 'malformed', row: skip.before + reported, message: skip.message };
    }
  };
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { records: number } }>) {
    yield* flushSkipped(info.records);
    if (ended) {
      parser.destroy();
      break;
    }
    const row = info.records + reported;
    if (!columns) {
      if (row !== 1) throw new ImportFileError('The header row cannot be read');
      const header = readHeader(record);
      columns = header.columns;
      yield { kind: 'header', row, unknownColumns: header.unknownColumns };
      continue;
    }
    const item = readRow(columns, record, row);
    if (item) yield item;
  }
  if (!columns) {
    if (skipped.length > 0) throw new ImportFileError(`The header row cannot be read: ${skipped[0]!.message}`);
    throw new ImportFileError('The file is empty: a header row naming the columns is required');
  }
  yield* flushSkipped(Number.POSITIVE_INFINITY);
}

/** Text of a spreadsheet cell as a person sees it; dates as YYYY-MM-DD. */
export function cellText(value: ExcelJS.CellValue | undefined): string {
  if (value == null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? value.toFixed(0) : String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString().slice(0, 10);
  if ('richText' in value) return value.richText.map((part) => part.text).join('');
  if ('hyperlink' in value) return cellText(value.text as ExcelJS.CellValue);
  if ('formula' in value || 'sharedFormula' in value) return cellText((value as { result?: ExcelJS.CellValue }).result);
  return '';
}

/** Reads the first worksheet of an XLSX file, streaming (other worksheets are skipped). */
async function* readXlsx(source: AsyncIterable<Buffer>): AsyncGenerator<SheetItem> {
  const input = Readable.from(source);
  // Styles are needed to tell a date cell from a number.
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(input, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore' });
  let columns: Array<ImportColumn | null> | null = null;
  let sheets = 0;
  try {
    for await (const worksheet of workbook) {
      sheets += 1;
      for await (const row of worksheet) {
        if (sheets > 1) continue;
        const values = row.values as ExcelJS.CellValue[];
        const cells: string[] = [];
        for (let i = 1; i < values.length; i += 1) cells.push(cellText(values[i]));
        if (!columns) {
          if (cells.every((cell) => cell.trim() === '')) continue;
          const header = readHeader(cells);
          columns = header.columns;
          yield { kind: 'header', row: row.number, unknownColumns: header.unknownColumns };
          continue;
        }
        const item = readRow(columns, cells, row.number);
        if (item) yield item;
      }
    }
  } catch (error) {
    if (error instanceof ImportFileError) throw error;
    throw new ImportFileError(`Not a readable XLSX file: ${(error as Error).message}`);
  }
  if (!columns) throw new ImportFileError(sheets === 0 ? 'Not a readable XLSX file: no worksheet' : 'The first worksheet is empty: a header row naming the columns is required');
}

/** Reads a whole file, streaming: the header first, then rows and malformed rows in file order. */
export function readSheet(source: AsyncIterable<Buffer>, format: ImportFormat): AsyncGenerator<SheetItem> {
  return format === 'CSV' ? readCsv(source) : readXlsx(source);
}

/** Rows in a file that an import will report on (data rows and malformed rows; blank rows do not count). */
export async function countRows(source: AsyncIterable<Buffer>, format: ImportFormat): Promise<{ rows: number; unknownColumns: string[] }> {
  let rows = 0;
  let unknownColumns: string[] = [];
  for await (const item of readSheet(source, format)) {
    if (item.kind === 'header') unknownColumns = item.unknownColumns;
    else rows += 1;
  }
  return { rows, unknownColumns };
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
