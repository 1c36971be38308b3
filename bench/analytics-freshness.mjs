// Event freshness of the analytics read models (issue 7): how long from an order being placed until the
// sales trend shows it, at a sustained rate. Two ways in:
//   gateway   — the whole platform (scripts/platform.mjs, ephemeral databases and topics); orders placed
//               through the gateway at the target rate (open loop, at most C in flight); the clock starts
//               when the gateway answers (the order is committed) and stops when `salesTrend` through the
//               gateway counts it.
//   synthetic — only the analytics service (in this process, as the tests start it) and real Kafka:
//               `order.placed` events published at the target rate; the clock starts when Kafka
//               acknowledges the batch. This measures the read model alone, at rates the sales service
//               on this machine cannot produce.
// Orders are matched to figures by count: the k-th order placed is visible once the trend counts k.
// Usage (after `pnpm build`, with the servers of `pnpm infra:up`):
//   node bench/analytics-freshness.mjs synthetic [rate=200] [seconds=30]
//   node bench/analytics-freshness.mjs gateway [rate=200] [seconds=30] [concurrency=32]
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlatform } from '../scripts/platform.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = (path) => import(join(root, path));
const { testInfra, subgraphTestEnv, uniqueName, login } = await lib('packages/testing/dist/index.js');
const [mode = 'synthetic', rate = 200, seconds = 30, concurrency = 32] = process.argv.slice(2).map((v, i) => (i === 0 ? v : Number(v)));
const POLL_MS = 25;
const pct = (list, p) => [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor((p / 100) * list.length))] ?? NaN;
const today = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
const TREND = `query($d: String!) { salesTrend(from: $d, to: $d, granularity: DAY) { orders } }`;
const infra = await testInfra();
let tokenAt = 0;
let analystToken;
const analyst = async () => {
  if (Date.now() - tokenAt > 60_000) [analystToken, tokenAt] = [await login(infra, 'analyst'), Date.now()];
  return analystToken;
};

async function graphql(url, query, variables, headers) {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query, variables }) });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 300));
  return body.data;
}

/** Polls the order count until `expected` or the deadline; returns the times at which each count was first seen. */
function watchCount(readCount) {
  const seen = []; // seen[k-1] = first time the trend counted at least k orders
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now();
      const count = await readCount().catch(() => seen.length);
      const at = performance.now();
      while (seen.length < count) seen.push(at);
      const wait = POLL_MS - (performance.now() - t0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();
  return { seen, stop: async () => ((stopped = true), await loop) };
}

function report(label, placedAt, seen, elapsed) {
  const sorted = [...placedAt].sort((a, b) => a - b);
  const visible = sorted.map((t, k) => (seen[k] === undefined ? NaN : seen[k] - t)).filter((d) => !Number.isNaN(d));
  const missing = sorted.length - visible.length;
  console.log(`${label}: ${sorted.length} orders in ${(elapsed / 1000).toFixed(1)} s (${((sorted.length / elapsed) * 1000).toFixed(1)}/s achieved, target ${rate}/s)`);
  console.log(`  freshness p50 ${pct(visible, 50).toFixed(0)} ms, p95 ${pct(visible, 95).toFixed(0)} ms, p99 ${pct(visible, 99).toFixed(0)} ms, max ${Math.max(...visible).toFixed(0)} ms${missing ? `; ${missing} never shown before the deadline` : ''}`);
  console.log(`  server: ${infra.mongoUrl}`);
}

/** Sends `total` things at `rate` per second in 50 ms ticks (open loop: a slow answer does not slow the schedule). */
async function openLoop(total, send) {
  const started = performance.now();
  const pending = [];
  for (let sent = 0; sent < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate) + 1);
    if (due > sent) {
      pending.push(send(sent, due - sent));
      sent = due;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await Promise.all(pending);
  return performance.now() - started;
}

async function waitFor(seen, count, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (seen.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

if (mode === 'synthetic') {
  const { startAnalytics } = await lib('services/analytics/dist/app.js');
  const { analyticsEnvSchema } = await lib('services/analytics/dist/env.js');
  const { parseEnv } = await lib('packages/env/dist/index.js');
  const { createEvent, KafkaClient, KafkaEventPublisher } = await lib('packages/events/dist/index.js');
  const { createLogger } = await lib('packages/logger/dist/index.js');
  const env = { ...subgraphTestEnv(infra, 'analytics'), ANALYTICS_GROUP_PREFIX: uniqueName('bench-analytics'), ANALYTICS_JOB_INTERVAL_MS: '0', LOG_LEVEL: 'warn' };
  const running = await startAnalytics(parseEnv(analyticsEnvSchema, env));
  console.log(`analytics up at ${running.url}`);
  const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('bench'), logger: createLogger({ service: 'bench', level: 'silent' }), topicPrefix: env.KAFKA_TOPIC_PREFIX });
  const publisher = new KafkaEventPublisher(kafka);
  const headers = async () => ({ authorization: `Bearer ${await analyst()}`, 'x-crm-gateway-secret': env.GATEWAY_SECRET });
  const readCount = async () => (await graphql(running.url, TREND, { d: today() }, await headers())).salesTrend.orders;
  const order = () => {
    const orderId = randomBytes(12).toString('hex');
    const total = { amountMinor: 10_000 + Math.floor(Math.random() * 90_000), currency: 'CNY' };
    return createEvent({ source: '/crm/sales', type: 'order.placed', subject: orderId, time: new Date(), data: {
      orderId, customerId: randomBytes(12).toString('hex'), ownerId: 'bench', department: 'sales', campaignCode: null, status: 'APPROVED', paymentStatus: 'UNPAID', currency: 'CNY',
      lines: [{ productId: `p${Math.floor(Math.random() * 50)}`, quantity: 1, lineTotal: total }], totals: { total }, version: 1,
    } });
  };
  try {
    // Warm-up: topics exist, the group has joined, the first order is visible.
    await publisher.publish([order()]);
    const deadline = Date.now() + 60_000;
    while ((await readCount()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const base = await readCount();
    console.log(`warmed up; publishing ${rate * seconds} orders at ${rate}/s`);
    const watch = watchCount(async () => (await readCount()) - base);
    const placedAt = [];
    const total = rate * seconds;
    const elapsed = await openLoop(total, async (_from, n) => {
      const events = Array.from({ length: n }, order);
      await publisher.publish(events);
      const at = performance.now();
      for (let i = 0; i < n; i += 1) placedAt.push(at);
    });
    await waitFor(watch.seen, total, 120_000);
    await watch.stop();
    report('synthetic order.placed events straight to Kafka → analytics', placedAt, watch.seen, elapsed);
  } finally {
    await kafka.disconnect();
    await running.deps.connection.dropDatabase();
    await running.stop();
  }
} else {
  const logDir = mkdtempSync(join(tmpdir(), 'crm-bench-analytics-'));
  const platform = await startPlatform({
    root,
    infra: { MONGO_URL: infra.mongoUrl, KAFKA_BROKERS: infra.kafkaBrokers.join(','), KEYCLOAK_URL: infra.keycloakUrl, KEYCLOAK_REALM: infra.realm },
    ephemeral: true,
    logDir,
    logLevel: 'warn',
  });
  const [manager, rep] = [await login(infra, 'sales.manager'), await login(infra, 'sales.rep')];
  let repAt = Date.now();
  let repToken = rep;
  const repHeaders = async () => {
    if (Date.now() - repAt > 60_000) [repToken, repAt] = [await login(infra, 'sales.rep'), Date.now()];
    return { authorization: `Bearer ${repToken}` };
  };
  try {
    const { createProduct } = await graphql(platform.gatewayUrl, `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`, { input: { sku: `BENCH-ANA-${randomUUID().slice(0, 8)}`, name: 'Bench', price: { amountMinor: 9_900, currency: 'CNY' } } }, { authorization: `Bearer ${manager}` });
    await graphql(platform.gatewayUrl, `mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }`, { input: { productId: createProduct.id, quantity: 10_000_000 } }, { authorization: `Bearer ${manager}` });
    const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
    const place = async () => graphql(platform.gatewayUrl, PLACE, { input: { customerId: randomBytes(12).toString('hex'), currency: 'CNY', lines: [{ productId: createProduct.id, quantity: 1 }] } }, await repHeaders());
    const readCount = async () => (await graphql(platform.gatewayUrl, TREND, { d: today() }, { authorization: `Bearer ${await analyst()}` })).salesTrend.orders;
    await place();
    const deadline = Date.now() + 60_000;
    while ((await readCount()) < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const base = await readCount();
    const watch = watchCount(async () => (await readCount()) - base);
    const placedAt = [];
    let inFlight = 0;
    let failed = 0;
    const elapsed = await openLoop(rate * seconds, async (_from, n) => {
      await Promise.all(Array.from({ length: n }, async () => {
        while (inFlight >= concurrency) await new Promise((r) => setTimeout(r, 5));
        inFlight += 1;
        try {
          await place();
          placedAt.push(performance.now());
        } catch (error) {
          failed += 1;
          if (failed <= 3) console.warn(`order failed: ${error.message}`);
        } finally {
          inFlight -= 1;
        }
      }));
    });
    await waitFor(watch.seen, placedAt.length, 120_000);
    await watch.stop();
    report(`orders placed through the gateway (${concurrency} in flight at most, ${failed} failed)`, placedAt, watch.seen, elapsed);
  } finally {
    await platform.stop();
  }
}
process.exit(0);
