import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEMO_PASSWORD, eventually, graphql, login } from '@crm/testing';
import { e2ePlatform, root } from './platform.js';

const execFileAsync = promisify(execFile);
const { infra, platform, logDir } = await e2ePlatform('platform');

const asUser = (token: string) => (query: string, variables: Record<string, unknown> = {}) =>
  graphql<Record<string, any>>(platform.gatewayUrl, query, variables, { authorization: `Bearer ${token}` });

describe(`the platform through the gateway (logs: ${logDir})`, () => {
  it('a sales rep creates a customer, sees it with its tickets, and the stats grow within 5 s', async () => {
    const rep = asUser(await login(infra, 'sales.rep'));
    const statsQuery = `{ customerStats { totalCustomers } }`;
    // This run has its own topics and databases, so the read model starts empty.
    expect((await rep(statsQuery)).data!.customerStats.totalCustomers).toBe(0);

    const created = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id name } }`, {
      input: { name: 'Li Na', email: 'li.na@example.cn', organization: 'Fudan University' },
    });
    expect(created.errors).toBeUndefined();
    const customerId = created.data!.createCustomer.id as string;

    const ticket = await rep(`mutation($input: CreateTicketInput!) { createTicket(input: $input) { id customer { id name } } }`, {
      input: { customerId, subject: 'Invoice question', type: 'CONSULTATION' },
    });
    expect(ticket.errors).toBeUndefined();
    // Ticket.customer.name comes from the customers subgraph: a cross-subgraph join by the gateway.
    expect(ticket.data!.createTicket.customer).toEqual({ id: customerId, name: 'Li Na' });

    const read = await rep(`query($id: ID!) { customer(id: $id) { id name organization tickets { subject status } } }`, { id: customerId });
    expect(read.errors).toBeUndefined();
    expect(read.data!.customer).toEqual({ id: customerId, name: 'Li Na', organization: 'Fudan University', tickets: [{ subject: 'Invoice question', status: 'NEW' }] });

    const started = Date.now();
    const after = await eventually(async () => {
      const total = (await rep(statsQuery)).data?.customerStats.totalCustomers as number;
      return total > 0 ? total : undefined;
    }, 5_000);
    expect(after).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('serves every subgraph: products for a sales manager, campaigns for a marketer', async () => {
    const manager = asUser(await login(infra, 'sales.manager'));
    const product = await manager(`mutation($input: CreateProductInput!) { createProduct(input: $input) { id sku price { amountMinor currency } } }`, {
      input: { sku: `E2E-${Date.now()}`, name: 'CRM Pro licence', category: 'Software', price: { amountMinor: 129900, currency: 'CNY' } },
    });
    expect(product.errors).toBeUndefined();
    expect(product.data!.createProduct.price).toEqual({ amountMinor: 129900, currency: 'CNY' });

    const marketer = asUser(await login(infra, 'marketer'));
    const campaign = await marketer(`mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id status budget { amountMinor } } }`, {
      input: {
        name: 'Spring fair',
        goal: 'Leads from schools',
        channel: 'EVENT',
        budget: { amountMinor: 5_000_000, currency: 'CNY' },
        startsAt: '2027-03-01T00:00:00Z',
        endsAt: '2027-03-31T00:00:00Z',
      },
    });
    expect(campaign.errors).toBeUndefined();
    expect(campaign.data!.createCampaign).toMatchObject({ status: 'PLANNED', budget: { amountMinor: 5_000_000 } });
  });

  it('passes domain errors through the gateway with their codes', async () => {
    const rep = asUser(await login(infra, 'sales.rep'));
    const bad = await rep(`mutation { createCustomer(input: { name: "", email: "nope" }) { id } }`);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const forbidden = await rep(`mutation { createCampaign(input: { name: "x", goal: "y", channel: EMAIL, budget: { amountMinor: 1, currency: "CNY" }, startsAt: "2027-01-01T00:00:00Z", endsAt: "2027-01-02T00:00:00Z" }) { id } }`);
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses requests without a token at the gateway, and direct subgraph calls without the gateway secret', async () => {
    const anonymous = await graphql(platform.gatewayUrl, `{ customers { totalCount } }`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const token = await login(infra, 'admin');
    for (const [name, subgraph] of Object.entries(platform.subgraphs)) {
      const direct = await graphql(subgraph.url, `{ __typename }`, {}, { authorization: `Bearer ${token}` });
      expect({ name, status: direct.status, code: direct.errors?.[0]?.extensions?.code }).toEqual({ name, status: 403, code: 'FORBIDDEN' });
    }
  });

  it('serves Prometheus metrics on the gateway and every subgraph: requests, errors, consumer lag and outbox backlog', async () => {
    const rep = asUser(await login(infra, 'sales.rep'));
    await rep('query MetricsProbe { customers(first: 1) { totalCount } }');
    const scrape = async (graphqlUrl: string) => (await fetch(graphqlUrl.replace(/\/graphql$/, '/metrics'))).text();
    const gateway = await scrape(platform.gatewayUrl);
    expect(gateway).toMatch(/^crm_graphql_operations_total\{[^}]*operation="MetricsProbe"[^}]*service="gateway"[^}]*\} [1-9]/m);
    expect(gateway).toMatch(/^crm_http_request_duration_seconds_count\{[^}]*route="\/graphql"[^}]*\} [1-9]/m);
    const customers = await scrape(platform.subgraphs.customers!.url);
    expect(customers).toMatch(/^crm_graphql_operations_total\{[^}]*service="customers"[^}]*\} [1-9]/m);
    expect(customers).toMatch(/^crm_outbox_backlog\{aggregate="customers",service="customers"\} \d+$/m);
    for (const name of ['sales', 'service-desk', 'marketing', 'analytics', 'admin']) {
      const text = await scrape(platform.subgraphs[name]!.url);
      expect(text, name).toMatch(new RegExp(`^crm_kafka_consumer_lag\\{group="[^"]+",topic="[^"]+",service="${name}"\\} \\d+$`, 'm'));
    }
  });

  it('imports customers with the CLI (pnpm crm import) and exports them as CSV through the gateway', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crm-cli-'));
    const file = join(dir, 'people.csv');
    writeFileSync(file, ['name,phone,email,tags', 'Cli Zhao,13911112222,zhao@example.cn,cli', 'Cli Qian,not a phone,,cli', 'Cli Sun,,sun@example.cn,cli'].join('\n'));
    const cli = (...args: string[]) =>
      execFileAsync(process.execPath, [join(root, 'scripts', 'crm.mjs'), ...args, '--gateway', platform.gatewayUrl, '--keycloak', infra.keycloakUrl, '--realm', infra.realm, '--user', 'sales.rep', '--password', DEMO_PASSWORD], {
        cwd: dir,
        env: { ...process.env, INIT_CWD: dir },
      });
    const imported = await cli('import', 'customers', 'people.csv');
    expect(imported.stdout).toMatch(/completed in [\d.]+ s: 3 rows, 2 created, 0 skipped \(already imported\), 1 failed/);
    expect(imported.stdout).toMatch(/row 3, phone: /);
    // Progress went to stderr (a bar on a terminal, lines otherwise).
    expect(imported.stderr).toMatch(/uploading people\.csv/);

    const rep = asUser(await login(infra, 'sales.rep'));
    const found = await rep(`{ customers(filter: { tags: ["cli"] }, orderBy: NAME_ASC) { edges { node { name phones { number } } } } }`);
    expect(found.data!.customers.edges.map((e: any) => e.node)).toEqual([
      { name: 'Cli Sun', phones: [] },
      { name: 'Cli Zhao', phones: [{ number: '+8613911112222' }] },
    ]);

    const exported = await cli('export', 'customers', '--format', 'csv', '--filter', JSON.stringify({ tags: ['cli'] }), '--order-by', 'NAME_ASC', '--out', 'out.csv');
    expect(exported.stderr).toMatch(/exported \d[\d,]* bytes \(csv\)/);
    const lines = readFileSync(join(dir, 'out.csv'), 'utf8').replace(/^\ufeff/, '').trim().split(/\r?\n/);
    expect(lines[0]).toMatch(/^id,name,/);
    expect(lines.slice(1).map((line) => line.split(',')[1])).toEqual(['Cli Sun', 'Cli Zhao']);
  });

  it('stops every process gracefully on SIGTERM (exit code 0: requests drained, outbox flushed, consumers closed)', async () => {
    const anyToken = await login(infra, 'analyst');
    expect((await asUser(anyToken)(`{ customerStats { totalCustomers } }`)).errors).toBeUndefined();
    expect(await platform.stop()).toEqual({ gateway: 0, customers: 0, sales: 0, 'service-desk': 0, marketing: 0, analytics: 0, admin: 0 });
  });
});
