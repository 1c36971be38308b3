import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { eventually } from '@crm/testing';
import { e2ePlatform, gatewayCalls, loginAll } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('analytics');
const { raw, asUser } = gatewayCalls(platform);
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });
/** Today's date in Asia/Shanghai, the reports' default zone. */
const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);

describe(`analytics reports through the gateway (logs: ${logDir})`, () => {
  it('orders placed through sales show up in the sales trend, the customer value, the geography and the report files and charts', async () => {
    const tokens = await loginAll(infra, ['sales.manager', 'sales.rep', 'analyst', 'customer'] as const);
    const [manager, rep, analyst] = [asUser(tokens['sales.manager']), asUser(tokens['sales.rep']), asUser(tokens.analyst)];
    const { createProduct: product } = await manager(`mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`, { input: { sku: `E2E-ANA-${Date.now()}`, name: 'Lab bench', price: cny(250_000) } });
    await manager(`mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }`, { input: { productId: product.id, quantity: 10 } });
    const { createCustomer: customer } = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, {
      input: { name: 'Shenzhen Polytechnic', organization: 'Shenzhen Polytechnic', address: { country: 'CN', province: '广东', city: '深圳' } },
    });
    for (const quantity of [1, 2]) {
      await rep(`mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`, { input: { customerId: customer.id, currency: 'CNY', lines: [{ productId: product.id, quantity }] } });
    }

    // This run has its own topics, so its figures hold only these two orders: ¥2,500.00 × 3.
    const trend = await eventually(async () => {
      const t = (await analyst(`query($d: String!) { salesTrend(from: $d, to: $d, granularity: DAY) { orders total { amountMinor currency } points { period orders } } }`, { d: today })).salesTrend;
      return t.orders === 2 ? t : undefined;
    }, 60_000, 250);
    expect(trend).toEqual({ orders: 2, total: cny(750_000), points: [{ period: today, orders: 2 }] });

    // Customer.value resolved by analytics inside the customers subgraph's Customer.
    const value = await eventually(async () => {
      const c = (await rep(`query($id: ID!) { customer(id: $id) { name value { orders revenue { amountMinor currency } lifetimeValue { amountMinor } recencyDays churnRisk { level } } } }`, { id: customer.id })).customer;
      return c.value?.orders === 2 ? c : undefined;
    }, 30_000, 250);
    expect(value).toEqual({ name: 'Shenzhen Polytechnic', value: { orders: 2, revenue: [cny(750_000)], lifetimeValue: { amountMinor: 2_250_000 }, recencyDays: 0, churnRisk: { level: 'LOW' } } });
    const cities = await eventually(async () => {
      const d = (await analyst(`{ customerDistribution(level: CITY, country: "CN") { rows { key customers orders amount { amountMinor } } } }`)).customerDistribution;
      return d.rows.length ? d : undefined;
    }, 30_000, 250);
    expect(cities.rows).toEqual([{ key: '深圳', customers: 1, orders: 2, amount: { amountMinor: 750_000 } }]);

    // The same report as a file and as a chart, through the gateway's download route.
    const base = platform.gatewayUrl.replace(/\/graphql$/, '');
    const download = (path: string, token?: string) => fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const csv = await download(`/reports/sales-trend.csv?from=${today}&to=${today}&granularity=DAY`, tokens.analyst);
    expect(csv.status).toBe(200);
    expect(parse(await csv.text(), { bom: true, columns: true })).toEqual([{ period: today, orders: '2', amount: '7500.00' }]);
    const chart = await download(`/reports/customer-distribution.svg?level=CITY&country=CN`, tokens.analyst);
    expect(chart.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    const svg = await chart.text();
    expect(svg).toContain('Customers by place');
    expect(svg).toContain('>深圳<');
    expect((await download(`/reports/sales-trend.csv?from=${today}&to=${today}`, tokens.customer)).status).toBe(403);
    expect((await download(`/reports/sales-trend.csv?from=${today}&to=${today}`)).status).toBe(401);
    const bad = await download(`/reports/sales-trend.xml?from=${today}&to=2000-01-01`, tokens.analyst);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).errors[0].extensions.fields[0].field).toBe('to');
    const refused = await raw(tokens.customer)(`{ churnWarnings { customerId } }`);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  }, 240_000);
});
