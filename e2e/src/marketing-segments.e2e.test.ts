import { describe, expect, it } from 'vitest';
import { eventually, uniqueName } from '@crm/testing';
import { e2ePlatform, gatewayCalls, loginAll } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('marketing-segments');
const { raw, asUser } = gatewayCalls(platform);
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });

describe(`segments through the gateway (logs: ${logDir})`, () => {
  it('a customer joins a spend segment when its order is paid in sales; Customer shows segments and buying profile; a survey goes to the segment', async () => {
    const tokens = await loginAll(infra, ['marketer', 'sales.rep', 'sales.manager'] as const);
    const [marketer, rep, manager] = [asUser(tokens.marketer), asUser(tokens['sales.rep']), asUser(tokens['sales.manager'])];
    const tag = uniqueName('campus');

    const rule = { and: [{ condition: { field: 'TAGS', op: 'HAS_ANY', texts: [tag] } }, { condition: { field: 'TOTAL_SPEND', op: 'GTE', number: 500_000, currency: 'CNY' } }] };
    const { createSegment: segment } = await marketer(`mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id memberCount } }`, { input: { name: 'Campus buyers over ¥5,000', kind: 'DYNAMIC', rule } });
    expect(segment.memberCount).toBe(0);

    const { createCustomer: customer } = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input: { name: 'Xiamen University', organization: 'Xiamen University', tags: [tag] } });
    const { createProduct: product } = await manager(`mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`, { input: { sku: `SEG-${Date.now()}`, name: 'Document camera', price: cny(600_000) } });
    await manager(`mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }`, { input: { productId: product.id, quantity: 3 } });
    const { placeOrder: order } = await rep(`mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status totals { total { amountMinor } } } }`, {
      input: { customerId: customer.id, currency: 'CNY', lines: [{ productId: product.id, quantity: 1 }] },
    });
    expect(order.status).toBe('APPROVED');

    // Placed is not paid: the profile counts nothing yet.
    const preview = `query($r: SegmentRuleInput!) { previewSegment(rule: $r) { count sample } }`;
    await eventually(async () => {
      const seen = (await marketer(`query($id: ID!) { customer(id: $id) { buyingProfile { paidOrderCount } } }`, { id: customer.id })).customer;
      return seen.buyingProfile ? true : undefined;
    }, 90_000, 500);
    expect((await marketer(preview, { r: rule })).previewSegment.count).toBe(0);

    await rep(`mutation($id: ID!, $input: RecordPaymentInput!) { recordOrderPayment(id: $id, input: $input) { paymentStatus } }`, { id: order.id, input: { amount: cny(order.totals.total.amountMinor), method: 'BANK_TRANSFER', reference: 'XMU-1' } });
    const CUSTOMER = `query($id: ID!) { customer(id: $id) { name segments { id name } buyingProfile { paidOrderCount valueTier totalSpend { amountMinor currency } } } }`;
    const joined = await eventually(async () => {
      const view = (await marketer(CUSTOMER, { id: customer.id })).customer;
      return view.segments.length ? view : undefined;
    }, 90_000, 500);
    // Customer.name from the customers subgraph; segments and buying profile from marketing.
    expect(joined).toEqual({ name: 'Xiamen University', segments: [{ id: segment.id, name: 'Campus buyers over ¥5,000' }], buyingProfile: { paidOrderCount: 1, valueTier: 'BRONZE', totalSpend: [cny(order.totals.total.amountMinor)] } });
    expect((await marketer(preview, { r: rule })).previewSegment).toEqual({ count: 1, sample: [customer.id] });
    // Segments are for marketing staff.
    expect((await raw(tokens['sales.rep'])(CUSTOMER, { id: customer.id })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // A survey sent to the segment invites its member.
    const { createSurvey: survey } = await marketer(`mutation { createSurvey(input: { title: "Camera feedback", questions: [{ kind: RATING, text: "How useful is it?" }] }) { id } }`);
    await marketer(`mutation($id: ID!) { openSurvey(id: $id, expectedVersion: 1) { id } }`, { id: survey.id });
    const { sendSurvey: sent } = await marketer(`mutation($id: ID!, $s: [ID!]) { sendSurvey(id: $id, audience: { segmentIds: $s }) { invited } }`, { id: survey.id, s: [segment.id] });
    expect(sent.invited).toBe(1);
    // Fresh topics: the marketing consumer joins its group first (tens of seconds on a slow machine).
  }, 180_000);
});
