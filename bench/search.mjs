// Search latency at two data sizes with the same query mix (issue 3, CUS-3): p50/p95 per size and the
// p95 ratio (goal ≤ 1.5). Runs CustomerService.list from the built customers service against the
// real MongoDB-compatible server in .local/infra.env (or MONGO_URL). Usage:
//   pnpm --filter @crm/customers-service build && node bench/search.mjs [small=10000] [large=200000]
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mongoose from '../services/customers/node_modules/mongoose/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => join(root, 'services/customers/dist/modules/customer', p);
const { customerModel } = await import(dist('customer.model.js'));
const { CustomerService } = await import(dist('customer.service.js'));
const { IdentityVault } = await import(dist('customer.crypto.js'));
const { nameSortKeyOf, searchKeysOf } = await import(dist('customer.search.js'));

// The servers `pnpm infra:up` wrote down (@crm/testing reads the file the same way for the tests).
const { readEnvFile } = await import(join(root, 'packages/testing/dist/index.js'));
const env = readEnvFile(join(root, '.local/infra.env'));
const mongoUrl = process.env.MONGO_URL ?? env.MONGO_URL;
const [small = 10_000, large = 200_000] = process.argv.slice(2).map(Number);

const SURNAMES = [...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈'];
const GIVEN = [...'伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉婷雪琳晨阳欣宇浩然子涵梓轩'];
const CITIES = [['北京', '北京'], ['上海', '上海'], ['广东', '广州'], ['广东', '深圳'], ['浙江', '杭州'], ['江苏', '南京'], ['四川', '成都'], ['湖北', '武汉']];
const STAGES = ['LEAD', 'PROSPECT', 'CUSTOMER', 'LOYAL', 'CHURNED'];
const pick = (list, i) => list[i % list.length];
const owner = 'bench-owner';

function customerDoc(i, now) {
  const name = pick(SURNAMES, i * 7) + pick(GIVEN, i * 13) + (i % 3 ? pick(GIVEN, i * 17) : '');
  const phone = `+861${(3 + (i % 6)).toString()}${String(100000000 + ((i * 7919) % 899999999)).slice(0, 9)}`;
  const [province, city] = pick(CITIES, i);
  const organization = `${city}${pick(['大学', '科技有限公司', '贸易公司', '中学'], i)}${i % 50}`;
  const email = `user${i}@example.cn`;
  const profile = { name, phones: [{ number: phone, kind: 'MOBILE' }], email, organization };
  return {
    _id: new mongoose.Types.ObjectId(),
    ...profile,
    gender: null, birthday: null, identity: null, source: 'bench', notes: null, level: pick(['VIP', 'A', 'B', 'C', 'D'], i),
    address: { country: 'CN', province, city, street: null, postalCode: null },
    tags: i % 4 === 0 ? ['vip'] : [], lifecycleStage: pick(STAGES, i),
    ownerId: owner, department: 'sales', ownerTeams: [], portalUserId: null,
    searchKeys: searchKeysOf(profile), nameSortKey: nameSortKeyOf(name),
    lastActivityAt: new Date(now - i * 1000), deletedAt: null, deletedBy: null, mergedInto: null, mergedFrom: [], groupIds: [], organizationId: null, followedProductIds: [],
    version: 1, createdAt: new Date(now - i * 1000), updatedAt: new Date(now - i * 1000),
  };
}

const QUERIES = [
  ['search pinyin surname', { search: 'zhang', first: 20 }],
  ['search initials', { search: 'wf', first: 20 }],
  ['search phone digits', { search: '0013', first: 20 }],
  ['search chinese + city filter', { search: '李', filter: { city: '上海' }, first: 20 }],
  ['filter stage, sort by name', { filter: { lifecycleStages: ['CUSTOMER'] }, orderBy: 'NAME_ASC', first: 20 }],
  ['filter tags + province', { filter: { tags: ['vip'], province: '广东' }, first: 20 }],
  ['newest first, page 1', { first: 20 }],
];
const admin = { id: 'bench-admin', username: 'admin', roles: ['admin'], groups: [] };

async function measure(size) {
  const connection = await mongoose.createConnection(mongoUrl, { dbName: `bench_search_${size}_${randomBytes(3).toString('hex')}`, retryWrites: false }).asPromise();
  const Customer = customerModel(connection);
  await Customer.init();
  const started = Date.now();
  for (let i = 0; i < size; i += 2000) {
    const now = Date.now();
    await Customer.collection.insertMany(Array.from({ length: Math.min(2000, size - i) }, (_, k) => customerDoc(i + k, now)), { ordered: false });
  }
  const seedSeconds = (Date.now() - started) / 1000;
  const relay = { notify() {} };
  const service = new CustomerService(Customer, relay, new IdentityVault(randomBytes(32).toString('base64'), randomBytes(32).toString('base64')));
  const timings = [];
  const perQuery = {};
  const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
  for (let round = 0; round < rounds; round += 1) {
    for (const [label, args] of QUERIES) {
      const t0 = performance.now();
      const page = await service.list(args, admin);
      const ms = performance.now() - t0;
      if (round > 0) {
        timings.push(ms);
        (perQuery[label] ??= []).push(ms);
      }
      if (round === 0 && page.items.length === 0 && label !== 'search phone digits') console.warn(`  (no results for ${label})`);
    }
  }
  await connection.dropDatabase();
  await connection.close();
  const pct = (list, p) => [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor((p / 100) * list.length))];
  return { size, seedSeconds, p50: pct(timings, 50), p95: pct(timings, 95), perQuery: Object.fromEntries(Object.entries(perQuery).map(([k, v]) => [k, pct(v, 95)])) };
}

const kind = env.CRM_MONGO_KIND ?? 'unknown';
console.log(`server: ${mongoUrl} (${kind})`);
const results = [];
for (const size of [small, large]) {
  const r = await measure(size);
  results.push(r);
  console.log(`${size} customers: seeded in ${r.seedSeconds.toFixed(1)} s; list p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms`);
  for (const [label, p95] of Object.entries(r.perQuery)) console.log(`    p95 ${p95.toFixed(1).padStart(9)} ms  ${label}`);
}
console.log(`p95 ratio ${large}/${small}: ${(results[1].p95 / results[0].p95).toFixed(2)} (goal ≤ 1.5)`);
