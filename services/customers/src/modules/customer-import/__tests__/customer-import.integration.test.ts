import { createHash, randomBytes } from 'node:crypto';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra } from '@crm/testing';
import { startCustomers } from '../../../app.js';
import { customersEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv: Record<string, string> = {
  ...subgraphTestEnv(infra, 'customers'),
  CUSTOMER_PII_KEY: randomBytes(32).toString('base64'),
  CUSTOMER_PII_HASH_KEY: randomBytes(32).toString('base64'),
};
const running = await startCustomers(parseEnv(customersEnvSchema, rawEnv));
const [repToken, adminToken, managerToken, analystToken] = await Promise.all(
  ['sales.rep', 'admin', 'sales.manager', 'analyst'].map((user) => login(infra, user)),
);
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token = repToken) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET));
const db = running.deps.connection;

afterAll(async () => {
  await db.dropDatabase();
  await running.stop();
});

const JOB_FIELDS = 'id filename format status total done created skipped failed duplicates unknownColumns failureReason createdBy startedAt finishedAt';
const START = `mutation($input: StartCustomerImportInput!) { startCustomerImport(input: $input) { ${JOB_FIELDS} } }`;
const UPLOAD = `mutation($jobId: ID!, $index: Int!, $data: String!) { uploadCustomerImportChunk(jobId: $jobId, index: $index, dataBase64: $data) { id status } }`;
const RUN = `mutation($jobId: ID!) { runCustomerImport(jobId: $jobId) { ${JOB_FIELDS} } }`;
const JOB = `query($id: ID!, $first: Int, $after: String) { customerImportJob(id: $id) { ${JOB_FIELDS}
  errors(first: $first, after: $after) { totalCount edges { cursor node { row kind duplicateOfId field message } } pageInfo { hasNextPage endCursor } } } }`;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Starts a job and uploads the file in chunks; returns the job id. */
async function upload(file: Buffer, format: 'CSV' | 'XLSX', { token = repToken, chunkSize = 64 * 1024, filename = `customers.${format.toLowerCase()}` } = {}) {
  const started = await call(START, { input: { filename, format, sizeBytes: file.length, sha256: sha256(file) } }, token);
  expect(started.errors).toBeUndefined();
  const job = started.data!.startCustomerImport;
  expect(job).toMatchObject({ status: 'UPLOADING', total: null, done: 0 });
  for (let index = 0; index * chunkSize < file.length; index += 1) {
    const chunk = file.subarray(index * chunkSize, (index + 1) * chunkSize);
    const sent = await call(UPLOAD, { jobId: job.id, index, data: chunk.toString('base64') }, token);
    expect(sent.errors).toBeUndefined();
  }
  return job.id as string;
}

async function finished(jobId: string, token = repToken) {
  return eventually(
    async () => {
      const job = (await call(JOB, { id: jobId, first: 100 }, token)).data?.customerImportJob;
      return job && ['COMPLETED', 'FAILED'].includes(job.status) ? job : null;
    },
    110_000,
    100,
  );
}

async function importFile(file: Buffer, format: 'CSV' | 'XLSX', options: Parameters<typeof upload>[2] = {}) {
  const jobId = await upload(file, format, options);
  const ran = await call(RUN, { jobId }, options.token ?? repToken);
  expect(ran.errors).toBeUndefined();
  expect(['QUEUED', 'RUNNING', 'COMPLETED']).toContain(ran.data!.runCustomerImport.status);
  return finished(jobId, options.token ?? repToken);
}

const GOOD_AND_BAD_CSV = Buffer.from(
  [
    'name,email,phone,gender,birthday,tags,level,lifecycle_stage,country,city,id_type,id_number,shoe size',
    'Import Alpha,alpha@example.com,13800138000,male,1990-05-17,vip;edu,A,prospect,CN,Beijing,PRC_RESIDENT_ID,11010519491231002X,42',
    'Import Beta,not-an-email,12,,,,,,,,,,',
    '',
    ',nobody@example.com,,,,,,,,,,,',
    'Import Gamma,gamma@example.com,,女,2999-01-01,,Z,,China,,,,',
    '"Import ""Delta""",delta@example.com,+8613900000000,,,,,,,,,,',
  ].join('\r\n') + '\r\n',
);

// Each test imports up to a few thousand rows into FerretDB while the outbox relay publishes the
// previous tests' thousands of customer.created events: on a busy two-core CI machine a test took up
// to 30 s. Throughput is measured by bench/import.mjs, not by these timeouts.
describe('customer import (real Mongo, Kafka, Keycloak)', { timeout: 120_000 }, () => {
  it('imports a CSV: good rows created, bad rows reported by row and column, the job completes', async () => {
    const job = await importFile(GOOD_AND_BAD_CSV, 'CSV');
    expect(job).toMatchObject({ status: 'COMPLETED', total: 5, done: 5, created: 2, skipped: 0, failed: 3, unknownColumns: ['shoe size'], failureReason: null });
    expect(job.startedAt).toMatch(/Z$/);
    expect(job.finishedAt).toMatch(/Z$/);
    const errors = job.errors.edges.map((e: any) => e.node);
    expect(job.errors.totalCount).toBe(errors.length);
    expect(errors[0]).toEqual({ row: 1, kind: 'ERROR', duplicateOfId: null, field: 'shoe size', message: 'Unknown column: ignored' });
    expect(job.duplicates).toBe(0);
    const fieldsByRow = (row: number) => errors.filter((e: any) => e.row === row).map((e: any) => e.field).sort();
    expect(fieldsByRow(3)).toEqual(['email', 'phone']);
    expect(fieldsByRow(5)).toEqual(['name']);
    expect(fieldsByRow(6)).toEqual(['birthday', 'country', 'level']);
    expect(errors.every((e: any) => typeof e.message === 'string' && e.message.length > 0)).toBe(true);

    const list = await call(`{ customers(search: "import", first: 10) { edges { node { name email gender tags level lifecycleStage phones { number } identityDocument { number masked } } } } }`);
    const nodes = list.data!.customers.edges.map((e: any) => e.node).sort((a: any, b: any) => a.email.localeCompare(b.email));
    expect(nodes).toEqual([
      {
        name: 'Import Alpha',
        email: 'alpha@example.com',
        gender: 'MALE',
        tags: ['vip', 'edu'],
        level: 'A',
        lifecycleStage: 'PROSPECT',
        phones: [{ number: '+8613800138000' }],
        identityDocument: { number: '********002X', masked: true },
      },
      { name: 'Import "Delta"', email: 'delta@example.com', gender: null, tags: [], level: null, lifecycleStage: 'LEAD', phones: [{ number: '+8613900000000' }], identityDocument: null },
    ]);
  });

  it('imports an XLSX the same way', async () => {
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('People');
    sheet.addRow(['Name', 'Email', 'Phones', 'Birthday', 'Postal Code', 'City']);
    sheet.addRow(['Xlsx One', 'one@example.com', '13800000001;13800000002', new Date(Date.UTC(1988, 0, 31)), 100084, 'Shanghai']);
    sheet.addRow(['Xlsx Two', 'two@', '', '', '', '']);
    sheet.addRow(['', 'nameless@example.com']);
    const file = Buffer.from(await workbook.xlsx.writeBuffer());
    const job = await importFile(file, 'XLSX');
    expect(job).toMatchObject({ status: 'COMPLETED', format: 'XLSX', total: 3, done: 3, created: 1, failed: 2, unknownColumns: [] });
    expect(job.errors.edges.map((e: any) => [e.node.row, e.node.field])).toEqual([
      [3, 'email'],
      [4, 'name'],
    ]);
    const found = await call(`{ customers(search: "xlsx one") { edges { node { birthday phones { number } address { city postalCode } } } } }`);
    expect(found.data!.customers.edges[0].node).toEqual({
      birthday: '1988-01-31',
      phones: [{ number: '+8613800000001' }, { number: '+8613800000002' }],
      address: { city: 'Shanghai', postalCode: '100084' },
    });
  });

  it('reports progress in batches of 1000 and pages the errors', async () => {
    const rows = ['name,email'];
    for (let i = 1; i <= 2500; i += 1) rows.push(i % 500 === 0 ? `Bulk ${i},broken` : `Bulk ${i},bulk${i}@example.com`);
    const file = Buffer.from(rows.join('\n'));
    const jobId = await upload(file, 'CSV', { chunkSize: 10_000 });
    await call(RUN, { jobId });
    const seen: Array<{ total: number | null; done: number }> = [];
    const job = await eventually(
      async () => {
        const current = (await call(JOB, { id: jobId, first: 2 })).data!.customerImportJob;
        seen.push({ total: current.total, done: current.done });
        return current.status === 'COMPLETED' ? current : null;
      },
      110_000,
      20,
    );
    expect(job).toMatchObject({ total: 2500, done: 2500, created: 2495, skipped: 0, failed: 5 });
    // Progress only grows, in whole batches until the last.
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]!.done).toBeGreaterThanOrEqual(seen[i - 1]!.done);
    expect(seen.every(({ done }) => [0, 1000, 2000, 2500].includes(done))).toBe(true);
    expect(await db.collection('customers').countDocuments({ name: /^Bulk / })).toBe(2495);

    const first = job.errors;
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((e: any) => e.node.row)).toEqual([501, 1001]);
    const rest = (await call(JOB, { id: jobId, first: 10, after: first.pageInfo.endCursor })).data!.customerImportJob.errors;
    expect(rest.edges.map((e: any) => e.node.row)).toEqual([1501, 2001, 2501]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    // The file is no longer kept once the job is done.
    expect(await db.collection('customer_import_chunks').countDocuments({ _id: new RegExp(`^${jobId}:`) } as never)).toBe(0);
  });

  it('creates nothing new when the same file is imported again, and a completed job runs only once', async () => {
    const before = await db.collection('customers').countDocuments();
    const again = await importFile(GOOD_AND_BAD_CSV, 'CSV', { chunkSize: 100 });
    expect(again).toMatchObject({ status: 'COMPLETED', total: 5, created: 0, skipped: 2, failed: 3 });
    expect(await db.collection('customers').countDocuments()).toBe(before);
    const rerun = await call(RUN, { jobId: again.id });
    expect(rerun.data!.runCustomerImport).toMatchObject({ status: 'COMPLETED', created: 0, skipped: 2 });
  });

  it('resumes an interrupted job after its last stored batch', async () => {
    const rows = ['name'];
    for (let i = 1; i <= 2200; i += 1) rows.push(`Resume ${i}`);
    const file = Buffer.from(rows.join('\n'));
    const jobId = await upload(file, 'CSV');
    // As a runner that died after storing its first batch would have left it (that batch never reached
    // the customers here, which shows the resumed run starts after it).
    const oid = new (await import('mongoose')).Types.ObjectId(jobId);
    await db.collection('customer_imports').updateOne(
      { _id: oid },
      { $set: { status: 'RUNNING', total: 2200, done: 1000, created: 1000, runnerId: 'crashed', heartbeatAt: new Date(Date.now() - 3_600_000), startedAt: new Date() } },
    );
    expect((await call(RUN, { jobId })).errors).toBeUndefined();
    const job = await finished(jobId);
    expect(job).toMatchObject({ status: 'COMPLETED', total: 2200, done: 2200, created: 2200, failed: 0 });
    expect(await db.collection('customers').countDocuments({ name: /^Resume / })).toBe(1200);
    expect(await db.collection('customers').countDocuments({ name: 'Resume 1001' })).toBe(1);
    expect(await db.collection('customers').countDocuments({ name: 'Resume 1000' })).toBe(0);
  });

  it('imports likely duplicates but flags each against the customer it resembles (CUS-6)', async () => {
    const existing = await call(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, {
      input: { name: 'Known Person', phones: [{ number: '13700137000' }], email: 'known@example.com' },
    });
    const knownId = existing.data!.createCustomer.id as string;
    const file = Buffer.from(
      ['name,phone,email', 'Dup By Phone,+86 137 0013 7000,', 'Dup By Email,,KNOWN@example.com', 'Twin One,,twin@example.com', 'Twin Two,,twin@example.com', 'Fresh Face,,fresh@example.com'].join('\n'),
    );
    const job = await importFile(file, 'CSV');
    expect(job).toMatchObject({ status: 'COMPLETED', total: 5, created: 5, failed: 0, duplicates: 3 });
    const notes = job.errors.edges.map((e: any) => e.node);
    expect(notes.every((n: any) => n.kind === 'LIKELY_DUPLICATE')).toBe(true);
    expect(notes.filter((n: any) => n.row === 2)).toEqual([expect.objectContaining({ field: 'phone', duplicateOfId: knownId, message: expect.stringMatching(/same phone/) })]);
    expect(notes.filter((n: any) => n.row === 3)).toEqual([expect.objectContaining({ field: 'email', duplicateOfId: knownId })]);
    // Of two rows alike, the later one points at the earlier; the fresh row has nothing.
    const twins = await call(`{ customers(search: "twin", first: 5) { edges { node { id name } } } }`);
    const idOf = Object.fromEntries(twins.data!.customers.edges.map((e: any) => [e.node.name, e.node.id]));
    expect(notes.some((n: any) => n.row === 4)).toBe(false);
    expect(notes.filter((n: any) => n.row === 5).map((n: any) => n.duplicateOfId)).toEqual([idOf['Twin One']]);
    expect(notes.some((n: any) => n.row === 6)).toBe(false);
  });

  it('fails a file without a name column, with the reason', async () => {
    const job = await importFile(Buffer.from('email,phone\na@example.com,13800138000\n'), 'CSV');
    expect(job).toMatchObject({ status: 'FAILED', created: 0 });
    expect(job.failureReason).toMatch(/header.*"name"/);
  });

  it('lets only sales staff and admins import, and shows a job to its creator and admins only', async () => {
    const input = { filename: 'x.csv', format: 'CSV', sizeBytes: 10, sha256: 'a'.repeat(64) };
    const denied = await call(START, { input }, analystToken);
    expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'IMPORT_FORBIDDEN' });
    const jobId = await upload(Buffer.from('name\nVisible To\n'), 'CSV');
    const byManager = await call(JOB, { id: jobId }, managerToken);
    expect(byManager.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const chunkByManager = await call(UPLOAD, { jobId, index: 0, data: 'AAAA' }, managerToken);
    expect(chunkByManager.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const byAdmin = await call(JOB, { id: jobId }, adminToken);
    expect(byAdmin.data!.customerImportJob).toMatchObject({ id: jobId, status: 'UPLOADING' });
    const unknown = await call(JOB, { id: '64b7f0000000000000000000' });
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', reason: 'IMPORT_NOT_FOUND' });
    expect((await call(RUN, { jobId: 'nope' })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('refuses bad input with BAD_USER_INPUT and field details', async () => {
    const started = await call(START, { input: { filename: ' ', format: 'CSV', sizeBytes: 0, sha256: 'xyz' } });
    expect(started.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'IMPORT_INVALID_INPUT' });
    expect((started.errors![0]!.extensions!.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual(['input.filename', 'input.sha256', 'input.sizeBytes']);
    const format = await call(START, { input: { filename: 'a.ods', format: 'ODS', sizeBytes: 1, sha256: 'a'.repeat(64) } });
    expect(format.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    const file = Buffer.from('name\nChunky\n');
    const jobId = await upload(file, 'CSV');
    const tooLarge = await call(UPLOAD, { jobId, index: 1, data: Buffer.alloc(1024 * 1024 + 1).toString('base64') });
    expect(tooLarge.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'dataBase64' }] });
    const notBase64 = await call(UPLOAD, { jobId, index: 1, data: 'not base64!' });
    expect(notBase64.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'dataBase64' }] });
    const badIndex = await call(UPLOAD, { jobId, index: -1, data: 'AAAA' });
    expect(badIndex.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'index' }] });

    // A chunk that changes the content: the hash no longer matches.
    expect((await call(UPLOAD, { jobId, index: 0, data: Buffer.from('name\nChunkz\n').toString('base64') })).errors).toBeUndefined();
    const wrongHash = await call(RUN, { jobId });
    expect(wrongHash.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'sha256' }] });
    // A missing chunk: the size does not add up.
    const partial = await call(START, { input: { filename: 'p.csv', format: 'CSV', sizeBytes: file.length * 2, sha256: sha256(file) } });
    const partialId = partial.data!.startCustomerImport.id;
    await call(UPLOAD, { jobId: partialId, index: 0, data: file.toString('base64') });
    const incomplete = await call(RUN, { jobId: partialId });
    expect(incomplete.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'sizeBytes' }] });
    expect(incomplete.errors?.[0]?.extensions?.fields).toEqual([{ field: 'sizeBytes', message: expect.stringMatching(/chunk 1 is missing/) }]);

    // Once running, the file cannot change.
    expect((await call(UPLOAD, { jobId, index: 0, data: file.toString('base64') })).errors).toBeUndefined();
    expect((await call(RUN, { jobId })).errors).toBeUndefined();
    const late = await call(UPLOAD, { jobId, index: 0, data: file.toString('base64') });
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'IMPORT_NOT_UPLOADING' });
    await finished(jobId);
    const badCursor = await call(JOB, { id: jobId, after: 'zzz' });
    expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'after' }] });
  });
});
