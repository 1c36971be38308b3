// Order placement throughput (issue 4, SAL-6): starts the whole platform like the e2e test does
// (scripts/platform.mjs, ephemeral databases and topics), makes P products with plenty of stock, then
// places N orders through the gateway with C requests in flight (1 to 3 lines each, below the
// approval threshold, so every order is priced, auto-approved and reserves its stock). Every 5th
// step also places the same kind of order directly at the sales subgraph (with its gateway secret),
// interleaved so both see the same data sizes and load. Prints orders/s, p50/p95 of both paths, and
// how the gateway path's time splits into the gateway's share (gateway − direct) and the sales
// subgraph's (direct).
// Usage:
//   pnpm turbo run build --filter @crm/e2e... && node bench/orders.mjs [orders=10000] [concurrency=8] [products=50]
// Needs the servers of .local/infra.env (pnpm infra:up) or MONGO_URL, KAFKA_BROKERS, KEYCLOAK_URL.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPlatform } from '../scripts/platform.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The servers `pnpm infra:up` wrote down (@crm/testing reads the file the same way for the tests).
const { readEnvFile } = await import(join(root, 'packages/testing/dist/index.js'));
const fileEnv = readEnvFile(join(root, '.local/infra.env'));
const infra = { ...fileEnv, ...Object.fromEntries(['MONGO_URL', 'KAFKA_BROKERS', 'KEYCLOAK_URL', 'KEYCLOAK_REALM'].filter((k) => process.env[k]).map((k) => [k, process.env[k]])) };
const [orders = 10_000, concurrency = 8, productCount = 50] = process.argv.slice(2).map(Number);
const DIRECT_EVERY = 5;
const pct = (list, p) => [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor((p / 100) * list.length))] ?? NaN;
const fmt = (n) => n.toLocaleString('en-US');

// Access tokens live minutes: log in again when the one in hand is a minute old.
// One login at a time per user (parallel logins trip Keycloak's brute-force detection).
const tokens = new Map();
function token(username) {
  const held = tokens.get(username);
  if (held && Date.now() - held.at < 60_000) return held.token;
  const fresh = { at: Date.now(), token: login(username) };
  tokens.set(username, fresh);
  fresh.token.catch(() => tokens.delete(username));
  return fresh.token;
}
async function login(username) {
  const response = await fetch(`${infra.KEYCLOAK_URL}/realms/${infra.KEYCLOAK_REALM ?? 'crm'}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'crm-cli', username, password: process.env.CRM_PASSWORD ?? 'crm-demo-2026' }),
  });
  if (!response.ok) throw new Error(`login of ${username} failed: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

async function gql(url, query, variables, username, extraHeaders = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await token(username)}`, ...extraHeaders },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

// The platform's processes sometimes lose a race creating the run's Kafka topics at start: try again.
let platform;
const logDir = mkdtempSync(join(tmpdir(), 'crm-bench-orders-'));
for (let attempt = 1; !platform; attempt += 1) {
  try {
    platform = await startPlatform({
      root,
      infra: { MONGO_URL: infra.MONGO_URL, KAFKA_BROKERS: infra.KAFKA_BROKERS, KEYCLOAK_URL: infra.KEYCLOAK_URL, KEYCLOAK_REALM: infra.KEYCLOAK_REALM ?? 'crm' },
      ephemeral: true,
      logDir,
      logLevel: 'warn',
    });
  } catch (error) {
    if (attempt >= 3) throw error;
    console.warn(`platform did not start (${error.message}); retrying`);
  }
}
const sales = platform.subgraphs.sales;
console.log(`platform up (logs: ${logDir}); ${fmt(orders)} orders through the gateway, ${concurrency} in flight, ${productCount} products`);

try {
  // --- products with stock (as the sales manager) --------------------------------------------------
  const products = [];
  for (let i = 0; i < productCount; i += 1) {
    const { createProduct } = await gql(platform.gatewayUrl, `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`, {
      input: { sku: `BENCH-${i}-${randomBytes(2).toString('hex').toUpperCase()}`, name: `Bench product ${i}`, price: { amountMinor: 990 + i * 10, currency: 'CNY' } },
    }, 'sales.manager');
    await gql(platform.gatewayUrl, `mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }`, { input: { productId: createProduct.id, quantity: 1_000_000 } }, 'sales.manager');
    products.push(createProduct.id);
  }

  const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status totals { total { amountMinor } } } }`;
  const input = (i) => ({
    customerId: randomBytes(12).toString('hex'),
    currency: 'CNY',
    paymentMethod: 'WECHAT_PAY',
    lines: Array.from({ length: 1 + (i % 3) }, (_, k) => ({ productId: products[(i * 7 + k * 13) % products.length], quantity: 1 + ((i + k) % 4), taxRateBasisPoints: 1300 })),
    ...(i % 10 === 0 ? { discount: { basisPoints: 500 } } : {}),
  });
  const timings = { gateway: [], direct: [] };
  let failures = 0;
  const placeVia = async (path, i) => {
    const t0 = performance.now();
    try {
      const { placeOrder } = path === 'gateway'
        ? await gql(platform.gatewayUrl, PLACE, { input: input(i) }, 'sales.rep')
        : await gql(sales.url, PLACE, { input: input(i) }, 'sales.rep', { 'x-crm-gateway-secret': sales.secret });
      if (placeOrder.status !== 'APPROVED') throw new Error(`order ${placeOrder.id} is ${placeOrder.status}`);
      timings[path].push(performance.now() - t0);
    } catch (error) {
      failures += 1;
      if (failures <= 5) console.warn(`  ${path} order ${i} failed: ${String(error.message).slice(0, 300)}`);
    }
  };

  // --- the run --------------------------------------------------------------------------------------
  // Ctrl-C (or SIGTERM) ends the run early: the workers stop, the summary prints, the platform stops.
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => (stopping = true));
  let next = 0;
  let reported = 0;
  let lastReport = performance.now();
  const started = performance.now();
  const worker = async () => {
    for (;;) {
      const i = next;
      next += 1;
      if (i >= orders || stopping) return;
      await placeVia('gateway', i);
      if (i % DIRECT_EVERY === DIRECT_EVERY - 1) await placeVia('direct', orders + i);
      if (performance.now() - lastReport > 15_000) {
        // Progress with the figures so far (a run stopped early still says something).
        const recent = timings.gateway.slice(reported);
        console.log(`  ${fmt(timings.gateway.length)}/${fmt(orders)} after ${((performance.now() - started) / 1000).toFixed(0)} s: last ${((recent.length / (performance.now() - lastReport)) * 1000).toFixed(1)} orders/s, p95 ${pct(recent, 95).toFixed(0)} ms`);
        lastReport = performance.now();
        reported = timings.gateway.length;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;

  const mean = (list) => list.reduce((a, b) => a + b, 0) / list.length;
  const line = (label, list) => `${label}: ${fmt(list.length)} orders, p50 ${pct(list, 50).toFixed(1)} ms, p95 ${pct(list, 95).toFixed(1)} ms, mean ${mean(list).toFixed(1)} ms`;
  const placed = timings.gateway.length + timings.direct.length;
  console.log(`\n${fmt(placed)} orders in ${seconds.toFixed(1)} s: ${(placed / seconds).toFixed(1)} orders/s overall (${(timings.gateway.length / seconds).toFixed(1)}/s through the gateway), ${failures} failed`);
  console.log(line('through the gateway', timings.gateway));
  console.log(line('directly at sales  ', timings.direct));
  const inGateway = mean(timings.gateway) - mean(timings.direct);
  const inSales = mean(timings.direct);
  console.log(`time per gateway request: ${inGateway.toFixed(1)} ms in the gateway, ${inSales.toFixed(1)} ms in the sales subgraph — ratio gateway:sales ${(inGateway / inSales).toFixed(2)} (p50-based ${((pct(timings.gateway, 50) - pct(timings.direct, 50)) / pct(timings.direct, 50)).toFixed(2)})`);
  console.log(`server: ${infra.MONGO_URL} (${fileEnv.CRM_MONGO_KIND ?? 'unknown'})`);
} finally {
  await platform.stop();
}
