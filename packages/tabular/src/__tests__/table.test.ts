import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { guardFormula, writeTable, xmlEscape, type Table, type TableFormat } from '../index.js';

const table: Table = {
  name: 'sales-composition',
  title: 'Sales by customer',
  parameters: { from: '2025-01-01', to: '2025-12-31', currency: 'CNY' },
  columns: [
    { key: 'key', label: 'Customer', kind: 'text' },
    { key: 'orders', label: 'Orders', kind: 'integer' },
    { key: 'amount', label: 'Amount', kind: 'money' },
    { key: 'share', label: 'Share', kind: 'ratio' },
    { key: 'at', label: 'Last order', kind: 'instant' },
  ],
  rows: [
    { key: '深圳 <客户> & co', orders: 3, amount: { amountMinor: 129_905, currency: 'CNY' }, share: 0.75, at: new Date('2025-03-01T08:00:00Z') },
    { key: '=HYPERLINK("http://x")', orders: 1, amount: { amountMinor: -5, currency: 'CNY' }, share: 0.25, at: null },
  ],
};

async function written(format: TableFormat): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeTable(format, table, out);
  return Buffer.concat(chunks);
}

describe('writeTable', () => {
  it('writes CSV with a BOM, exact decimals, ISO instants and formulas defused', async () => {
    const text = (await written('csv')).toString('utf8');
    expect(text.startsWith('\uFEFF')).toBe(true);
    expect(parse(text, { bom: true, columns: true })).toEqual([
      { key: '深圳 <客户> & co', orders: '3', amount: '1299.05', share: '0.75', at: '2025-03-01T08:00:00.000Z' },
      { key: `'=HYPERLINK("http://x")`, orders: '1', amount: '-0.05', share: '0.25', at: '' },
    ]);
  });

  it('writes XLSX with number cells, formats and the parameters on their own sheet', async () => {
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await written('xlsx')) as never);
    const sheet = workbook.getWorksheet('sales-composition')!;
    expect(sheet.getRow(1).values).toEqual([undefined, 'key', 'orders', 'amount', 'share', 'at']);
    expect(sheet.getCell('C2').value).toBe(1299.05);
    expect(sheet.getColumn(3).numFmt).toBe('0.00');
    expect(sheet.getColumn(4).numFmt).toBe('0.00%');
    expect(sheet.getCell('A3').value).toBe(`'=HYPERLINK("http://x")`);
    expect((sheet.getCell('E2').value as Date).toISOString()).toBe('2025-03-01T08:00:00.000Z');
    const info = workbook.getWorksheet('parameters')!;
    expect(info.getSheetValues().slice(1).map((r) => (r as unknown[]).slice(1))).toEqual([['report', 'sales-composition'], ['title', 'Sales by customer'], ['from', '2025-01-01'], ['to', '2025-12-31'], ['currency', 'CNY']]);
  });

  it('writes XML with escaped text, the currency on money and empty cells left out', async () => {
    const xml = (await written('xml')).toString('utf8');
    expect(xml).toContain('<report name="sales-composition" title="Sales by customer" from="2025-01-01" to="2025-12-31" currency="CNY">');
    expect(xml).toContain('<row><key>深圳 &lt;客户&gt; &amp; co</key><orders>3</orders><amount currency="CNY">1299.05</amount><share>0.75</share><at>2025-03-01T08:00:00.000Z</at></row>');
    expect(xml).toContain('<row><key>=HYPERLINK(&quot;http://x&quot;)</key><orders>1</orders><amount currency="CNY">-0.05</amount><share>0.25</share></row>');
  });

  it('refuses a column key that is not an XML name', async () => {
    await expect(writeTable('xml', { ...table, columns: [{ key: 'bad key', label: 'x', kind: 'text' }] }, new PassThrough())).rejects.toThrow(/not an XML name/);
  });
});

describe('escaping', () => {
  it('defuses spreadsheet formulas but keeps phone numbers and signed numbers', () => {
    expect(guardFormula('+8613800138000')).toBe('+8613800138000');
    expect(guardFormula('-42')).toBe('-42');
    expect(guardFormula('+8613800138000;+8613900000000')).toBe('+8613800138000;+8613900000000');
    expect(guardFormula('+cmd|calc')).toBe("'+cmd|calc");
    expect(guardFormula('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(guardFormula('plain')).toBe('plain');
  });

  it('drops characters XML cannot carry and escapes markup', () => {
    expect(xmlEscape('a\u0001b\uD800c <&>')).toBe('abc &lt;&amp;&gt;');
  });
});
