import { randomBytes } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { gatewayHeaders, graphql, login, subgraphTestEnv, testInfra } from '@crm/testing';
import { startCustomers } from '../../../app.js';
import { customersEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv: Record<string, string> = {
  ...subgraphTestEnv(infra, 'customers'),
  CUSTOMER_PII_KEY: randomBytes(32).toString('base64'),
  CUSTOMER_PII_HASH_KEY: randomBytes(32).toString('base64'),
};
const running = await startCustomers(parseEnv(customersEnvSchema, rawEnv));
const users = ['sales.rep', 'admin', 'sales.manager', 'customer'] as const;
const tokens = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await login(infra, u)] as const))) as Record<(typeof users)[number], string>;
const base = running.url.replace(/\/graphql$/, '');

afterAll(async () => {
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const CREATE = `mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`;
const create = (input: Record<string, unknown>, as: (typeof users)[number]) =>
  graphql(running.url, CREATE, { input }, gatewayHeaders(tokens[as], rawEnv.GATEWAY_SECRET)).then((r) => {
    expect(r.errors).toBeUndefined();
    return (r.data as any).createCustomer.id as string;
  });

const download = (query: Record<string, string>, token: string | null = tokens['sales.rep'], secret: string | null = rawEnv.GATEWAY_SECRET!) =>
  fetch(`${base}/exports/customers?${new URLSearchParams(query)}`, { headers: gatewayHeaders(token ?? undefined, secret ?? undefined) });

// 230 of the rep's own customers (three pages of 100), one VIP with an identity number and awkward
// text, and one of the admin's that the rep may not see.
const VIP = {
  name: '张伟 "Zhang", <Wei> & co',
  email: 'zhang.wei@example.com',
  phones: [{ number: '13800138000' }, { number: '+8613900000000', kind: 'WORK' }],
  identityDocument: { type: 'PRC_RESIDENT_ID', number: '11010519491231002X' },
  address: { country: 'CN', province: '北京', city: '北京', postalCode: '100084' },
  tags: ['vip', 'edu'],
  level: 'VIP',
  notes: '=HYPERLINK("http://evil")\nsecond line',
};
let vipId = '';
beforeAll(async () => {
  vipId = await create(VIP, 'sales.rep');
  await create({ name: 'Admin Only', level: 'VIP', identityDocument: { type: 'PASSPORT', number: 'E12345678' } }, 'admin');
  const me = JSON.parse(Buffer.from(tokens['sales.rep'].split('.')[1]!, 'base64url').toString('utf8'));
  const rep = { id: me.sub, username: me.preferred_username, roles: me.realm_access.roles, groups: me.groups ?? [] };
  const { Types } = await import('mongoose');
  const rows = Array.from({ length: 229 }, (_, i) => ({ id: new Types.ObjectId(), input: { name: `Bulk ${String(i).padStart(3, '0')}`, level: i % 2 ? 'B' : 'C' } }));
  const results = await running.services.customers.createMany(rows as never, rep);
  expect(results.every((r) => r.status === 'CREATED')).toBe(true);
}, 60_000);

describe('customer export (real Mongo, Keycloak)', () => {
  it('streams a CSV of every visible customer, identity numbers masked for a sales rep', async () => {
    const response = await download({ format: 'csv' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="customers-\d{8}-\d{6}\.csv"$/);
    const bytes = Buffer.from(await response.arrayBuffer());
    // A UTF-8 byte order mark, so spreadsheet programs read the Chinese text right (fetch's text() drops it).
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.toString('utf8');
    const records = parse(text, { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(records).toHaveLength(230);
    expect(records.some((r) => r.name === 'Admin Only')).toBe(false);
    const vip = records.find((r) => r.id === vipId)!;
    expect(vip).toMatchObject({
      name: '张伟 "Zhang", <Wei> & co',
      email: 'zhang.wei@example.com',
      phones: '+8613800138000;+8613900000000',
      tags: 'vip;edu',
      level: 'VIP',
      lifecycle_stage: 'LEAD',
      country: 'CN',
      postal_code: '100084',
      id_type: 'PRC_RESIDENT_ID',
      id_number: '********002X',
      // A spreadsheet must not run it as a formula.
      notes: `'=HYPERLINK("http://evil")\nsecond line`,
    });
    expect(text).not.toContain('11010519491231002X');
  });

  it('applies filter, search and order like customers(...)', async () => {
    const response = await download({ format: 'csv', filter: JSON.stringify({ levels: ['B'] }), orderBy: 'NAME_ASC' });
    const records = parse(await response.text(), { bom: true, columns: true }) as Array<Record<string, string>>;
    expect(records).toHaveLength(114);
    expect(records.every((r) => r.level === 'B')).toBe(true);
    expect(records.map((r) => r.name)).toEqual([...records.map((r) => r.name)].sort());
    const searched = parse(await (await download({ format: 'csv', search: 'zhangwei' })).text(), { bom: true, columns: true });
    expect(searched.map((r: any) => r.id)).toEqual([vipId]);
  });

  it('streams XLSX, with the identity number in clear for an admin', async () => {
    const response = await download({ format: 'xlsx', filter: JSON.stringify({ levels: ['VIP'] }) }, tokens.admin);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.from(await response.arrayBuffer()) as never);
    const sheet = workbook.worksheets[0]!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(header.slice(0, 3)).toEqual(['id', 'name', 'email']);
    const rows = [];
    for (let r = 2; r <= sheet.rowCount; r += 1) {
      const values = (sheet.getRow(r).values as unknown[]).slice(1);
      rows.push(Object.fromEntries(header.map((h, i) => [h, values[i] ?? ''])));
    }
    expect(rows.map((r) => r.name).sort()).toEqual(['Admin Only', VIP.name].sort());
    expect(rows.find((r) => r.id === vipId)).toMatchObject({ id_number: '11010519491231002X', notes: VIP.notes });
  });

  it('streams XML, escaped, with masked identity numbers for a sales rep', async () => {
    const response = await download({ format: 'xml', filter: JSON.stringify({ levels: ['VIP'] }) });
    expect(response.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    const xml = await response.text();
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<customers exportedAt="[^"]+Z">\n/);
    expect(xml.match(/<customer id=/g)).toHaveLength(1);
    expect(xml).toContain(`<customer id="${vipId}">`);
    expect(xml).toContain('<name>张伟 &quot;Zhang&quot;, &lt;Wei&gt; &amp; co</name>');
    expect(xml).toContain('<phone kind="MOBILE">+8613800138000</phone>');
    expect(xml).toContain('<phone kind="WORK">+8613900000000</phone>');
    expect(xml).toContain('<identityDocument type="PRC_RESIDENT_ID" masked="true">********002X</identityDocument>');
    expect(xml).toContain('<tags><tag>vip</tag><tag>edu</tag></tags>');
    expect(xml).not.toContain('Admin Only');
    expect(xml.trimEnd().endsWith('</customers>')).toBe(true);
  });

  it('refuses requests without the gateway secret, without a token or with bad parameters; a customer gets only its own record', async () => {
    expect((await download({ format: 'csv' }, tokens['sales.rep'], null)).status).toBe(403);
    const noToken = await download({ format: 'csv' }, null);
    expect(noToken.status).toBe(401);
    expect(((await noToken.json()) as any).errors[0].extensions.code).toBe('UNAUTHENTICATED');
    const badFormat = await download({ format: 'pdf' });
    expect(badFormat.status).toBe(400);
    expect(((await badFormat.json()) as any).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'format' }] });
    expect((await download({ filter: '{nope' })).status).toBe(400);
    const badFilter = await download({ filter: JSON.stringify({ levels: ['Z'] }) });
    expect(badFilter.status).toBe(400);
    expect(((await badFilter.json()) as any).errors[0].extensions.fields[0].field).toMatch(/^filter\.levels/);
    expect((await download({ orderBy: 'SIDEWAYS' })).status).toBe(400);
    // A customer's export holds only the record linked to its own account (none here): a header alone.
    const asCustomer = await download({ format: 'csv' }, tokens.customer);
    expect(asCustomer.status).toBe(200);
    expect(parse(await asCustomer.text(), { bom: true, columns: true })).toEqual([]);
  });
});
