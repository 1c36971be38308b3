import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { cellText, countRows, ImportFileError, normaliseColumnName, readSheet, type ImportFormat, type SheetItem, type SheetSpec } from '../index.js';

const SPEC: SheetSpec<'sku' | 'name' | 'price' | 'notes'> = { columns: ['sku', 'name', 'price', 'notes'], required: ['sku', 'name'], ignored: ['id'] };

async function* chunked(data: Buffer, size = 5): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function read(data: Buffer | string, format: ImportFormat = 'CSV'): Promise<Array<SheetItem<string>>> {
  const items: Array<SheetItem<string>> = [];
  for await (const item of readSheet(chunked(Buffer.from(data)), format, SPEC)) items.push(item);
  return items;
}

describe('reading import files of a given column spec', () => {
  it('reads CSV in small chunks: header, rows with spreadsheet numbers, unknown and ignored columns, malformed rows', async () => {
    const csv = '\ufeffSKU,Name,Price,Colour,id\r\n"A-1","Pen, blue",1299.00,red,x\r\n\r\nB-2,"Ink\r\n50ml",,,\r\nC-3,Too,many,values,here,extra\r\n';
    expect(await read(csv)).toEqual([
      { kind: 'header', row: 1, unknownColumns: ['Colour'] },
      { kind: 'row', row: 2, values: { sku: 'A-1', name: 'Pen, blue', price: '1299.00' } },
      { kind: 'row', row: 4, values: { sku: 'B-2', name: 'Ink\r\n50ml' } },
      { kind: 'malformed', row: 5, message: 'The row has 6 values but the header names 5 columns' },
    ]);
    expect(await countRows(chunked(Buffer.from(csv)), 'CSV', SPEC)).toEqual({ rows: 3, unknownColumns: ['Colour'] });
  });

  it('fails a file without every required column, an empty file, a column named twice, and a non-spreadsheet', async () => {
    await expect(read('sku,price\nA,1\n')).rejects.toThrow(ImportFileError);
    await expect(read('sku,price\nA,1\n')).rejects.toThrow(/at least "sku", "name"/);
    await expect(read('')).rejects.toThrow(/empty/);
    await expect(read('sku,name,Name\n')).rejects.toThrow(/twice/);
    await expect(read('sku,name\n', 'XLSX')).rejects.toThrow(/Not a readable XLSX/);
  });

  it('reads the first XLSX worksheet as text (numbers, dates, formulas)', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Products');
    sheet.addRow(['sku', 'name', 'price', 'notes']);
    sheet.addRow(['A-1', 'Pen', 12.5, new Date(Date.UTC(2026, 0, 31))]);
    sheet.addRow([]);
    sheet.addRow(['B-2', { richText: [{ text: 'In' }, { text: 'k' }] }, { formula: '2*3', result: 6 }, '']);
    const file = Buffer.from(await workbook.xlsx.writeBuffer());
    expect(await read(file, 'XLSX')).toEqual([
      { kind: 'header', row: 1, unknownColumns: [] },
      { kind: 'row', row: 2, values: { sku: 'A-1', name: 'Pen', price: '12.5', notes: '2026-01-31' } },
      { kind: 'row', row: 4, values: { sku: 'B-2', name: 'Ink', price: '6' } },
    ]);
    expect(cellText(true)).toBe('TRUE');
    expect(normaliseColumnName(' Place-of Production')).toBe('place_of_production');
    expect(normaliseColumnName('costCurrency')).toBe('cost_currency');
  });
});
