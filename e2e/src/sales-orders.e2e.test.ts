import { describe, expect, it } from 'vitest';
import { graphql, login } from '@crm/testing';
import { e2ePlatform } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('sales');

const asUser = (token: string) => async (query: string, variables: Record<string, unknown> = {}) => {
  const result = await graphql<Record<string, any>>(platform.gatewayUrl, query, variables, { authorization: `Bearer ${token}` });
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!;
};
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });

describe(`sales orders through the gateway (logs: ${logDir})`, () => {
  it('quote → accept → order → approve → ship → deliver → pay, and the customer shows its quote, contract and order', async () => {
    const [manager, rep] = [asUser(await login(infra, 'sales.manager')), asUser(await login(infra, 'sales.rep'))];
    const { createProduct: product } = await manager(`mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`, {
      input: { sku: `E2E-ORD-${Date.now()}`, name: 'Smart classroom kit', price: cny(600_000) },
    });
    await manager(`mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }`, { input: { productId: product.id, quantity: 5 } });
    const { createCustomer: customer } = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, {
      input: { name: 'Zhejiang University', organization: 'Zhejiang University' },
    });

    const { createQuote: quote } = await rep(`mutation($input: CreateQuoteInput!) { createQuote(input: $input) { id totals { total { amountMinor } } } }`, {
      input: { customerId: customer.id, currency: 'CNY', lines: [{ productId: product.id, quantity: 2, taxRateBasisPoints: 1300 }], discount: { basisPoints: 500 } },
    });
    // 2 × ¥6,000.00 = ¥12,000.00, −5 % = ¥11,400.00, +13 % VAT = ¥12,882.00: at or above ¥10,000.00, so it needs approval.
    expect(quote.totals.total.amountMinor).toBe(1_288_200);
    await rep(`mutation($id: ID!) { sendQuote(id: $id) { status } }`, { id: quote.id });
    const { acceptQuote: accepted } = await rep(`mutation($id: ID!) { acceptQuote(id: $id, createContract: true, createOrder: true) {
      quote { status } contract { id status } order { id status customer { id name } } } }`, { id: quote.id });
    expect(accepted.quote.status).toBe('ACCEPTED');
    expect(accepted.contract.status).toBe('DRAFT');
    // Order.customer.name comes from the customers subgraph.
    expect(accepted.order).toMatchObject({ status: 'PENDING_APPROVAL', customer: { id: customer.id, name: 'Zhejiang University' } });
    const orderId = accepted.order.id;

    expect((await manager(`mutation($id: ID!) { approveOrder(id: $id, note: "Within budget") { status } }`, { id: orderId })).approveOrder.status).toBe('APPROVED');
    expect((await manager(`query($id: ID!) { product(id: $id) { stock { reserved available } } }`, { id: product.id })).product.stock).toEqual({ reserved: 2, available: 3 });
    await rep(`mutation($id: ID!) { shipOrder(id: $id, input: { carrier: "SF Express", trackingNumber: "SF100200300" }) { status } }`, { id: orderId });
    await rep(`mutation($id: ID!) { deliverOrder(id: $id, input: { receivedBy: "Lab office" }) { status } }`, { id: orderId });
    const { recordOrderPayment: paid } = await rep(`mutation($id: ID!, $input: RecordPaymentInput!) { recordOrderPayment(id: $id, input: $input) { status paymentStatus outstanding { amountMinor } statusHistory { to } } }`, {
      id: orderId,
      input: { amount: cny(1_288_200), method: 'BANK_TRANSFER', reference: 'ZJU-2026-118' },
    });
    expect(paid).toEqual({ status: 'DELIVERED', paymentStatus: 'PAID', outstanding: { amountMinor: 0 }, statusHistory: [{ to: 'PENDING_APPROVAL' }, { to: 'APPROVED' }, { to: 'SHIPPED' }, { to: 'DELIVERED' }] });

    const view = await rep(`query($id: ID!) { customer(id: $id) { name
      orders { totalCount edges { node { id status paymentStatus quoteId } } }
      quotes { edges { node { id status } } }
      contracts { edges { node { id quoteId orderIds } } } } }`, { id: customer.id });
    expect(view.customer).toEqual({
      name: 'Zhejiang University',
      orders: { totalCount: 1, edges: [{ node: { id: orderId, status: 'DELIVERED', paymentStatus: 'PAID', quoteId: quote.id } }] },
      quotes: { edges: [{ node: { id: quote.id, status: 'ACCEPTED' } }] },
      contracts: { edges: [{ node: { id: accepted.contract.id, quoteId: quote.id, orderIds: [orderId] } }] },
    });
    expect((await manager(`query($id: ID!) { product(id: $id) { stock { onHand reserved } } }`, { id: product.id })).product.stock).toEqual({ onHand: 3, reserved: 0 });
  });
});
