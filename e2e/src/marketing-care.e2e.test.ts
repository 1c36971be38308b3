import { describe, expect, it } from 'vitest';
import { eventually } from '@crm/testing';
import { e2ePlatform, gatewayCalls, loginAll, userIdOf } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('marketing-care');
const { raw, asUser } = gatewayCalls(platform);

describe(`consent, care plans, channels and competitors through the gateway (logs: ${logDir})`, () => {
  it('a customer opts in to SMS for themself; a holiday care plan greets them once; channels record costs; competitors count the opportunities that name them', async () => {
    const tokens = await loginAll(infra, ['marketer', 'sales.rep', 'sales.manager', 'customer'] as const);
    const [marketer, rep, manager, customerUser] = [asUser(tokens.marketer), asUser(tokens['sales.rep']), asUser(tokens['sales.manager']), asUser(tokens.customer)];

    // The customers service owns the customer and its self-service account; marketing learns both from events.
    const { createCustomer: customer } = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input: { name: 'Shanghai Jiao Tong University', organization: 'SJTU' } });
    await manager(`mutation($c: ID!, $u: ID) { linkCustomerAccount(customerId: $c, userId: $u) { id } }`, { c: customer.id, u: userIdOf(tokens.customer) });
    const consent = await eventually(async () => {
      const result = await raw(tokens.customer)(`mutation($c: ID!) { setContactConsent(customerId: $c, input: { channel: SMS, optedIn: true, address: "+8613800138000" }) { optedIn source } }`, { c: customer.id });
      return result.errors ? undefined : result.data!.setContactConsent;
    }, 90_000, 500);
    expect(consent).toEqual({ optedIn: true, source: 'CUSTOMER' });
    expect((await customerUser(`query($id: ID!) { customer(id: $id) { contactConsents { channel optedIn address } } }`, { id: customer.id })).customer.contactConsents).toEqual([{ channel: 'SMS', optedIn: true, address: '+8613800138000' }]);

    await marketer(`mutation { createCarePlan(input: { name: "Mid-Autumn", kind: HOLIDAY, holiday: "MID_AUTUMN", channel: SMS, subject: "{{holiday}}", body: "{{name}}, happy {{holiday}} from {{company}}!" }) { id } }`);
    const first = (await marketer(`mutation { runCarePlans(day: "2027-09-15") { sent skipped failed } }`)).runCarePlans;
    expect(first.sent).toBeGreaterThanOrEqual(1);
    expect((await marketer(`mutation { runCarePlans(day: "2027-09-15") { sent } }`)).runCarePlans.sent).toBe(0);
    const messages = (await marketer(`query($c: ID!) { messages(customerId: $c) { status channel deliveredVia subject occasion } }`, { c: customer.id })).messages;
    expect(messages).toEqual([{ status: 'SENT', channel: 'SMS', deliveredVia: 'log-only', subject: '中秋节 Mid-Autumn Festival', occasion: expect.stringMatching(/^care:[0-9a-f]{24}:MID_AUTUMN:2027$/) }]);
    // The customer opts out: a manual message is refused.
    await customerUser(`mutation($c: ID!) { setContactConsent(customerId: $c, input: { channel: SMS, optedIn: false }) { optedIn } }`, { c: customer.id });
    const refused = await raw(tokens.marketer)(`mutation($c: ID!) { sendMessage(input: { customerId: $c, channel: SMS, subject: "Hi", body: "Offer" }) { id } }`, { c: customer.id });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'MESSAGE_NO_CONSENT' });

    const { createChannel: channel } = await marketer(`mutation { createChannel(input: { name: "Campus radio ${Date.now()}", kind: OTHER }) { id } }`);
    const costed = (await marketer(`mutation($id: ID!) { recordChannelCost(id: $id, input: { period: "2026-11", amount: { amountMinor: 300000, currency: "CNY" } }) { totalCost { amountMinor currency } } }`, { id: channel.id })).recordChannelCost;
    expect(costed.totalCost).toEqual([{ amountMinor: 300_000, currency: 'CNY' }]);

    const rival = `Rival ${Date.now()}`;
    const { createCompetitor: competitor } = await marketer(`mutation($n: String!) { createCompetitor(input: { name: $n }) { id } }`, { n: rival });
    await rep(`mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id } }`, {
      input: { customerId: customer.id, name: 'Smart classrooms', amount: { amountMinor: 2_000_000, currency: 'CNY' }, expectedCloseDate: '2027-03-01T00:00:00Z', competitors: [rival.toUpperCase()] },
    });
    const stats = await eventually(async () => {
      const c = (await marketer(`query($id: ID!) { competitor(id: $id) { stats { opportunities open } opportunityIds } }`, { id: competitor.id })).competitor;
      return c.stats.opportunities === 1 ? c : undefined;
    }, 90_000, 500);
    expect(stats.stats).toEqual({ opportunities: 1, open: 1 });
    // Opportunity.name comes from the sales subgraph, for those who may read the opportunity (its owner).
    const asOwner = (await rep(`query($id: ID!) { competitor(id: $id) { opportunities { id name } } }`, { id: competitor.id })).competitor;
    expect(asOwner.opportunities).toEqual([{ id: stats.opportunityIds[0], name: 'Smart classrooms' }]);
  }, 240_000);
});
