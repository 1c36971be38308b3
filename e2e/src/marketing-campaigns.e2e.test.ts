import { describe, expect, it } from 'vitest';
import { eventually } from '@crm/testing';
import { e2ePlatform, gatewayCalls, loginAll } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('marketing-campaigns');
const { raw, asUser } = gatewayCalls(platform);
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });

describe(`campaigns and referrals through the gateway (logs: ${logDir})`, () => {
  it('an order placed with a campaign code counts in the campaign results once paid; a customer who signs up with a referral code rewards both sides on their first paid order', async () => {
    const tokens = await loginAll(infra, ['marketer', 'sales.rep', 'sales.manager'] as const);
    const [marketer, rep, manager] = [asUser(tokens.marketer), asUser(tokens['sales.rep']), asUser(tokens['sales.manager'])];
    const code = `E2E-${Date.now()}`;
    const { createCampaign: campaign } = await marketer(`mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id code } }`, {
      input: { name: 'Campus open day', code, channel: 'EVENT', budget: cny(1_000_000), startsAt: '2026-11-01T00:00:00Z', endsAt: '2027-01-31T00:00:00Z' },
    });
    await marketer(`mutation($id: ID!) { recordCampaignCost(id: $id, input: { amount: { amountMinor: 400000, currency: "CNY" }, note: "Venue", incurredAt: "2026-11-20T00:00:00Z" }) { id } }`, { id: campaign.id });

    const { createProduct: product } = await manager(`mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`, { input: { sku: `CMP-${Date.now()}`, name: 'Interactive whiteboard', price: cny(500_000) } });
    await manager(`mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }`, { input: { productId: product.id, quantity: 10 } });
    const { createCustomer: referrer } = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input: { name: 'Tongji University', organization: 'Tongji University' } });
    await marketer(`mutation($id: ID!, $c: [ID!]) { addCampaignMembers(id: $id, members: { customerIds: $c }) { id } }`, { id: campaign.id, c: [referrer.id] });

    // The referrer's code, then a new customer who signs up with it (customers service: source referral:<CODE>).
    const referralCode = (await marketer(`query($id: ID!) { customer(id: $id) { referrals { code } } }`, { id: referrer.id })).customer.referrals.code;
    const { createCustomer: referee } = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input: { name: 'Tongji Library', organization: 'Tongji University', source: `referral:${referralCode}` } });

    // The referee's first order, with the campaign's code, paid in full.
    const { placeOrder: order } = await rep(`mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status totals { total { amountMinor } } } }`, {
      input: { customerId: referee.id, currency: 'CNY', campaignCode: code, lines: [{ productId: product.id, quantity: 1 }] },
    });
    expect(order.status).toBe('APPROVED');
    await eventually(async () => {
      const view = (await marketer(`query($id: ID!) { customer(id: $id) { referrals { referredBy { referrerId } } } }`, { id: referee.id })).customer.referrals;
      return view.referredBy ? true : undefined;
    }, 90_000, 500);
    await rep(`mutation($id: ID!, $input: RecordPaymentInput!) { recordOrderPayment(id: $id, input: $input) { paymentStatus } }`, { id: order.id, input: { amount: cny(order.totals.total.amountMinor), method: 'BANK_TRANSFER', reference: 'TJ-1' } });

    const total = order.totals.total.amountMinor;
    const results = await eventually(async () => {
      const r = (await marketer(`query($id: ID!) { campaign(id: $id) { results { membersReached orders revenue { amountMinor } cost { amountMinor } roi { roiBasisPoints } } } }`, { id: campaign.id })).campaign.results;
      return r.orders === 1 ? r : undefined;
    }, 90_000, 500);
    expect(results).toEqual({ membersReached: 1, orders: 1, revenue: [{ amountMinor: total }], cost: [{ amountMinor: 400_000 }], roi: [{ roiBasisPoints: Math.round(((total - 400_000) * 10_000) / 400_000) }] });

    const rewarded = await eventually(async () => {
      const r = (await marketer(`query($id: ID!) { customer(id: $id) { name referrals { referredBy { referrerId rewardOrderId referrerReward { amountMinor } } } } }`, { id: referee.id })).customer;
      return r.referrals.referredBy?.rewardOrderId ? r : undefined;
    }, 90_000, 500);
    expect(rewarded).toEqual({ name: 'Tongji Library', referrals: { referredBy: { referrerId: referrer.id, rewardOrderId: order.id, referrerReward: { amountMinor: 10_000 } } } });
    expect((await marketer(`query($id: ID!) { customer(id: $id) { campaigns { id } referrals { referred { refereeId } } } }`, { id: referrer.id })).customer).toEqual({ campaigns: [{ id: campaign.id }], referrals: { referred: [{ refereeId: referee.id }] } });
    // Campaign results are for marketing staff, not sales reps.
    expect((await raw(tokens['sales.rep'])(`query($id: ID!) { campaign(id: $id) { id } }`, { id: campaign.id })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  }, 240_000);
});
