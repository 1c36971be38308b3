import { describe, expect, it } from 'vitest';
import { graphql, login } from '@crm/testing';
import { e2ePlatform } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('catalogue');

const asUser = (token: string) => (query: string, variables: Record<string, unknown> = {}) =>
  graphql<Record<string, any>>(platform.gatewayUrl, query, variables, { authorization: `Bearer ${token}` });

describe(`sales catalogue and expenses through the gateway (logs: ${logDir})`, () => {
  it('a manager lists a product and receives stock; a rep records an expense on a customer and reads it on the customer', async () => {
    const manager = asUser(await login(infra, 'sales.manager'));
    const rep = asUser(await login(infra, 'sales.rep'));

    const created = await manager(`mutation($input: CreateProductInput!) { createProduct(input: $input) { id status version } }`, {
      input: { sku: 'E2E-TEA-1', name: 'Longjing tea 250 g', category: 'Tea', placeOfProduction: 'Hangzhou', productionDate: '2026-04-01', price: { amountMinor: 29_900, currency: 'CNY' }, status: 'DRAFT' },
    });
    expect(created.errors).toBeUndefined();
    const productId = created.data!.createProduct.id as string;
    const published = await manager(`mutation($id: ID!) { updateProduct(id: $id, input: { status: ACTIVE }, expectedVersion: 1) { status version } }`, { id: productId });
    expect(published.data!.updateProduct).toEqual({ status: 'ACTIVE', version: 2 });
    const received = await manager(`mutation($id: ID!) { receiveStock(input: { productId: $id, quantity: 40, reason: "First delivery" }) { onHand available } }`, { id: productId });
    expect(received.errors).toBeUndefined();
    expect(received.data!.receiveStock).toEqual({ onHand: 40, available: 40 });
    const listed = await rep(`{ products(filter: { search: "longjing", status: [ACTIVE] }) { edges { node { sku placeOfProduction productionDate stock { onHand reserved available } } } } }`);
    expect(listed.data!.products.edges).toEqual([{ node: { sku: 'E2E-TEA-1', placeOfProduction: 'Hangzhou', productionDate: '2026-04-01', stock: { onHand: 40, reserved: 0, available: 40 } } }]);

    const customer = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input: { name: 'Wang Fang', organization: 'Zhejiang University' } });
    expect(customer.errors).toBeUndefined();
    const customerId = customer.data!.createCustomer.id as string;
    const expense = await rep(`mutation($input: RecordExpenseInput!) { recordExpense(input: $input) { id customer { id name } } }`, {
      input: { subject: 'Tea tasting visit', amount: { amountMinor: 45_000, currency: 'CNY' }, date: '2026-05-06', customerId, visibility: 'PUBLIC' },
    });
    expect(expense.errors).toBeUndefined();
    // Expense.customer.name comes from the customers subgraph.
    expect(expense.data!.recordExpense.customer).toEqual({ id: customerId, name: 'Wang Fang' });

    // Customer.expenses comes from the sales subgraph, joined by the gateway.
    const read = await rep(`query($id: ID!) { customer(id: $id) { name expenses { totalCount edges { node { subject amount { amountMinor currency } visibility } } }
      expenseTable(columns: [DATE, SUBJECT, AMOUNT]) { rows { cells } } } }`, { id: customerId });
    expect(read.errors).toBeUndefined();
    expect(read.data!.customer).toEqual({
      name: 'Wang Fang',
      expenses: { totalCount: 1, edges: [{ node: { subject: 'Tea tasting visit', amount: { amountMinor: 45_000, currency: 'CNY' }, visibility: 'PUBLIC' } }] },
      expenseTable: { rows: [{ cells: ['2026-05-06', 'Tea tasting visit', '450.00'] }] },
    });
    // The manager of the department sees the public expense too.
    const asManager = await manager(`query($id: ID!) { customer(id: $id) { expenses { totalCount } } }`, { id: customerId });
    expect(asManager.data!.customer.expenses.totalCount).toBe(1);
  });
});
