import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { connectMongo, type Connection } from '@crm/mongo';
import { login, topicMessageCounts } from '@crm/testing';
import { e2ePlatform } from './platform.js';
import { buildCorpus, type Category, type CorpusRequest } from './support/hostile-corpus.js';
import { fetchApiSchema, generateOperations } from './support/operations.js';

// At least 10,000 malformed and hostile requests against the whole platform (SYS issue, item 9):
// no 5xx, no crash, and nothing written by any request that had to be refused.
const { infra, platform } = await e2ePlatform('hostile');
const adminToken = await login(infra, 'admin');
const operations = generateOperations(await fetchApiSchema(platform.gatewayUrl, adminToken));
const corpus = buildCorpus(operations, { issuer: `${infra.keycloakUrl}/realms/${infra.realm}`, injectionsPerPosition: 10, tokensPerVariant: 100 });
const connections: Connection[] = await Promise.all(Object.values(platform.subgraphs).map(({ db }) => connectMongo({ url: infra.mongoUrl, dbName: db })));
afterAll(() => Promise.all(connections.map((c) => c.close())));

// Bookkeeping that rejected requests may legitimately touch: the audit trail records refused
// mutations on purpose; claims and processed-event ids belong to background jobs and consumers.
const NOT_DATA = /^(audit_entries|processed_events.*|.*claims.*)$/;

/** A digest of every business document of every service, and the message count of every topic. */
async function fingerprint(): Promise<{ documents: Record<string, string>; topics: Record<string, number> }> {
  const documents: Record<string, string> = {};
  for (const connection of connections) {
    const db = connection.db!;
    for (const { name } of await db.listCollections().toArray()) {
      if (NOT_DATA.test(name)) continue;
      const docs = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
      documents[`${db.databaseName}.${name}`] = `${docs.length}:${createHash('sha256').update(JSON.stringify(docs)).digest('hex').slice(0, 16)}`;
    }
  }
  const topics = Object.fromEntries(Object.entries(await topicMessageCounts(infra, `${platform.topicPrefix}.`)).filter(([topic]) => !topic.endsWith('.audit')));
  return { documents, topics };
}

async function send(request: CorpusRequest): Promise<{ status: number; code: string; rejected: boolean }> {
  const headers: Record<string, string> = { 'content-type': request.contentType ?? 'application/json' };
  if (request.authorization === undefined) headers.authorization = `Bearer ${adminToken}`;
  else if (request.authorization !== null) headers.authorization = request.authorization;
  let response: Response;
  if (request.method === 'GET') {
    const body = request.body as { query: string };
    response = await fetch(`${platform.gatewayUrl}?query=${encodeURIComponent(body.query)}`, { headers: { ...headers, 'apollo-require-preflight': 'true' } });
  } else {
    response = await fetch(platform.gatewayUrl, { method: 'POST', headers, body: request.raw ? String(request.body) : JSON.stringify(request.body) });
  }
  const text = await response.text();
  let parsed: { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: { code?: string } }> } | undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const code = parsed?.errors?.[0]?.extensions?.code ?? (response.ok ? 'OK' : `HTTP_${response.status}`);
  const answered = parsed?.data && Object.values(parsed.data).some((value) => value !== null);
  return { status: response.status, code, rejected: !answered && (!response.ok || Boolean(parsed?.errors?.length) || !parsed) };
}

interface Tally {
  requests: number;
  byCategory: Partial<Record<Category, number>>;
  byStatus: Record<string, number>;
  byCode: Record<string, number>;
  serverErrors: string[];
  notRejected: string[];
}

async function run(requests: CorpusRequest[], concurrency: number): Promise<Tally> {
  const tally: Tally = { requests: 0, byCategory: {}, byStatus: {}, byCode: {}, serverErrors: [], notRejected: [] };
  let next = 0;
  const worker = async () => {
    for (;;) {
      const request = requests[next++];
      if (!request) return;
      const { status, code, rejected } = await send(request);
      tally.requests += 1;
      tally.byCategory[request.category] = (tally.byCategory[request.category] ?? 0) + 1;
      tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
      tally.byCode[code] = (tally.byCode[code] ?? 0) + 1;
      const what = `${request.category} ${request.operation ?? ''} → ${status} ${code}`;
      if (status >= 500 || code === 'INTERNAL_SERVER_ERROR') tally.serverErrors.push(what);
      if (request.mustReject && !rejected) tally.notRejected.push(what);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return tally;
}

async function allAlive(): Promise<void> {
  for (const { url } of [{ url: platform.gatewayUrl }, ...Object.values(platform.subgraphs)]) {
    const ready = await fetch(url.replace(/\/graphql$/, '/readyz'));
    expect(ready.status, url).toBe(200);
  }
}

describe(`hostile request corpus (${corpus.length} requests)`, () => {
  it('is at least 10,000 requests covering every operation', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(10_000);
    const covered = new Set(corpus.map((r) => r.operation).filter(Boolean));
    expect(operations.filter((o) => !covered.has(o.coordinate)).map((o) => o.coordinate)).toEqual([]);
  });

  it('refuses every malformed request with a 4xx or a GraphQL error, and writes nothing', async () => {
    const before = await fingerprint();
    const tally = await run(corpus.filter((r) => r.mustReject), 6);
    console.info('rejected-phase tally', JSON.stringify({ ...tally, serverErrors: tally.serverErrors.length, notRejected: tally.notRejected.length }));
    expect(tally.serverErrors.join('\n')).toBe('');
    expect(tally.notRejected.join('\n')).toBe('');
    const after = await fingerprint();
    expect(after).toEqual(before);
    await allAlive();
  }, 900_000);

  it('survives attack strings in every string argument of every operation: no 5xx, no crash', async () => {
    const tally = await run(corpus.filter((r) => !r.mustReject), 6);
    console.info('hostile-phase tally', JSON.stringify({ ...tally, serverErrors: tally.serverErrors.length, notRejected: tally.notRejected.length }));
    expect(tally.serverErrors.join('\n')).toBe('');
    await allAlive();
  }, 900_000);
});
