import { createHash } from 'node:crypto';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startSales } from '../../../app.js';
import { salesEnvSchema } from '../../../env.js';
import { toProductInput } from '../product-import.columns.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'sales');
const running = await startSales(parseEnv(salesEnvSchema, rawEnv));
const [managerToken, adminToken, repToken] = await Promise.all(['sales.manager', 'admin', 'sales.rep'].map((user) => login(infra, user)));
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token = managerToken) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const db = running.deps.connection;
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.product`);

afterAll(async () => {
  await watcher.stop();
  await db.dropDatabase();
  await running.stop();
});

const JOB_FIELDS = 'id filename format status total done created skipped failed unknownColumns failureReason createdBy startedAt finishedAt';
const START = `mutation($input: StartProductImportInput!) { startProductImport(input: $input) { ${JOB_FIELDS} } }`;
const UPLOAD = `mutation($jobId: ID!, $index: Int!, $data: String!) { uploadProductImportChunk(jobId: $jobId, index: $index, dataBase64: $data) { id status } }`;
const RUN = `mutation($jobId: ID!) { runProductImport(jobId: $jobId) { ${JOB_FIELDS} } }`;
const JOB = `query($id: ID!, $first: Int, $after: String) { productImportJob(id: $id) { ${JOB_FIELDS}
  errors(first: $first, after: $after) { totalCount edges { cursor node { row field message } } pageInfo { hasNextPage endCursor } } } }`;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function upload(file: Buffer, format: 'CSV' | 'XLSX', { token = managerToken, chunkSize = 64 * 1024 } = {}) {
  const started = await call(START, { input: { filename: `products.${format.toLowerCase()}`, format, sizeBytes: file.length, sha256: sha256(file) } }, token);
  expect(started.errors).toBeUndefined();
  const job = started.data!.startProductImport;
  expect(job).toMatchObject({ status: 'UPLOADING', total: null, done: 0 });
  for (let index = 0; index * chunkSize < file.length; index += 1) {
    const sent = await call(UPLOAD, { jobId: job.id, index, data: file.subarray(index * chunkSize, (index + 1) * chunkSize).toString('base64') }, token);
    expect(sent.errors).toBeUndefined();
  }
  return job.id as string;
}

async function importFile(file: Buffer, format: 'CSV' | 'XLSX', options: { token?: string; chunkSize?: number } = {}) {
  const token = options.token ?? managerToken;
  const jobId = await upload(file, format, options);
  const ran = await call(RUN, { jobId }, token);
  expect(ran.errors).toBeUndefined();
  return eventually(
    async () => {
      const job = (await call(JOB, { id: jobId, first: 100 }, token)).data?.productImportJob;
      return job && ['COMPLETED', 'FAILED'].includes(job.status) ? job : null;
    },
    30_000,
    100,
  );
}

const productBySku = (sku: string) => db.collection('products').findOne({ sku });

const CSV = Buffer.from(
  [
    'SKU,Name,Category,Place of Production,production_date,cost,cost_currency,price,price_currency,status,notes,colour',
    'imp-tea-1,Longjing 250 g,Tea,Hangzhou,2026-04-01,"1,020.07",,1299.00,,draft,Hand-roasted,green',
    'IMP-PEN-1,Fountain pen,Stationery,,,0.07,USD,0.10,usd,,,',
    'IMP-BAD-1,Too precise,,,,,,12.345,,,,',
    'IMP-BAD-2,,,,2999-01-01,,,5,,SOLD,,',
    'IMP-BAD-3,Negative,,,,,,-3.00,,,,',
    'IMP-BAD-4,Mixed,,,,1.00,EUR,2.00,CNY,,,',
    '',
    'IMP-YEN-1,Yen priced,,,,,,1500,JPY,ACTIVE,,',
    'IMP-ODD-1,Too many,,,,,,1,,,,,extra',
  ].join('\r\n') + '\r\n',
);

describe('product import (real Mongo, Kafka, Keycloak)', () => {
  it('converts decimal prices exactly (never through floats)', () => {
    // 0.07 × 100 and 1.005 × 100 are not whole in floating point; the import never multiplies floats.
    expect(toProductInput({ sku: 'X', name: 'X', price: '0.07', cost: '1,020.07' }).input).toMatchObject({ price: { amountMinor: 7, currency: 'CNY' }, cost: { amountMinor: 102_007, currency: 'CNY' } });
    expect(toProductInput({ sku: 'X', name: 'X', price: '1.005', price_currency: 'KWD' }).input.price).toEqual({ amountMinor: 1005, currency: 'KWD' });
    expect(toProductInput({ sku: 'X', name: 'X', price: '1.005' }).problems).toEqual([{ field: 'price', message: 'At most 2 decimals for CNY' }]);
    expect(toProductInput({ sku: 'X', name: 'X', price: '1e3' }).problems.map((p) => p.field)).toEqual(['price']);
  });

  it('imports a CSV: good rows created with exact amounts, bad rows reported by row and column, the job completes', async () => {
    const job = await importFile(CSV, 'CSV', { chunkSize: 97 });
    expect(job).toMatchObject({ status: 'COMPLETED', total: 8, done: 8, created: 3, skipped: 0, failed: 5, unknownColumns: ['colour'], failureReason: null });
    expect(await productBySku('IMP-TEA-1')).toMatchObject({
      name: 'Longjing 250 g',
      category: 'Tea',
      placeOfProduction: 'Hangzhou',
      productionDate: new Date('2026-04-01T00:00:00.000Z'),
      processingNotes: 'Hand-roasted',
      price: { amountMinor: 129_900, currency: 'CNY' },
      cost: { amountMinor: 102_007, currency: 'CNY' },
      status: 'DRAFT',
      version: 1,
    });
    expect(await productBySku('IMP-PEN-1')).toMatchObject({ price: { amountMinor: 10, currency: 'USD' }, cost: { amountMinor: 7, currency: 'USD' }, status: 'ACTIVE' });
    expect(await productBySku('IMP-YEN-1')).toMatchObject({ price: { amountMinor: 1500, currency: 'JPY' } });
    for (const sku of ['IMP-BAD-1', 'IMP-BAD-2', 'IMP-BAD-3', 'IMP-BAD-4', 'IMP-ODD-1']) expect(await productBySku(sku)).toBeNull();

    const errors = job.errors.edges.map((e: any) => e.node);
    const byRow = (row: number) => errors.filter((e: any) => e.row === row).map((e: any) => e.field).sort();
    expect(errors[0]).toEqual({ row: 1, field: 'colour', message: 'Unknown column: ignored' });
    expect(byRow(4)).toEqual(['price']);
    expect(errors.find((e: any) => e.row === 4).message).toMatch(/At most 2 decimals/);
    expect(byRow(5)).toEqual(['name', 'production_date', 'status']);
    expect(byRow(6)).toEqual(['price']);
    expect(byRow(7)).toEqual(['cost_currency']);
    expect(errors.filter((e: any) => e.row === 10)).toEqual([{ row: 10, field: null, message: 'The row has 13 values but the header names 12 columns' }]);
    expect(job.errors.totalCount).toBe(errors.length);

    // Each created product published product.created (no cost), once the job let the relay go on.
    const tea = (await productBySku('IMP-TEA-1'))!._id.toHexString();
    const { event } = await watcher.find((e) => e.subject === tea, 20_000);
    expect(event).toMatchObject({ type: 'product.created', data: { sku: 'IMP-TEA-1', price: { amountMinor: 129_900, currency: 'CNY' }, status: 'DRAFT' } });
    expect(JSON.stringify(event.data)).not.toContain('102007');
  });

  it('skips SKUs already in the catalogue: the same file again, or a SKU created by hand; a completed job runs once', async () => {
    const before = await db.collection('products').countDocuments();
    const again = await importFile(CSV, 'CSV');
    expect(again).toMatchObject({ status: 'COMPLETED', created: 0, skipped: 3, failed: 5 });
    expect(again.errors.edges.filter((e: any) => e.node.field === 'sku').map((e: any) => e.node.row)).toEqual([2, 3, 9]);
    expect(await db.collection('products').countDocuments()).toBe(before);

    const manual = await call(`mutation { createProduct(input: { sku: "HAND-1", name: "By hand", price: { amountMinor: 100, currency: "CNY" } }) { id } }`);
    expect(manual.errors).toBeUndefined();
    const file = Buffer.from('sku,name,price\nhand-1,From file,2.00\nNEW-1,New,3.00\nNEW-1,Same SKU twice,4.00\n');
    const job = await importFile(file, 'CSV');
    expect(job).toMatchObject({ status: 'COMPLETED', created: 1, skipped: 2, failed: 0 });
    expect(await productBySku('HAND-1')).toMatchObject({ name: 'By hand', price: { amountMinor: 100 } });
    expect(await productBySku('NEW-1')).toMatchObject({ name: 'New', price: { amountMinor: 300 } });

    const rerun = await call(RUN, { jobId: job.id });
    expect(rerun.data!.runProductImport).toMatchObject({ status: 'COMPLETED', created: 1 });
  });

  it('imports an XLSX the same way (numbers and dates from cells)', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Products');
    sheet.addRow(['sku', 'name', 'price', 'production_date', 'cost']);
    sheet.addRow(['XLS-1', 'Sheet product', '88.80', new Date(Date.UTC(2025, 11, 24)), 12.5]);
    sheet.addRow(['XLS-2', 'Bad price', 'twelve']);
    const file = Buffer.from(await workbook.xlsx.writeBuffer());
    const job = await importFile(file, 'XLSX');
    expect(job).toMatchObject({ status: 'COMPLETED', total: 2, created: 1, failed: 1 });
    expect(await productBySku('XLS-1')).toMatchObject({ price: { amountMinor: 8_880, currency: 'CNY' }, cost: { amountMinor: 1_250 }, productionDate: new Date('2025-12-24T00:00:00.000Z') });
    expect(job.errors.edges.map((e: any) => [e.node.row, e.node.field])).toEqual([[3, 'price']]);
  });

  it('fails a file without the required columns, with the reason', async () => {
    const job = await importFile(Buffer.from('sku,name\nA-1,No price\n'), 'CSV');
    expect(job).toMatchObject({ status: 'FAILED', created: 0 });
    expect(job.failureReason).toMatch(/at least "sku", "name", "price"/);
  });

  it('lets only sales managers and admins import; a job is its creator’s and admins’; bad uploads are refused', async () => {
    const input = { filename: 'x.csv', format: 'CSV', sizeBytes: 10, sha256: 'a'.repeat(64) };
    const denied = await call(START, { input }, repToken);
    expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'IMPORT_FORBIDDEN' });
    const file = Buffer.from('sku,name,price\nVIS-1,Visible,1\n');
    const jobId = await upload(file, 'CSV');
    expect((await call(JOB, { id: jobId }, adminToken)).data!.productImportJob.id).toBe(jobId);
    expect((await call(JOB, { id: jobId }, repToken)).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'IMPORT_NOT_FOUND' });

    const badStart = await call(START, { input: { ...input, sha256: 'xyz', sizeBytes: 0 } });
    expect(badStart.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'IMPORT_INVALID_INPUT' });
    const wrongHash = await call(START, { input: { filename: 'w.csv', format: 'CSV', sizeBytes: file.length, sha256: 'b'.repeat(64) } });
    const wrongId = wrongHash.data!.startProductImport.id;
    await call(UPLOAD, { jobId: wrongId, index: 0, data: file.toString('base64') });
    expect((await call(RUN, { jobId: wrongId })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'sha256' }] });
    expect((await call(UPLOAD, { jobId, index: 0, data: '***' })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'dataBase64' }] });

    expect((await call(RUN, { jobId })).errors).toBeUndefined();
    await eventually(async () => (await call(JOB, { id: jobId })).data?.productImportJob.status === 'COMPLETED', 20_000);
    const late = await call(UPLOAD, { jobId, index: 1, data: file.toString('base64') });
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'IMPORT_NOT_UPLOADING' });
  });

  it('pages the errors of a large file in row order, in batches of 1000', async () => {
    const rows = ['sku,name,price'];
    for (let i = 1; i <= 1200; i += 1) rows.push(`BULK-${i},Bulk ${i},${i % 2 === 0 ? `${i}.00` : 'n/a'}`);
    const job = await importFile(Buffer.from(rows.join('\n')), 'CSV');
    expect(job).toMatchObject({ status: 'COMPLETED', total: 1200, done: 1200, created: 600, failed: 600 });
    const first = (await call(JOB, { id: job.id, first: 400 })).data!.productImportJob.errors;
    expect(first.totalCount).toBe(600);
    const second = (await call(JOB, { id: job.id, first: 400, after: first.pageInfo.endCursor })).data!.productImportJob.errors;
    const all = [...first.edges, ...second.edges].map((e: any) => e.node.row);
    expect(all).toHaveLength(600);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(second.pageInfo.hasNextPage).toBe(false);
    expect(await db.collection('products').countDocuments({ sku: /^BULK-/ })).toBe(600);
  }, 60_000);
});
