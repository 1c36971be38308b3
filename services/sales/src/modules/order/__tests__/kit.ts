import { randomBytes } from 'node:crypto';
import { parseEnv } from '@crm/env';
import { gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startSales } from '../../../app.js';
import { salesEnvSchema } from '../../../env.js';

/**
 * One sales subgraph against the real servers for the quote, contract and order tests: its own
 * database and topics, the demo users' tokens, and helpers that make products with stock.
 */
export async function startSalesKit(env: Record<string, string> = {}, topics: string[] = []) {
  const infra = await testInfra();
  const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'sales'), SALES_SCHEDULER_INTERVAL_MS: '0', ...env };
  const running = await startSales(parseEnv(salesEnvSchema, rawEnv));
  const users = ['admin', 'sales.manager', 'sales.rep', 'sales.rep2', 'analyst', 'marketer', 'customer'] as const;
  const tokens = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await login(infra, u)] as const))) as Record<(typeof users)[number], string>;
  const watchers = Object.fromEntries(await Promise.all(topics.map(async (t) => [t, await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.${t}`)] as const)));
  const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = tokens['sales.rep']) =>
    graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET));

  /** A product in the catalogue (as the sales manager) with `stock` units received. */
  async function product(price: number, stock = 0, currency = 'CNY', status: 'ACTIVE' | 'DISCONTINUED' = 'ACTIVE'): Promise<string> {
    const created = await call(
      `mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`,
      { input: { sku: `T-${randomBytes(4).toString('hex').toUpperCase()}`, name: `Product ${price}`, price: { amountMinor: price, currency }, status } },
      tokens['sales.manager'],
    );
    if (created.errors) throw new Error(JSON.stringify(created.errors));
    const id = created.data!.createProduct.id as string;
    if (stock > 0) {
      const received = await call(`mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }`, { input: { productId: id, quantity: stock } }, tokens['sales.manager']);
      if (received.errors) throw new Error(JSON.stringify(received.errors));
    }
    return id;
  }

  async function stockOf(productId: string): Promise<{ onHand: number; reserved: number; available: number }> {
    const result = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { stock { onHand reserved available } } } }`, {
      r: [{ __typename: 'Product', id: productId }],
    }, tokens.admin);
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result.data!._entities[0].stock;
  }

  const collection = (name: string) => running.deps.connection.collection(name);
  const customerId = () => randomBytes(12).toString('hex');

  async function stop() {
    await Promise.all(Object.values(watchers).map((w) => w.stop()));
    await running.deps.connection.dropDatabase();
    await running.stop();
  }

  return { infra, rawEnv, running, tokens, watchers, call, product, stockOf, collection, customerId, stop };
}

export const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });

export const MONEY = 'amountMinor currency';
export const LINE_FIELDS = `productId sku description quantity unitPrice { ${MONEY} } discount { basisPoints amount { ${MONEY} } } taxRateBasisPoints subtotal { ${MONEY} } discountAmount { ${MONEY} } documentDiscountShare { ${MONEY} } netAmount { ${MONEY} } taxAmount { ${MONEY} } total { ${MONEY} }`;
export const TOTALS_FIELDS = `subtotal { ${MONEY} } discountTotal { ${MONEY} } documentDiscount { ${MONEY} } netTotal { ${MONEY} } taxTotal { ${MONEY} } total { ${MONEY} }`;
export const ORDER_FIELDS = `id customerId customer { id } quoteId contractId campaignCode currency status approvalRequired approvedBy paymentMethod paymentStatus version
  lines { ${LINE_FIELDS} } totals { ${TOTALS_FIELDS} } paidAmount { ${MONEY} } outstanding { ${MONEY} } refundedAmount { ${MONEY} }
  statusHistory { from to at by note } payments { id amount { ${MONEY} } method reference } shipment { carrier trackingNumber shippedAt } delivery { deliveredAt receivedBy }`;

export const fieldsOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
  ((result.errors?.[0]?.extensions?.fields ?? []) as Array<{ field: string }>).map((f) => f.field);
