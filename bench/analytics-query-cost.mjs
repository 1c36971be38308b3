// Query cost growth of the analytics read models (issue 7): the monthly sales report (12 months by
// month, Asia/Shanghai) and the RFM top 100, with 10,000 and then 1,000,000 orders in history (5,000
// customers both times, orders spread over three years). Starts the analytics service in this process
// (as the tests do) on a fresh database.
//
// The history is written straight into the read models in the layout the consumers keep (order facts,
// `sales_days` per UTC day with 15-minute slots from the service's own `utcSlotOf`, `sales_periods` for the
// default reporting zone from its `periodOf`, `customer_values`, `customer_months`),
// because folding a million events through Kafka takes hours on this machine (see the freshness
// benchmark for the consumers' rate). Before timing, each report is checked against the generated
// orders, so the layout is the one the service reads.
// Usage (after `pnpm build`, with the servers of `pnpm infra:up`):
//   node bench/analytics-query-cost.mjs [small=10000] [large=1000000] [runs=20]
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = (path) => import(join(root, path));
const { testInfra, subgraphTestEnv, uniqueName, login } = await lib('packages/testing/dist/index.js');
const { startAnalytics } = await lib('services/analytics/dist/app.js');
const { analyticsEnvSchema } = await lib('services/analytics/dist/env.js');
const { utcSlotOf, periodOf } = await lib('services/analytics/dist/modules/read-model/zoned-time.js');
const { parseEnv } = await lib('packages/env/dist/index.js');
const [small = 10_000, large = 1_000_000, runs = 20] = process.argv.slice(2).map(Number);
const CUSTOMERS = 5_000;
const DAY = 86_400_000;
const now = Date.now();
const pct = (list, p) => [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor((p / 100) * list.length))];

const infra = await testInfra();
const env = { ...subgraphTestEnv(infra, 'analytics'), ANALYTICS_GROUP_PREFIX: uniqueName('bench-cost'), ANALYTICS_JOB_INTERVAL_MS: '0', LOG_LEVEL: 'warn' };
const running = await startAnalytics(parseEnv(analyticsEnvSchema, env));
const db = running.deps.connection;
// Access tokens live five minutes; writing the large history takes longer.
let token = { at: 0, value: '' };
const gql = async (query) => {
  if (Date.now() - token.at > 60_000) token = { at: Date.now(), value: await login(infra, 'analyst') };
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token.value}`, 'x-crm-gateway-secret': env.GATEWAY_SECRET };
  const body = await (await fetch(running.url, { method: 'POST', headers, body: JSON.stringify({ query }) })).json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
};

const customers = Array.from({ length: CUSTOMERS }, () => randomBytes(12).toString('hex'));
const days = new Map(); // `CNY|YYYYMMDD` → { a: {slot: amount}, n: {slot: count} }
const periods = new Map(); // `CNY|Asia/Shanghai|<period>` → { a, n } (the default reporting zone)
const values = new Map(); // customerId → customer_values document
const months = new Map(); // customerId → customer_months document
let seed = 1;
const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
const month = (d) => new Date(d + 8 * 3600_000).toISOString().slice(0, 7);
const from = month(now - 330 * DAY) + '-01';
const to = new Date(now + 8 * 3600_000).toISOString().slice(0, 10);
let expectedInRange = 0;

async function addOrders(count) {
  const t0 = performance.now();
  for (let done = 0; done < count; ) {
    const facts = [];
    for (let i = 0; i < Math.min(1000, count - done); i += 1) {
      const placed = now - Math.floor(random() * 3 * 365 * DAY);
      const customerId = customers[Math.floor(random() * CUSTOMERS)];
      const total = 1_000 + Math.floor(random() * 500_000);
      const { day, slot } = utcSlotOf(placed);
      const key = `CNY|${day}`;
      const d = days.get(key) ?? { a: {}, n: {} };
      d.a[slot] = (d.a[slot] ?? 0) + total;
      d.n[slot] = (d.n[slot] ?? 0) + 1;
      days.set(key, d);
      for (const g of ['DAY', 'MONTH', 'YEAR']) {
        const id = `CNY|Asia/Shanghai|${periodOf(placed, 'Asia/Shanghai', g)}`;
        const p = periods.get(id) ?? { a: 0, n: 0 };
        p.a += total;
        p.n += 1;
        periods.set(id, p);
      }
      const m = day.slice(0, 6);
      const v = values.get(customerId) ?? { _id: customerId, orders: 0, amount: { CNY: 0 }, firstOrderAt: new Date(placed), lastOrderAt: new Date(placed), ops: [] };
      v.orders += 1;
      v.amount.CNY += total;
      const cm = months.get(customerId) ?? { _id: customerId, m: {}, ops: [] };
      cm.m[m] = { n: (cm.m[m]?.n ?? 0) + 1, CNY: (cm.m[m]?.CNY ?? 0) + total };
      months.set(customerId, cm);
      if (placed < v.firstOrderAt.getTime()) v.firstOrderAt = new Date(placed);
      if (placed > v.lastOrderAt.getTime()) v.lastOrderAt = new Date(placed);
      values.set(customerId, v);
      if (new Date(placed + 8 * 3600_000).toISOString().slice(0, 10) >= from) expectedInRange += 1;
      facts.push({
        _id: randomBytes(12).toString('hex'), version: 1, customerId, ownerId: 'bench', department: 'sales', campaignCode: null, status: 'APPROVED', paymentStatus: 'PAID', currency: 'CNY', totalMinor: total,
        lines: [{ productId: `p${Math.floor(random() * 200)}`, quantity: 1, lineTotalMinor: total }], placedAt: new Date(placed), counted: true,
        contribution: null, updatedAt: new Date(placed), pending: [], // (what it adds is in the aggregates below)
      });
    }
    await db.collection('order_facts').insertMany(facts, { ordered: false });
    done += facts.length;
    if (done % 100_000 === 0) console.log(`  ${done.toLocaleString('en-US')} order facts written (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  // The aggregates as the consumers leave them: one document per UTC day and per customer.
  const docs = {
    sales_days: [...days].map(([_id, d]) => ({ _id, ...d, ops: [] })),
    sales_periods: [...periods].map(([_id, p]) => ({ _id, ...p, ops: [] })),
    customer_values: [...values.values()],
    customer_months: [...months.values()],
  };
  for (const [name, list] of Object.entries(docs)) {
    await db.collection(name).deleteMany({});
    for (let i = 0; i < list.length; i += 500) await db.collection(name).insertMany(list.slice(i, i + 500));
  }
  await running.services.customerValues.computeRfmModel(new Date());
}

const TREND = `{ salesTrend(from: "${from}", to: "${to}", granularity: MONTH) { orders points { period orders } } }`;
const RFM = `{ rfmTop(limit: 100) { customerId orders rfm { score } } }`;
async function measure(label) {
  const trend = (await gql(TREND)).salesTrend;
  if (trend.orders !== expectedInRange) throw new Error(`sales trend counts ${trend.orders} orders, the history has ${expectedInRange} in range`);
  const top = (await gql(RFM)).rfmTop;
  if (top.length !== 100) throw new Error(`rfmTop gave ${top.length} customers`);
  const time = async (query) => {
    const list = [];
    for (let i = 0; i < runs; i += 1) {
      const t0 = performance.now();
      await gql(query);
      list.push(performance.now() - t0);
    }
    return { p50: pct(list, 50), p95: pct(list, 95) };
  };
  const result = { trend: await time(TREND), rfm: await time(RFM), orders: await db.collection('order_facts').estimatedDocumentCount() };
  console.log(`${label}: ${result.orders.toLocaleString('en-US')} orders — monthly sales report p50 ${result.trend.p50.toFixed(1)} ms (p95 ${result.trend.p95.toFixed(1)}), RFM top 100 p50 ${result.rfm.p50.toFixed(1)} ms (p95 ${result.rfm.p95.toFixed(1)})`);
  return result;
}

try {
  console.log(`analytics at ${running.url}; ${CUSTOMERS} customers; report ${from}..${to}`);
  await addOrders(small);
  const a = await measure('small');
  await addOrders(large - small);
  const b = await measure('large');
  console.log(`ratio large/small (p50): monthly sales report ${(b.trend.p50 / a.trend.p50).toFixed(2)}, RFM top 100 ${(b.rfm.p50 / a.rfm.p50).toFixed(2)} (goal ≤ 1.5); server ${infra.mongoUrl}`);
} finally {
  await db.dropDatabase();
  await running.stop();
}
process.exit(0);
