// Customer import throughput (issue 3, CUS-5): a CSV of N customers imported end to end through the
// customers service (GraphQL upload in 1 MiB chunks, runCustomerImport, polling until COMPLETED), then,
// in the same run against the same server, the same documents written with the raw driver's
// insertMany in batches of 1000 into another database, in a collection with the same indexes. Prints rows/s of both and their ratio (goal ≥ 0.5).
// The service pauses its outbox poller while an import runs (see the service README); this script
// keeps it paused afterwards too, so the raw insert does not share the server with it, and reports
// how long publishing the imported customers' events takes when FLUSH=1.
// Usage:
//   pnpm --filter @crm/events --filter @crm/customers-service build && [FLUSH=1] node bench/import.mjs [rows=100000]
// Needs the servers of .local/infra.env (pnpm infra:up) or MONGO_URL, KAFKA_BROKERS, KEYCLOAK_URL.
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mongoose from '../services/customers/node_modules/mongoose/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { startCustomers } = await import(join(root, 'services/customers/dist/app.js'));
const { customersEnvSchema } = await import(join(root, 'services/customers/dist/env.js'));
const { parseEnv } = await import(join(root, 'services/customers/node_modules/@crm/env/dist/index.js'));

// The servers `pnpm infra:up` wrote down (@crm/testing reads the file the same way for the tests).
const { readEnvFile } = await import(join(root, 'packages/testing/dist/index.js'));
const fileEnv = readEnvFile(join(root, '.local/infra.env'));
const infra = { ...fileEnv, ...Object.fromEntries(['MONGO_URL', 'KAFKA_BROKERS', 'KEYCLOAK_URL', 'KEYCLOAK_REALM'].filter((k) => process.env[k]).map((k) => [k, process.env[k]])) };
const rows = Number(process.argv[2] ?? 100_000);
const RAW_BATCH = 1000;
const CHUNK = 1024 * 1024;
const runId = `${Date.now().toString(36)}_${randomBytes(2).toString('hex')}`;

// --- the file: realistic rows (Chinese names, mobile numbers, addresses, some identity numbers) -----
const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈'];
const GIVEN = [...'伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬燕彬鹏辉婷雪琳晨阳欣宇浩然子涵梓轩'];
const CITIES = [['北京', '北京', '100000'], ['上海', '上海', '200000'], ['广东', '广州', '510000'], ['广东', '深圳', '518000'], ['浙江', '杭州', '310000'], ['江苏', '南京', '210000'], ['四川', '成都', '610000'], ['湖北', '武汉', '430000']];
const pick = (list, i) => list[i % list.length];
const PRC_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
// Distinct for every row (a birth date from 50 years of days, then a sequence number), checksum valid.
function prcId(i) {
  const birth = new Date(Date.UTC(1950, 0, 1) + (i % 18_250) * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  const body = `110105${birth}${String(Math.floor(i / 18_250) % 1000).padStart(3, '0')}`;
  const sum = PRC_WEIGHTS.reduce((acc, w, k) => acc + w * Number(body[k]), 0);
  return body + '10X98765432'[sum % 11];
}
const csvCell = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
function makeCsv(n) {
  const lines = ['name,email,phone,gender,birthday,organization,source,tags,level,lifecycle_stage,country,province,city,street,postal_code,id_type,id_number,notes'];
  for (let i = 0; i < n; i += 1) {
    const [province, city, postal] = pick(CITIES, i);
    const name = pick(SURNAMES, i * 7) + pick(GIVEN, i * 13) + (i % 3 ? pick(GIVEN, i * 17) : '');
    const phone = `13${i % 10}${String(10_000_000 + ((i * 7919) % 89_999_999)).padStart(8, '0')}`;
    lines.push(
      [
        name,
        `user${i}@example.cn`,
        phone,
        pick(['MALE', 'FEMALE', '', 'UNDISCLOSED'], i),
        i % 5 ? `${1960 + (i % 45)}-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')}` : '',
        `${city}${pick(['大学', '科技有限公司', '贸易公司', '中学'], Math.floor(i / 20))}${Math.floor(i / 20)}`,
        pick(['trade show', 'web form', 'referral'], i),
        i % 4 ? 'bench' : 'bench;vip',
        pick(['VIP', 'A', 'B', 'C', 'D'], i),
        pick(['LEAD', 'PROSPECT', 'CUSTOMER'], i),
        'CN',
        province,
        city,
        `${pick(['中山路', '人民路', '解放路'], i)}${i % 300}号`,
        postal,
        i % 4 === 0 ? 'PRC_RESIDENT_ID' : '',
        i % 4 === 0 ? prcId(i) : '',
        i % 10 === 0 ? 'Met at the fair, "call back" in May' : '',
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return Buffer.from(lines.join('\n') + '\n');
}

const rate = (n, ms) => Math.round((n / ms) * 1000);
const fmt = (n) => n.toLocaleString('en-US');

// --- 1. through the service -------------------------------------------------------------------------
const file = makeCsv(rows);
console.log(`file: ${fmt(rows)} rows, ${(file.length / 1024 / 1024).toFixed(1)} MiB CSV`);
const serviceDb = `bench_import_${runId}`;
const env = parseEnv(customersEnvSchema, {
  NODE_ENV: 'production',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  PORT: '0',
  MONGO_URL: infra.MONGO_URL,
  MONGO_DB: serviceDb,
  KAFKA_BROKERS: infra.KAFKA_BROKERS,
  KAFKA_CLIENT_ID: `bench-import-${runId}`,
  KAFKA_TOPIC_PREFIX: `bench_${runId}`,
  KEYCLOAK_URL: infra.KEYCLOAK_URL,
  KEYCLOAK_REALM: infra.KEYCLOAK_REALM ?? 'crm',
  GATEWAY_SECRET: randomBytes(24).toString('base64url'),
  PERSONAL_DATA_SECRET: randomBytes(24).toString('base64url'),
  CUSTOMER_PII_KEY: randomBytes(32).toString('base64'),
  CUSTOMER_PII_HASH_KEY: randomBytes(32).toString('base64'),
});
const running = await startCustomers(env);
// The poller stays off once the job is done (the service would start it again): measured apart below.
const relay = running.deps.relay;
const drainOutbox = relay.drain.bind(relay);
relay.start = () => undefined;
// Access tokens live minutes: log in again when the one in hand is a minute old.
let token;
let tokenAt = 0;
async function freshToken() {
  if (Date.now() - tokenAt < 60_000) return token;
  const response = await fetch(`${infra.KEYCLOAK_URL}/realms/${infra.KEYCLOAK_REALM ?? 'crm'}/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'crm-cli', username: 'sales.rep', password: process.env.CRM_PASSWORD ?? 'crm-demo-2026' }),
  });
  if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  token = (await response.json()).access_token;
  tokenAt = Date.now();
  return token;
}
async function gql(query, variables) {
  const response = await fetch(running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await freshToken()}`, 'x-crm-gateway-secret': env.GATEWAY_SECRET },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const started = performance.now();
const { startCustomerImport: job } = await gql(`mutation($input: StartCustomerImportInput!) { startCustomerImport(input: $input) { id } }`, {
  input: { filename: 'bench.csv', format: 'CSV', sizeBytes: file.length, sha256: createHash('sha256').update(file).digest('hex') },
});
for (let index = 0; index * CHUNK < file.length; index += 1) {
  await gql(`mutation($id: ID!, $i: Int!, $d: String!) { uploadCustomerImportChunk(jobId: $id, index: $i, dataBase64: $d) { id } }`, {
    id: job.id,
    i: index,
    d: file.subarray(index * CHUNK, (index + 1) * CHUNK).toString('base64'),
  });
}
const uploaded = performance.now();
await gql(`mutation($id: ID!) { runCustomerImport(jobId: $id) { status } }`, { id: job.id });
let final;
let lastLine = 0;
for (;;) {
  const { customerImportJob: current } = await gql(`query($id: ID!) { customerImportJob(id: $id) { status total done created skipped failed duplicates failureReason } }`, { id: job.id });
  const line = `  ${current.status} ${fmt(current.done)}/${fmt(current.total ?? 0)} after ${((performance.now() - started) / 1000).toFixed(0)} s`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}   `);
  else if (performance.now() - lastLine > 10_000) {
    console.log(line);
    lastLine = performance.now();
  }
  if (current.status === 'COMPLETED' || current.status === 'FAILED') {
    final = current;
    break;
  }
  await new Promise((r) => setTimeout(r, 250));
}
const completed = performance.now();
if (process.stdout.isTTY) process.stdout.write('\n');
if (final.status !== 'COMPLETED' || final.created !== rows) throw new Error(`import did not create every row: ${JSON.stringify(final)}`);
const serviceMs = completed - started;
console.log(
  `service: ${fmt(rows)} rows in ${(serviceMs / 1000).toFixed(1)} s = ${fmt(rate(rows, serviceMs))} rows/s ` +
    `(upload ${((uploaded - started) / 1000).toFixed(1)} s, processing ${((completed - uploaded) / 1000).toFixed(1)} s; ${fmt(final.duplicates)} rows flagged as likely duplicates)`,
);

// --- 2. raw driver insertMany of the same documents ---------------------------------------------------
const client = await mongoose.mongo.MongoClient.connect(infra.MONGO_URL, { retryWrites: false });
// As the service stored them, with the customer.created event each carries in its outbox field.
const stored = await client.db(serviceDb).collection('customers').find({}).toArray();
if (stored.length !== rows) throw new Error(`expected ${rows} stored customers, found ${stored.length}`);
const rawDb = `bench_import_raw_${runId}`;
const target = client.db(rawDb).collection('customers');
// The same indexes as the service's collection: maintaining them is part of storing these documents.
const indexes = (await client.db(serviceDb).collection('customers').indexes()).filter((index) => index.name !== '_id_');
for (const { key, name, unique, sparse } of indexes) await target.createIndex(key, { name, ...(unique ? { unique } : {}), ...(sparse ? { sparse } : {}) });
const rawStarted = performance.now();
for (let i = 0; i < stored.length; i += RAW_BATCH) await target.insertMany(stored.slice(i, i + RAW_BATCH), { ordered: false });
const rawMs = performance.now() - rawStarted;
console.log(`raw insertMany: ${fmt(rows)} documents in ${(rawMs / 1000).toFixed(1)} s = ${fmt(rate(rows, rawMs))} rows/s (batches of ${RAW_BATCH}, into a collection with the same ${indexes.length} secondary indexes)`);

const ratio = rate(rows, serviceMs) / rate(rows, rawMs);
console.log(`ratio service/raw: ${ratio.toFixed(2)} (goal ≥ 0.5) ${ratio >= 0.5 ? 'OK' : 'BELOW GOAL'}`);

if (process.env.FLUSH) {
  const flushStarted = performance.now();
  const documents = await drainOutbox();
  const flushMs = performance.now() - flushStarted;
  console.log(`outbox relay afterwards: events of ${fmt(documents)} customers published in ${(flushMs / 1000).toFixed(1)} s = ${fmt(rate(documents, flushMs))} rows/s (not in the import time)`);
}
relay.drain = async () => 0;
await running.stop();

if (!process.env.KEEP) {
  await client.db(serviceDb).dropDatabase();
  await client.db(rawDb).dropDatabase();
}
await client.close();
