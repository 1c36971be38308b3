import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '@crm/testing';
import { composeSupergraph, readSubgraphs, type SubgraphSource } from '../compose.js';
import { checkSchema, formatSchemaCheck, schemaCheckPassed } from '../schema-check.js';

// Two small subgraphs stand for the six: the check only sees what they compose to.
const customers = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@inaccessible"])
type Query {
  customer(id: ID!): Customer
  customers(first: Int = 20): [Customer!]!
}
type Customer @key(fields: "id") {
  id: ID!
  name: String!
  email: String
  level: Level!
  internalScore: Int @inaccessible
}
enum Level {
  NORMAL
  VIP
}
`;
const serviceDesk = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query {
  ticket(id: ID!): Ticket
}
type Ticket @key(fields: "id") {
  id: ID!
  title: String!
  customer: Customer!
}
type Customer @key(fields: "id") {
  id: ID!
  tickets(first: Int = 20): [Ticket!]!
}
`;

function subgraphs(customersSdl = customers, serviceDeskSdl = serviceDesk): SubgraphSource[] {
  return [
    { name: 'customers', url: 'http://127.0.0.1:4001/graphql', typeDefs: customersSdl },
    { name: 'service-desk', url: 'http://127.0.0.1:4003/graphql', typeDefs: serviceDeskSdl },
  ];
}
const production = composeSupergraph(subgraphs());
const check = (customersSdl: string, serviceDeskSdl = serviceDesk) => checkSchema(subgraphs(customersSdl, serviceDeskSdl), production);

describe('schema check', () => {
  it('passes compatible changes and lists them: a new field, an optional argument, removing an @inaccessible field', async () => {
    const result = await check(
      customers
        .replace('  email: String\n', '  email: String\n  phone: String\n')
        .replace('customers(first: Int = 20)', 'customers(first: Int = 20, search: String)')
        .replace('  internalScore: Int @inaccessible\n', ''),
    );
    expect(result.errors).toEqual([]);
    expect(result.breaking).toEqual([]);
    expect(result.safe.map((c) => c.path)).toEqual(['Customer.phone']);
    // An optional argument is valid for every existing operation; the library still flags it (clients may care).
    expect(result.dangerous.map((c) => c.path)).toEqual(['Query.customers.search']);
    expect(schemaCheckPassed(result)).toBe(true);
    expect(formatSchemaCheck(result, 'fixture')).toMatch(/1 safe change\(s\):\n {2}- Field 'phone' was added to object type 'Customer' \(Customer\.phone\)\nPASSED\n$/);
  });

  it('fails when a field is removed, naming the field', async () => {
    const result = await check(customers.replace('  email: String\n', ''));
    expect(schemaCheckPassed(result)).toBe(false);
    expect(result.breaking.map((c) => c.path)).toEqual(['Customer.email']);
    const report = formatSchemaCheck(result, 'fixture');
    expect(report).toContain("BREAKING: 1 change(s) that break clients:\n  - Field 'email' was removed from object type 'Customer' (Customer.email)");
    expect(report).toMatch(/FAILED\n$/);
  });

  it('fails on every breaking change at once: a type changed, a required argument added, an enum value and a type removed', async () => {
    const result = await check(
      customers.replace('  name: String!\n', '  name: Int!\n').replace('customers(first: Int = 20)', 'customers(first: Int = 20, region: String!)').replace('  NORMAL\n', ''),
      serviceDesk.replace('  ticket(id: ID!): Ticket\n', '  ticketCount: Int\n').replace(/type Ticket @key[\s\S]*?\n}\n/, '').replace('  tickets(first: Int = 20): [Ticket!]!\n', '  openTickets: Int\n'),
    );
    expect(result.errors).toEqual([]);
    const paths = result.breaking.map((c) => c.path);
    for (const path of ['Customer.name', 'Query.customers.region', 'Level.NORMAL', 'Ticket', 'Query.ticket', 'Customer.tickets']) expect(paths).toContain(path);
    expect(schemaCheckPassed(result)).toBe(false);
  });

  it('warns about dangerous changes without failing', async () => {
    const result = await check(customers.replace('  VIP\n', '  VIP\n  PLATINUM\n').replace('customers(first: Int = 20)', 'customers(first: Int = 50)'));
    expect(result.dangerous.map((c) => c.path).sort()).toEqual(['Level.PLATINUM', 'Query.customers.first']);
    expect(schemaCheckPassed(result)).toBe(true);
    expect(formatSchemaCheck(result, 'fixture')).toContain('WARNING: 2 dangerous change(s):');
  });

  it('fails when the subgraphs do not compose, listing the errors', async () => {
    // Two subgraphs resolving the same field without @shareable, with different types.
    const result = await check(customers, serviceDesk.replace('  tickets(first: Int = 20)', '  name: Int!\n  tickets(first: Int = 20)'));
    expect(schemaCheckPassed(result)).toBe(false);
    expect(result.errors.length).toBeGreaterThan(0);
    expect(result.errors.join('\n')).toMatch(/composition: .*Customer\.name/);
    expect(formatSchemaCheck(result, 'fixture')).toMatch(/^ERROR: \d+ problem\(s\):/m);
  });

  it('fails when a subgraph schema does not parse, naming the subgraph', async () => {
    const result = await check(customers.replace('type Customer', 'type Customer {'));
    expect(result.errors).toEqual([expect.stringMatching(/^composition: \[customers\] Syntax Error/)]);
  });

  it('fails when the production supergraph is not one', async () => {
    const result = await checkSchema(subgraphs(), 'type Query { a: Int }');
    expect(schemaCheckPassed(result)).toBe(false);
    expect(result.errors[0]).toMatch(/^the production supergraph is not a valid supergraph/);
  });
});

describe('pnpm schema:check (the built script, on the repo subgraphs)', () => {
  const root = repoRoot(fileURLToPath(new URL('.', import.meta.url)));
  const script = fileURLToPath(new URL('../../scripts/schema-check.mjs', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'schema-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // As `pnpm schema:check` runs it from the repository root (pnpm's INIT_CWD is where relative paths start;
  // under turbo it would otherwise be this package's folder).
  const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { cwd: root, env: { ...process.env, INIT_CWD: root }, encoding: 'utf8', timeout: 60_000 });

  it('exits 0 against the committed supergraph file, which the subgraphs compose to', () => {
    const result = run('--against', 'gateway/supergraph.graphql');
    // The script's own messages (stderr, exit status) explain a failure here.
    expect(result.stdout, `status ${result.status} ${result.signal ?? ''}\n${result.stderr}`).toContain(`against ${join(root, 'gateway/supergraph.graphql')}`);
    expect(result.stdout).toMatch(/PASSED\n$/);
    expect(result.status).toBe(0);
  });

  it('exits 1 naming the field when production serves a field the subgraphs no longer have', () => {
    const withExtra = composeSupergraph(
      readSubgraphs(root).map((s) => (s.name === 'customers' ? { ...s, typeDefs: s.typeDefs.replace('type Customer @key(fields: "id") {\n', 'type Customer @key(fields: "id") {\n  legacyCode: String\n') } : s)),
    );
    writeFileSync(join(dir, 'production.graphql'), withExtra);
    const result = run('--against', join(dir, 'production.graphql'));
    expect(result.status, result.stderr).toBe(1);
    expect(result.stdout).toContain("Field 'legacyCode' was removed from object type 'Customer' (Customer.legacyCode)");
    expect(result.stdout).toMatch(/FAILED\n$/);
  });

  it('reads the supergraph committed at a git ref, and exits 2 for a ref that does not exist', () => {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const atHead = run('--ref', head);
    expect(atHead.stdout).toContain(`against ${head}:gateway/supergraph.graphql`);
    expect([0, 1]).toContain(atHead.status);
    const missing = run('--ref', 'no-such-ref-anywhere');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read the production supergraph');
  });
});
