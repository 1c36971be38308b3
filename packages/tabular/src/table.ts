import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import ExcelJS from 'exceljs';
import { formatMoney, minorUnitDigits, type Money } from '@crm/money';
import { guardFormula, xmlEscape, type TableFormat } from './formats.js';

/**
 * How a column's values are written: `money` cells hold {@link Money} and are written as exact decimals
 * (integer arithmetic; a spreadsheet gets a number cell with the currency's decimals), `ratio` cells are
 * fractions 0..1 (a percentage format in a spreadsheet).
 */
export type ColumnKind = 'text' | 'integer' | 'number' | 'ratio' | 'money' | 'instant';

export interface TableColumn {
  /** Machine name: the CSV header, the XML element and the XLSX header. */
  key: string;
  /** Human label (chart axes). */
  label: string;
  kind: ColumnKind;
}

export type TableCell = string | number | Money | Date | null;
export type TableRow = Record<string, TableCell>;

/** A small report table with its parameters (written as XML attributes and an XLSX header block). */
export interface Table {
  /** kebab-case, e.g. `sales-trend`: the XML root's `name` and the sheet name. */
  name: string;
  title: string;
  /** What the table was asked for (range, zone, currency ...). */
  parameters: Record<string, string>;
  columns: TableColumn[];
  rows: TableRow[];
}

/** `1234.50`: a money cell as an exact decimal, without the currency (it has its own column or parameter). */
export function decimalOf(money: Money): string {
  return formatMoney(money).split(' ')[0]!;
}

/** A cell as text for CSV and XML: numbers as they are, money as an exact decimal, instants in ISO 8601 UTC. */
export function textOf(cell: TableCell): string {
  if (cell === null || cell === undefined) return '';
  if (cell instanceof Date) return cell.toISOString();
  if (typeof cell === 'object') return decimalOf(cell);
  return String(cell);
}

async function writeCsv(table: Table, out: Writable): Promise<void> {
  // BOM: spreadsheet programs then read the file as UTF-8 (Chinese names).
  const csv = stringify({ header: true, columns: table.columns.map((c) => c.key), bom: true, cast: { string: guardFormula } });
  const rows = Readable.from(table.rows.map((row) => Object.fromEntries(table.columns.map((c) => [c.key, textOf(row[c.key] ?? null)]))));
  await pipeline(rows, csv, out);
}

async function writeXlsx(table: Table, out: Writable): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet(table.name.slice(0, 31));
  sheet.addRow(table.columns.map((c) => c.key)).font = { bold: true };
  for (const row of table.rows) {
    sheet.addRow(
      table.columns.map((c) => {
        const cell = row[c.key] ?? null;
        if (cell === null) return null;
        // A spreadsheet cell is a double anyway; the exact decimal text is what it is parsed from.
        if (c.kind === 'money' && typeof cell === 'object' && !(cell instanceof Date)) return Number(decimalOf(cell));
        if (typeof cell === 'string' && c.kind === 'text') return guardFormula(cell);
        return cell;
      }),
    );
  }
  table.columns.forEach((c, i) => {
    const column = sheet.getColumn(i + 1);
    column.width = Math.max(10, c.key.length + 2);
    if (c.kind === 'ratio') column.numFmt = '0.00%';
    if (c.kind === 'instant') column.numFmt = 'yyyy-mm-dd hh:mm:ss';
    if (c.kind === 'money') {
      const currency = table.rows.find((r) => r[c.key] && typeof r[c.key] === 'object' && !(r[c.key] instanceof Date))?.[c.key] as Money | undefined;
      const digits = minorUnitDigits(currency?.currency ?? 'CNY');
      column.numFmt = digits ? `0.${'0'.repeat(digits)}` : '0';
    }
  });
  const info = workbook.addWorksheet('parameters');
  info.addRow(['report', table.name]);
  info.addRow(['title', table.title]);
  for (const [key, value] of Object.entries(table.parameters)) info.addRow([key, guardFormula(value)]);
  const done = finished(out);
  await workbook.xlsx.write(out);
  out.end();
  await done;
}

async function writeXml(table: Table, out: Writable): Promise<void> {
  const attrs = Object.entries(table.parameters).map(([k, v]) => ` ${k}="${xmlEscape(v)}"`).join('');
  let xml = `<?xml version="1.0" encoding="UTF-8"?>\n<report name="${xmlEscape(table.name)}" title="${xmlEscape(table.title)}"${attrs}>\n`;
  for (const row of table.rows) {
    xml += '  <row>';
    for (const c of table.columns) {
      const cell = row[c.key] ?? null;
      if (cell === null) continue;
      const currency = c.kind === 'money' && typeof cell === 'object' && !(cell instanceof Date) ? ` currency="${xmlEscape(cell.currency)}"` : '';
      xml += `<${c.key}${currency}>${xmlEscape(textOf(cell))}</${c.key}>`;
    }
    xml += '</row>\n';
  }
  xml += '</report>\n';
  const done = finished(out);
  out.end(xml);
  await done;
}

/** Writes a whole table to `out` (and ends it). Column keys must be XML names (`[a-z][a-zA-Z0-9_]*`). */
export async function writeTable(format: TableFormat, table: Table, out: Writable): Promise<void> {
  for (const c of table.columns) if (!/^[a-z][a-zA-Z0-9_]*$/.test(c.key)) throw new Error(`Column key "${c.key}" is not an XML name`);
  if (format === 'csv') return writeCsv(table, out);
  if (format === 'xlsx') return writeXlsx(table, out);
  return writeXml(table, out);
}
