import { Readable } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import ExcelJS from 'exceljs';

export const IMPORT_FORMATS = ['CSV', 'XLSX'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/**
 * The columns a kind of import file may have. The header row is required; names are read
 * case-insensitively, and spaces, hyphens and camelCase as `_` (`Postal Code` and `postalCode` are
 * `postal_code`). `required` columns must be in the header (else the file fails); `ignored` ones are
 * accepted and skipped (e.g. the extra columns of an export, so an exported file imports again); any
 * other column is reported as unknown and ignored.
 */
export interface SheetSpec<C extends string> {
  columns: readonly C[];
  required: readonly C[];
  ignored?: readonly string[];
}

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

/** The file cannot be read at all (no header, a required column missing, not a spreadsheet): the job fails. */
export class ImportFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportFileError';
  }
}

export type RowValues<C extends string> = Partial<Record<C, string>>;

/**
 * What reading a file yields, in file order. `row` is the row number a spreadsheet shows (the header
 * is row 1; a CSV record spanning several lines is one row).
 */
export type SheetItem<C extends string> =
  | { kind: 'header'; row: number; unknownColumns: string[] }
  | { kind: 'row'; row: number; values: RowValues<C> }
  | { kind: 'malformed'; row: number; message: string };

export function normaliseColumnName(raw: string): string {
  return raw
    .replace(/^\ufeff/, '')
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/** Maps header cells to known columns (null: ignored); fails without the required columns. */
function readHeader<C extends string>(cells: string[], spec: SheetSpec<C>): { columns: Array<C | null>; unknownColumns: string[] } {
  const seen = new Set<string>();
  const unknownColumns: string[] = [];
  const columns = cells.map((cell) => {
    const name = normaliseColumnName(cell);
    if (name === '') return null;
    if ((spec.columns as readonly string[]).includes(name)) {
      if (seen.has(name)) throw new ImportFileError(`The header names the column "${name}" twice`);
      seen.add(name);
      return name as C;
    }
    if (!(spec.ignored ?? []).includes(name)) unknownColumns.push(cell.trim());
    return null;
  });
  if (spec.required.some((column) => !seen.has(column))) {
    const required = spec.required.map((column) => `"${column}"`).join(', ');
    throw new ImportFileError(`The first row must be a header naming the columns, with at least ${required} (known columns: ${spec.columns.join(', ')})`);
  }
  return { columns, unknownColumns };
}

/** One data row: values by column, or why it is malformed; null for a row with nothing in it. */
function readRow<C extends string>(columns: Array<C | null>, cells: string[], row: number): SheetItem<C> | null {
  if (cells.every((cell) => cell.trim() === '')) return null;
  const extra = cells.slice(columns.length).filter((cell) => cell.trim() !== '').length;
  if (extra > 0) return { kind: 'malformed', row, message: `The row has ${columns.length + extra} values but the header names ${columns.length} columns` };
  const values: RowValues<C> = {};
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
async function* readCsv<C extends string>(source: AsyncIterable<Buffer>, spec: SheetSpec<C>): AsyncGenerator<SheetItem<C>> {
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
  let columns: Array<C | null> | null = null;
  let reported = 0;
  let ended = false;
  // Row number of a record = records emitted before it + records skipped before it + 1.
  const flushSkipped = function* (upTo: number): Generator<SheetItem<C>> {
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
      const header = readHeader(record, spec);
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
async function* readXlsx<C extends string>(source: AsyncIterable<Buffer>, spec: SheetSpec<C>): AsyncGenerator<SheetItem<C>> {
  const input = Readable.from(source);
  // Styles are needed to tell a date cell from a number.
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(input, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore' });
  let columns: Array<C | null> | null = null;
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
          const header = readHeader(cells, spec);
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
export function readSheet<C extends string>(source: AsyncIterable<Buffer>, format: ImportFormat, spec: SheetSpec<C>): AsyncGenerator<SheetItem<C>> {
  return format === 'CSV' ? readCsv(source, spec) : readXlsx(source, spec);
}

/** Rows in a file that an import will report on (data rows and malformed rows; blank rows do not count). */
export async function countRows<C extends string>(source: AsyncIterable<Buffer>, format: ImportFormat, spec: SheetSpec<C>): Promise<{ rows: number; unknownColumns: string[] }> {
  let rows = 0;
  let unknownColumns: string[] = [];
  for await (const item of readSheet(source, format, spec)) {
    if (item.kind === 'header') unknownColumns = item.unknownColumns;
    else rows += 1;
  }
  return { rows, unknownColumns };
}
