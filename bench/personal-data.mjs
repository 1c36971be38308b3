// Cost of crypto-shredding on the event path (SYS-6, @crm/personal-data), against the real
// MongoDB-compatible server in .local/infra.env (or MONGO_URL):
//  - owner: SealingPublisher.publish of a batch of customer events (one key per person: made on first
//    use, then from the publisher's cache), versus the same batch unsealed;
//  - consumer: PersonalDataOpener.openAll of that batch with keys fetched over HTTP from the owner's
//    endpoint (first time), and again from its cache.
// Usage: pnpm --filter @crm/personal-data build && node bench/personal-data.mjs [batch=100] [rounds=20]
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = (p) => join(root, 'packages/personal-data', p);
const { SealingPublisher, SubjectKeyStore, PersonalDataOpener, personalDataKeysRouter } = await import(pkg('dist/index.js'));
const { connectMongo } = await import(join(root, 'packages/mongo/dist/index.js'));
const { createEvent } = await import(join(root, 'packages/events/dist/index.js'));
const { createLogger } = await import(join(root, 'packages/logger/dist/index.js'));
const { default: express } = await import(pkg('node_modules/express/index.js'));

// The servers `pnpm infra:up` wrote down (@crm/testing reads the file the same way for the tests).
const { readEnvFile } = await import(join(root, 'packages/testing/dist/index.js'));
const env = readEnvFile(join(root, '.local/infra.env'));
const [batch = 100, rounds = 20] = process.argv.slice(2).map(Number);
const logger = createLogger({ service: 'bench', level: 'silent' });
const connection = await connectMongo({ url: process.env.MONGO_URL ?? env.MONGO_URL, dbName: `bench_personal_data_${Date.now()}` });
const store = new SubjectKeyStore(connection);
const secret = 'bench-internal-secret-000000000000';
const server = http.createServer(express().use(personalDataKeysRouter({ store, entities: ['customer'], secret, logger })));
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const owner = `http://127.0.0.1:${server.address().port}`;

let sent = [];
const sink = { publish: async (events) => void (sent = events) };
const sealing = new SealingPublisher(sink, store, ['customer']);
const events = (round) =>
  Array.from({ length: batch }, (_, i) => {
    const id = `${String(round).padStart(4, '0')}${String(i).padStart(20, '0')}`;
    return createEvent({ source: '/bench', type: 'customer.updated', subject: id, data: { customerId: id, name: '欧阳娜娜', birthday: '1990-05-20', city: '北京', province: '北京', country: 'CN', organization: null, gender: 'FEMALE', lifecycleStage: 'CUSTOMER', version: 2, changed: ['city'] } });
  });
const time = async (work) => {
  const t0 = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const stats = (ms) => {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `p50 ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms per ${batch} events (${((at(0.5) * 1000) / batch).toFixed(0)} µs/event at p50)`;
};

const plain = [], firstSeal = [], sealAgain = [], openFetch = [], openCached = [];
for (let round = 0; round < rounds; round += 1) {
  const batchEvents = events(round);
  plain.push(await time(() => sink.publish(batchEvents)));
  firstSeal.push(await time(() => sealing.publish(batchEvents)));
  sealAgain.push(await time(() => sealing.publish(batchEvents)));
  const sealed = sent;
  const opener = new PersonalDataOpener({ sources: { customer: owner }, secret, logger });
  openFetch.push(await time(() => opener.openAll(sealed)));
  openCached.push(await time(() => opener.openAll(sealed)));
}
console.log(`batch ${batch}, ${rounds} rounds, store ${process.env.MONGO_URL ? 'MONGO_URL' : env.CRM_MONGO_KIND ?? 'local'}`);
console.log(`unsealed publish (no-op sink)       ${stats(plain)}`);
console.log(`seal, keys made (first publication) ${stats(firstSeal)}`);
console.log(`seal, keys cached (same replica)    ${stats(sealAgain)}`);
console.log(`open, keys fetched from the owner   ${stats(openFetch)}`);
console.log(`open, keys cached                   ${stats(openCached)}`);
await connection.dropDatabase();
await connection.close();
server.close();
