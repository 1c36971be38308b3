import { describe, expect, it } from 'vitest';
import { eventually, graphql, login } from '@crm/testing';
import { e2ePlatform } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('pipeline');

const asUser = (token: string) => (query: string, variables: Record<string, unknown> = {}) =>
  graphql<Record<string, any>>(platform.gatewayUrl, query, variables, { authorization: `Bearer ${token}` });
const ok = async (result: Promise<{ data?: Record<string, any>; errors?: unknown[] }>) => {
  const { data, errors } = await result;
  expect(errors, JSON.stringify(errors)).toBeUndefined();
  return data!;
};

describe(`sales pipeline through the gateway (logs: ${logDir})`, () => {
  it('lead → possible customer matches (customers subgraph) → convert → customer exists → opportunity won → forecast', async () => {
    const rep = asUser(await login(infra, 'sales.rep'));
    const { createCustomer: known } = await ok(rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, {
      input: { name: 'Wang Fang', phones: [{ number: '138 0013 8000' }], organization: 'Fudan University' },
    }));

    // Lead.possibleCustomerMatches is resolved by the customers subgraph from the lead's contact details (@requires).
    const { createLead: lead } = await ok(rep(`mutation($input: CreateLeadInput!) { createLead(input: $input) {
      id status phones possibleCustomerMatches { customer { id name } reasons } } }`, {
      input: { name: '赵敏', email: 'zhao.min@example.cn', phones: ['+86 138-0013-8000'], company: 'Tongji University', source: 'EVENT' },
    }));
    expect(lead).toMatchObject({ status: 'NEW', phones: ['+8613800138000'], possibleCustomerMatches: [{ customer: { id: known.id, name: 'Wang Fang' }, reasons: ['SAME_PHONE'] }] });

    for (const status of ['CONTACTED', 'QUALIFIED']) await ok(rep(`mutation($id: ID!, $s: LeadStatus!) { changeLeadStatus(id: $id, status: $s) { status } }`, { id: lead.id, s: status }));
    const { convertLead: converted } = await ok(rep(`mutation($id: ID!, $input: ConvertLeadInput!) { convertLead(id: $id, input: $input) {
      customerId newCustomer lead { status } opportunity { id version stage probability } } }`, {
      id: lead.id,
      input: { customerOverrides: { phones: ['13900139000'] }, opportunity: { name: 'Tongji campus licence', amount: { amountMinor: 12_000_000, currency: 'CNY' }, expectedCloseDate: new Date().toISOString(), need: 'HIGH' } },
    }));
    expect(converted).toMatchObject({ newCustomer: true, lead: { status: 'CONVERTED' }, opportunity: { stage: 'QUALIFICATION', probability: 10 } });
    const converting = await rep(`mutation($id: ID!) { convertLead(id: $id, input: {}) { customerId } }`, { id: lead.id });
    expect(converting.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEAD_ALREADY_CONVERTED' });

    // The customers service creates the customer from lead.converted; then it joins with its sales records.
    const customer = await eventually(async () => {
      const result = await rep(`query($id: ID!) { customer(id: $id) { id name email phones { number } organization lifecycleStage source
        opportunities { totalCount edges { node { id name } } } leads { edges { node { id } } } } }`, { id: converted.customerId });
      return result.data?.customer;
    }, 15_000);
    expect(customer).toEqual({
      id: converted.customerId,
      name: '赵敏',
      email: 'zhao.min@example.cn',
      phones: [{ number: '+8613900139000' }],
      organization: 'Tongji University',
      lifecycleStage: 'PROSPECT',
      source: 'EVENT',
      opportunities: { totalCount: 1, edges: [{ node: { id: converted.opportunity.id, name: 'Tongji campus licence' } }] },
      leads: { edges: [{ node: { id: lead.id } }] },
    });

    const { moveOpportunity: won } = await ok(rep(`mutation($id: ID!, $v: Int!) { moveOpportunity(id: $id, stage: "WON", expectedVersion: $v, reason: "Best fit") {
      status closedAt customer { name } } }`, { id: converted.opportunity.id, v: converted.opportunity.version }));
    expect(won).toMatchObject({ status: 'WON', customer: { name: '赵敏' } });

    const now = new Date();
    const { salesForecast } = await ok(rep(`query($from: DateTime!, $to: DateTime!) { salesForecast(from: $from, to: $to) {
      timeZone periods { label lines { key currency wonAmount { amountMinor } wonCount weightedPipeline { amountMinor } } } } }`, {
      from: new Date(now.getTime() - 86_400_000).toISOString(),
      to: new Date(now.getTime() + 86_400_000).toISOString(),
    }));
    expect(salesForecast.timeZone).toBe('Asia/Shanghai');
    const lines = salesForecast.periods.flatMap((p: any) => p.lines);
    expect(lines).toEqual([{ key: 'ALL', currency: 'CNY', wonAmount: { amountMinor: 12_000_000 }, wonCount: 1, weightedPipeline: { amountMinor: 0 } }]);

    const board = await ok(rep(`{ opportunityBoard(perStage: 1) { columns { stage { key } count totals { amountMinor currency } } } }`));
    expect(board.opportunityBoard.columns.find((c: any) => c.stage.key === 'WON')).toEqual({ stage: { key: 'WON' }, count: 1, totals: [{ amountMinor: 12_000_000, currency: 'CNY' }] });
  });
});
