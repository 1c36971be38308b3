import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { cellText, columnOf, countRows, ImportFileError, normaliseColumnName, readSheet, toCustomerInput, type ImportFormat, type SheetItem } from '../customer-import.parse.js';

async function* chunked(data: Buffer, size = 7): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function read(data: Buffer | string, format: ImportFormat = 'CSV'): Promise<SheetItem[]> {
  const items: SheetItem[] = [];
  for await (const item of readSheet(chunked(Buffer.from(data)), format)) items.push(item);
  return items;
}

async function xlsx(rows: unknown[][], extraSheet = false): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Customers');
  for (const row of rows) sheet.addRow(row);
  if (extraSheet) workbook.addWorksheet('Other').addRow(['name']);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

describe('reading CSV', () => {
  it('reads a header and rows with spreadsheet row numbers, through BOM, CRLF, quotes and multi-line cells', async () => {
    const csv =
      '\ufeffName,EMAIL,Postal Code,lifecycleStage,Favourite Colour,id\r\n' +
      '"Zhang, Wei",zw@example.com,100084,lead,blue,x\r\n' +
      '\r\n' +
      '"Li\r\nNa",ln@example.com,,,,\r\n' +
      'Wang "Fang",,,,,\r\n' +
      'Too,many,values,here,,,extra\r\n' +
      ',,,,,\r\n' +
      'Last,,,,,\r\n';
    const items = await read(csv);
    expect(items).toEqual([
      { kind: 'header', row: 1, unknownColumns: ['Favourite Colour'] },
      { kind: 'row', row: 2, values: { name: 'Zhang, Wei', email: 'zw@example.com', postal_code: '100084', lifecycle_stage: 'lead' } },
      { kind: 'row', row: 4, values: { name: 'Li\r\nNa', email: 'ln@example.com' } },
      { kind: 'row', row: 5, values: { name: 'Wang "Fang"' } },
      { kind: 'malformed', row: 6, message: 'The row has 7 values but the header names 6 columns' },
      { kind: 'row', row: 8, values: { name: 'Last' } },
    ]);
    expect(await countRows(chunked(Buffer.from(csv)), 'CSV')).toEqual({ rows: 5, unknownColumns: ['Favourite Colour'] });
  });

  it('keeps stray quotes, and reports a quote never closed as a malformed row ending the file', async () => {
    const csv = 'name,email\n' + 'A,a@example.com\n' + '"B"x,b@example.com\n' + 'C,c@example.com\n' + '"D,d@example.com\n' + 'E,e@example.com\n';
    const items = await read(csv);
    expect(items.map((i) => [i.kind, i.row])).toEqual([
      ['header', 1],
      ['row', 2],
      ['row', 3],
      ['row', 4],
      ['malformed', 5],
    ]);
    expect(items[2]).toMatchObject({ values: { name: '"B"x' } });
    expect((items[4] as { message: string }).message).toMatch(/never closed/);
    const long = 'name,email\n' + 'A,a@example.com\n' + `"B,${'x'.repeat(1100 * 1024)}\n` + 'C,c@example.com\n';
    expect((await read(long)).map((i) => [i.kind, i.row])).toEqual([
      ['header', 1],
      ['row', 2],
      ['malformed', 3],
    ]);
  });

  it('fails the file without a name column, and an empty file', async () => {
    await expect(read('email,phone\na@example.com,1\n')).rejects.toThrow(ImportFileError);
    await expect(read('email,phone\na@example.com,1\n')).rejects.toThrow(/at least "name"/);
    await expect(read('')).rejects.toThrow(/empty/);
    await expect(read('name,Name\n')).rejects.toThrow(/twice/);
  });
});

describe('reading XLSX', () => {
  it('reads the first worksheet: text, numbers, dates, rich text and formulas', async () => {
    const file = await xlsx(
      [
        ['name', 'phone', 'birthday', 'notes', 'whatever'],
        ['Zhang Wei', 13800138000, new Date(Date.UTC(1990, 4, 17)), { richText: [{ text: 'rich ' }, { text: 'text' }] }, 1],
        [],
        ['Li Na', '+86 139 0000 0000', '1985-01-02', { formula: '1+1', result: 2 }, ''],
      ],
      true,
    );
    expect(await read(file, 'XLSX')).toEqual([
      { kind: 'header', row: 1, unknownColumns: ['whatever'] },
      { kind: 'row', row: 2, values: { name: 'Zhang Wei', phone: '13800138000', birthday: '1990-05-17', notes: 'rich text' } },
      { kind: 'row', row: 4, values: { name: 'Li Na', phone: '+86 139 0000 0000', birthday: '1985-01-02', notes: '2' } },
    ]);
  });

  it('fails a file that is not a spreadsheet', async () => {
    await expect(read('name,email\n', 'XLSX')).rejects.toThrow(ImportFileError);
    await expect(read(await xlsx([['email'], ['a@example.com']]), 'XLSX')).rejects.toThrow(/at least "name"/);
  });

  it('turns cell values into text', () => {
    expect(cellText(null)).toBe('');
    expect(cellText(true)).toBe('TRUE');
    expect(cellText(12.5)).toBe('12.5');
    expect(cellText({ text: 'link', hyperlink: 'https://example.com' })).toBe('link');
    expect(cellText({ error: '#N/A' } as ExcelJS.CellErrorValue)).toBe('');
  });
});

describe('rows as customer input', () => {
  it('maps columns to the create input and problems back to columns', () => {
    const values = {
      name: 'Zhang Wei',
      gender: '男',
      phone: '13800138000',
      phones: '+8613900000000; +8613700000000',
      tags: 'vip; ;edu',
      level: 'vip',
      lifecycle_stage: 'Customer',
      city: 'Beijing',
      id_number: '11010519491231002X',
    };
    expect(toCustomerInput(values)).toMatchObject({
      name: 'Zhang Wei',
      gender: 'MALE',
      phones: [{ number: '13800138000' }, { number: '+8613900000000' }, { number: '+8613700000000' }],
      tags: ['vip', 'edu'],
      level: 'VIP',
      lifecycleStage: 'CUSTOMER',
      address: { city: 'Beijing' },
      identityDocument: { type: undefined, number: '11010519491231002X' },
    });
    expect(toCustomerInput({ name: 'X' })).toMatchObject({ address: undefined, identityDocument: undefined, phones: undefined });
    expect(columnOf('phones.0.number', values)).toBe('phone');
    expect(columnOf('phones.2.number', values)).toBe('phones');
    expect(columnOf('address.postalCode', values)).toBe('postal_code');
    expect(columnOf('identityDocument.type', values)).toBe('id_type');
    expect(columnOf('tags.1', values)).toBe('tags');
    expect(columnOf('email', values)).toBe('email');
    expect(normaliseColumnName(' Postal-Code ')).toBe('postal_code');
    expect(normaliseColumnName('idNumber')).toBe('id_number');
  });
});
