import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gatewayHeaders, graphql, login, uniqueName } from '@crm/testing';
import { e2ePlatform, gatewayCalls, root } from './platform.js';
import { allowedRoles, AUTHORIZATION_MATRIX, ENTITY_LOOKUPS, ROLES, USER_OF_ROLE, type MatrixRole } from './support/authz-matrix.js';
import { ABSENT_ID, fetchApiSchema, generateOperations, type GeneratedOperation } from './support/operations.js';

// Every query and mutation × every role, with real tokens, through the gateway; then `_entities`
// straight at each subgraph, as only the gateway may call it.
const { infra, platform } = await e2ePlatform('authz');
const { raw } = gatewayCalls(platform);
const tokens = {} as Record<MatrixRole, string>;
for (const role of ROLES) tokens[role] = await login(infra, USER_OF_ROLE[role]);
const operations = generateOperations(await fetchApiSchema(platform.gatewayUrl, tokens.admin));

/** Runs `work` over `items`, `limit` at a time (the platform here shares 2 cores with the test). */
async function inBatches<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += limit) await Promise.all(items.slice(i, i + limit).map(work));
}

describe('authorization matrix (every operation × role, real tokens)', () => {
  it('has one rule for every query and mutation of the supergraph, and none for fields that are gone', () => {
    expect(operations.map((o) => o.coordinate).sort()).toEqual(Object.keys(AUTHORIZATION_MATRIX).sort());
  });

  it('holds in every cell: allowed roles pass the role gate, every other role gets FORBIDDEN', async () => {
    const failures: string[] = [];
    const outcomes: Record<string, number> = {};
    const cells = operations.flatMap((op) => ROLES.map((role) => ({ op, role })));
    await inBatches(cells, 4, async ({ op, role }: { op: GeneratedOperation; role: MatrixRole }) => {
      const result = await raw(tokens[role])(op.query, op.variables);
      const code = result.errors ? String(result.errors[0]?.extensions?.code) : 'OK';
      outcomes[code] = (outcomes[code] ?? 0) + 1;
      const allowed = allowedRoles(AUTHORIZATION_MATRIX[op.coordinate]!).includes(role);
      const cell = `${op.coordinate} × ${role}`;
      if (result.status >= 500 || code === 'INTERNAL_SERVER_ERROR') failures.push(`${cell}: ${result.status} ${code}`);
      else if (code === 'UNAUTHENTICATED') failures.push(`${cell}: a valid token was refused`);
      else if (allowed && code === 'FORBIDDEN') failures.push(`${cell}: FORBIDDEN, but the matrix allows it (${result.errors?.[0]?.message})`);
      else if (!allowed && code !== 'FORBIDDEN') failures.push(`${cell}: ${code}, but the matrix forbids it`);
    });
    expect(failures).toEqual([]);
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(operations.length * ROLES.length);
    console.info(`authorization matrix: ${operations.length} operations × ${ROLES.length} roles = ${cells.length} cells`, outcomes);
  }, 900_000);
});

describe('entity lookups (_entities) at each subgraph', () => {
  const subgraphs = Object.entries(platform.subgraphs);
  const entitiesQuery = (type: string) => `query($r: [_Any!]!) { _entities(representations: $r) { ... on ${type} { id } } }`;

  it('lists every entity the supergraph has, per subgraph', () => {
    const sdl = readFileSync(join(root, 'gateway/supergraph.graphql'), 'utf8');
    const found: Record<string, string[]> = {};
    for (const match of sdl.matchAll(/^type (\w+)\n((?: {2}@join__type\([^\n]*\)\n)+)/gm)) {
      for (const join of match[2]!.matchAll(/@join__type\(graph: (\w+), key: "id"(, resolvable: false)?/g)) {
        if (join[2]) continue;
        const name = join[1]!.toLowerCase().replace(/_/g, '-');
        (found[name] ??= []).push(match[1]!);
      }
    }
    expect(Object.fromEntries(Object.entries(found).map(([k, v]) => [k, v.sort()]))).toEqual(
      Object.fromEntries(Object.entries(ENTITY_LOOKUPS).map(([k, v]) => [k, Object.keys(v).sort()])),
    );
  });

  it('answers _entities only with the gateway secret and a valid token', async () => {
    for (const [name, { url, secret }] of subgraphs) {
      const [type] = Object.keys(ENTITY_LOOKUPS[name]!);
      const variables = { r: [{ __typename: type, id: ABSENT_ID }] };
      expect((await graphql(url, entitiesQuery(type!), variables, gatewayHeaders(tokens.admin, undefined))).status, name).toBe(403);
      const anonymous = await graphql(url, entitiesQuery(type!), variables, gatewayHeaders(undefined, secret));
      expect(anonymous.status, name).toBe(401);
      expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('never answers data, or fails, for an owned entity that does not exist, whoever asks', async () => {
    const failures: string[] = [];
    for (const [name, { url, secret }] of subgraphs) {
      for (const [type, rule] of Object.entries(ENTITY_LOOKUPS[name]!)) {
        if (rule === 'extension') continue;
        for (const role of ROLES) {
          const result = await graphql<{ _entities: Array<{ id: string } | null> }>(url, entitiesQuery(type), { r: [{ __typename: type, id: ABSENT_ID }] }, gatewayHeaders(tokens[role], secret));
          const code = result.errors?.[0]?.extensions?.code;
          if (result.status >= 500 || code === 'INTERNAL_SERVER_ERROR') failures.push(`${name} ${type} × ${role}: ${result.status} ${String(code)}`);
          if (result.data?._entities?.[0]) failures.push(`${name} ${type} × ${role}: answered an entity for an absent id`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('gives an entity lookup the same answer as its root query, role by role, for real records', async () => {
    const rep = raw(tokens['sales-rep']);
    const customer = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input: { name: uniqueName('Matrix Customer'), phones: [{ number: '13900139000' }] } });
    const customerId = customer.data!.createCustomer.id as string;
    const lead = await rep(`mutation($input: CreateLeadInput!) { createLead(input: $input) { id } }`, { input: { name: uniqueName('Matrix Lead'), source: 'WEBSITE', phones: ['13700137000'] } });
    expect(lead.errors, JSON.stringify(lead.errors)).toBeUndefined();
    const ticket = await raw(tokens['service-agent'])(`mutation($input: CreateTicketInput!) { createTicket(input: $input) { id } }`, { input: { customerId, subject: 'Matrix ticket', type: 'CONSULTATION' } });
    expect(ticket.errors, JSON.stringify(ticket.errors)).toBeUndefined();
    const records = [
      { subgraph: 'customers', type: 'Customer', query: 'customer', id: customerId },
      { subgraph: 'sales', type: 'Lead', query: 'lead', id: lead.data!.createLead.id as string },
      { subgraph: 'service-desk', type: 'Ticket', query: 'ticket', id: ticket.data!.createTicket.id as string },
    ];
    const differences: string[] = [];
    const visibleTo: Record<string, string[]> = {};
    for (const record of records) {
      const { url, secret } = platform.subgraphs[record.subgraph]!;
      for (const role of ROLES) {
        const viaRoot = await raw(tokens[role])(`query($id: ID!) { ${record.query}(id: $id) { id } }`, { id: record.id });
        const viaEntity = await graphql<{ _entities: Array<{ id: string } | null> }>(url, entitiesQuery(record.type), { r: [{ __typename: record.type, id: record.id }] }, gatewayHeaders(tokens[role], secret));
        const rootSees = viaRoot.data?.[record.query]?.id === record.id;
        const entitySees = viaEntity.data?._entities?.[0]?.id === record.id;
        if (rootSees) (visibleTo[record.type] ??= []).push(role);
        if (rootSees !== entitySees) differences.push(`${record.type} × ${role}: root query ${rootSees ? 'sees' : 'does not see'} it, _entities ${entitySees ? 'does' : 'does not'}`);
      }
    }
    expect(differences).toEqual([]);
    // The rules are not vacuous: each record is visible to some roles and hidden from the customer role.
    for (const record of records) {
      expect(visibleTo[record.type]?.length, record.type).toBeGreaterThan(0);
      expect(visibleTo[record.type], record.type).not.toContain('customer');
    }
  });
});
