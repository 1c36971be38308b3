import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, graphql, login, repoRoot, testInfra } from '@crm/testing';
import { startGateway } from '../app.js';
import { composeSupergraph, readSubgraphs } from '../compose.js';
import type { GatewayEnv } from '../env.js';
import { supergraphHash } from '../supergraph-file.js';
import { testGatewayEnv } from './helpers.js';

// The supergraph is mounted as Kubernetes mounts a ConfigMap: `supergraph.graphql` → `..data/…`, and an
// update swaps the `..data` symlink to a new folder in one rename.
const dir = mkdtempSync(join(tmpdir(), 'supergraph-reload-'));
let version = 0;
function publish(text: string): void {
  version += 1;
  mkdirSync(join(dir, `..v${version}`));
  writeFileSync(join(dir, `..v${version}`, 'supergraph.graphql'), text);
  symlinkSync(`..v${version}`, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
}

const original = readFileSync(new URL('../../supergraph.graphql', import.meta.url), 'utf8');
const subgraphs = readSubgraphs(repoRoot(fileURLToPath(new URL('.', import.meta.url))));
const withProbe = composeSupergraph(
  subgraphs.map((s) => (s.name === 'customers' ? { ...s, typeDefs: s.typeDefs.replace('type Customer @key(fields: "id") {\n', 'type Customer @key(fields: "id") {\n  reloadProbe: String\n') } : s)),
);

publish(original);
symlinkSync('..data/supergraph.graphql', join(dir, 'supergraph.graphql'));
const infra = await testInfra();
const gateway = await startGateway({ ...testGatewayEnv(infra), SUPERGRAPH_PATH: join(dir, 'supergraph.graphql'), SUPERGRAPH_POLL_MS: 100 } as GatewayEnv);
const base = gateway.url.replace(/\/graphql$/, '');
afterAll(async () => {
  await gateway.stop();
  rmSync(dir, { recursive: true, force: true });
});
const auth = { authorization: `Bearer ${await login(infra, 'sales.rep')}` };

async function customerFields(): Promise<string[]> {
  const result = await graphql<{ __type: { fields: Array<{ name: string }> } }>(gateway.url, '{ __type(name: "Customer") { fields { name } } }', {}, auth);
  expect(result.status).toBe(200);
  return result.data!.__type.fields.map((f) => f.name);
}
const askProbe = () => graphql(gateway.url, '{ customers(first: 1) { edges { node { id reloadProbe } } } }', {}, auth);
const served = async () => ((await (await fetch(`${base}/readyz`)).json()) as { supergraph: string }).supergraph;
const metrics = async () => (await fetch(`${base}/metrics`)).text();

describe('supergraph hot reload (real gateway and Keycloak, file swapped as a ConfigMap update does)', () => {
  it('serves a changed supergraph without a restart, and reports which one it serves', async () => {
    expect(withProbe).toContain('reloadProbe: String');
    expect(await served()).toBe(supergraphHash(original));
    expect(await metrics()).toContain(`crm_gateway_supergraph_info{hash="${supergraphHash(original)}",service="gateway"} 1`);
    expect(await customerFields()).not.toContain('reloadProbe');
    const refused = await askProbe();
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    publish(withProbe);
    await eventually(async () => (await customerFields()).includes('reloadProbe'), 10_000, 100);
    // Past validation now; no subgraph runs in this test, so the plan's fetch is what fails.
    const planned = await askProbe();
    expect(planned.errors?.[0]?.extensions?.code).not.toBe('GRAPHQL_VALIDATION_FAILED');
    expect(planned.status).not.toBe(400);
    expect(await served()).toBe(supergraphHash(withProbe));
    const text = await metrics();
    expect(text).toContain(`crm_gateway_supergraph_info{hash="${supergraphHash(withProbe)}",service="gateway"} 1`);
    expect(text).not.toContain(`hash="${supergraphHash(original)}"`);
    expect(text).toMatch(/crm_gateway_supergraph_reloads_total\{outcome="applied",service="gateway"\} 1\b/);
  });

  it('keeps serving the previous supergraph when the file is not a valid one, and takes the next valid one', async () => {
    publish('this is not a supergraph {');
    await eventually(async () => /crm_gateway_supergraph_reloads_total\{outcome="rejected",service="gateway"\} 1\b/.test(await metrics()), 10_000, 100);
    publish('type Query { hello: String }\n'); // valid GraphQL, but no federation supergraph
    await eventually(async () => /crm_gateway_supergraph_reloads_total\{outcome="rejected",service="gateway"\} 2\b/.test(await metrics()), 10_000, 100);
    expect(await served()).toBe(supergraphHash(withProbe));
    expect(await customerFields()).toContain('reloadProbe');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);

    publish(original);
    await eventually(async () => !(await customerFields()).includes('reloadProbe'), 10_000, 100);
    expect(await served()).toBe(supergraphHash(original));
    expect((await askProbe()).errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
