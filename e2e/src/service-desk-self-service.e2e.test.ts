import { describe, expect, it } from 'vitest';
import { eventually } from '@crm/testing';
import { e2ePlatform, gatewayCalls, loginAll, userIdOf } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('service-desk-self-service');

const { raw, asUser } = gatewayCalls(platform);
type Result = Awaited<ReturnType<ReturnType<typeof raw>>>;
/** Retries a call until it succeeds: the service desk learns customers and orders from events. */
const settled = async (call: () => Promise<Result>) => {
  let last: unknown;
  return eventually(async () => {
    const result = await call();
    last = result.errors;
    return result.errors ? undefined : result.data!;
  }, 60_000, 250).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(last)}`);
  });
};

describe(`service desk self-service through the gateway (logs: ${logDir})`, () => {
  it('a customer gets automatic answers, hands over to an agent who replies, and requests a return of a delivered order', async () => {
    const names = ['sales.rep', 'sales.manager', 'service.manager', 'service.agent', 'customer'] as const;
    const tokens = await loginAll(infra, names);
    const [rep, salesManager, manager, agent, customer] = [asUser(tokens['sales.rep']), asUser(tokens['sales.manager']), asUser(tokens['service.manager']), asUser(tokens['service.agent']), asUser(tokens.customer)];

    // Sales: a product, a customer with the demo self-service account, a delivered order.
    const { createProduct: product } = await salesManager(`mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }`, {
      input: { sku: `E2E-SD-${Date.now()}`, name: 'Laser printer P300', price: { amountMinor: 150_000, currency: 'CNY' } },
    });
    await salesManager(`mutation($input: ReceiveStockInput!) { receiveStock(input: $input) { onHand } }`, { input: { productId: product.id, quantity: 3 } });
    const { createCustomer: created } = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input: { name: 'Suzhou Library', organization: 'Suzhou Library' } });
    await salesManager(`mutation($c: ID!, $u: ID) { linkCustomerAccount(customerId: $c, userId: $u) { id } }`, { c: created.id, u: userIdOf(tokens.customer) });
    const { createQuote: quote } = await rep(`mutation($input: CreateQuoteInput!) { createQuote(input: $input) { id } }`, {
      input: { customerId: created.id, currency: 'CNY', lines: [{ productId: product.id, quantity: 1, taxRateBasisPoints: 1300 }] },
    });
    await rep(`mutation($id: ID!) { sendQuote(id: $id) { status } }`, { id: quote.id });
    const { acceptQuote: accepted } = await rep(`mutation($id: ID!) { acceptQuote(id: $id, createOrder: true) { order { id status } } }`, { id: quote.id });
    const orderId = accepted.order.id as string;
    if (accepted.order.status === 'PENDING_APPROVAL') await salesManager(`mutation($id: ID!) { approveOrder(id: $id) { status } }`, { id: orderId });
    await rep(`mutation($id: ID!) { shipOrder(id: $id, input: { carrier: "SF Express", trackingNumber: "SF1" }) { status } }`, { id: orderId });
    await rep(`mutation($id: ID!) { deliverOrder(id: $id, input: { receivedBy: "Front desk" }) { status } }`, { id: orderId });

    // Service desk: a queue for chat hand-overs and a published FAQ about the product.
    await manager(`mutation($input: CreateQueueInput!) { createQueue(input: $input) { id } }`, { input: { name: 'Online', skillGroup: 'chat', members: [userIdOf(tokens['service.agent'])], ticketTypes: ['CONSULTATION'] } });
    const { createArticle: article } = await agent(`mutation($input: CreateArticleInput!) { createArticle(input: $input) { id } }`, {
      input: { kind: 'FAQ', title: '打印机卡纸怎么处理', body: '关闭电源，打开后盖，取出卡住的纸。', productIds: [product.id] },
    });
    await manager(`mutation($id: ID!) { publishArticle(id: $id) { revision } }`, { id: article.id });

    // The customer asks (once the service desk knows the account), gets the FAQ, then asks for a human.
    const START = `mutation($input: StartConversationInput!) { startConversation(input: $input) { id customer { id name } messages { author answers { score article { id title } } } } }`;
    const started = (await settled(() => raw(tokens.customer)(START, { input: { question: '打印机又卡纸了', productId: product.id } }))).startConversation;
    expect(started.customer).toEqual({ id: created.id, name: 'Suzhou Library' });
    expect(started.messages[1].answers[0].article).toEqual({ id: article.id, title: '打印机卡纸怎么处理' });
    const handed = (await customer(`mutation($id: ID!) { requestHumanAgent(id: $id) { status messages { id } ticket { id channel assigneeId product { id } } } }`, { id: started.id })).requestHumanAgent;
    expect(handed.ticket).toMatchObject({ channel: 'CHAT', assigneeId: userIdOf(tokens['service.agent']), product: { id: product.id } });
    await agent(`mutation($id: ID!) { replyToConversation(id: $id, text: "请按 FAQ 操作后重启打印机。") { id } }`, { id: started.id });
    const polled = (await customer(`query($id: ID!, $after: ID) { conversation(id: $id) { messages(after: $after) { author text } } }`, { id: started.id, after: handed.messages.at(-1).id })).conversation.messages;
    expect(polled).toEqual([{ author: 'AGENT', text: '请按 FAQ 操作后重启打印机。' }]);
    const suggested = (await agent(`query($id: ID!) { ticket(id: $id) { suggestedArticles { article { id } } } }`, { id: handed.ticket.id })).ticket.suggestedArticles;
    expect(suggested[0].article.id).toBe(article.id);

    // A return of the delivered order (once its events reached the service desk), seen on the sales Order.
    const REQUEST = `mutation($input: RequestAfterSalesInput!) { requestAfterSales(input: $input) { id status orderId productId } }`;
    const record = (await settled(() => raw(tokens.customer)(REQUEST, { input: { kind: 'RETURN', productId: product.id, orderId, reason: 'Paper jams every day', ticketId: handed.ticket.id } }))).requestAfterSales;
    expect(record).toMatchObject({ status: 'REQUESTED', orderId, productId: product.id });
    const seenOnOrder = (await salesManager(`query($id: ID!) { order(id: $id) { id status afterSalesRecords { id kind status product { name } } } }`, { id: orderId })).order;
    // Order.status from sales, the records from the service desk, Product.name from sales again.
    expect(seenOnOrder).toEqual({ id: orderId, status: 'DELIVERED', afterSalesRecords: [{ id: record.id, kind: 'RETURN', status: 'REQUESTED', product: { name: 'Laser printer P300' } }] });
  });
});
