import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { cny, fieldsOf, LINE_FIELDS, startSalesKit, TOTALS_FIELDS } from '../../order/__tests__/kit.js';

const kit = await startSalesKit({}, ['quote']);
const { call, tokens, product, stockOf, collection, customerId } = kit;
const quoteEvents = kit.watchers.quote!;
afterAll(() => kit.stop());

const QUOTE_FIELDS = `id customerId customer { id } opportunityId title currency status revision version validUntil sentAt acceptedAt contractId orderId ownerId
  lines { ${LINE_FIELDS} } discount { basisPoints amount { amountMinor currency } } totals { ${TOTALS_FIELDS} }
  versions { revision totals { total { amountMinor } } lines { quantity } sentAt supersededAt supersededBy }`;
const CREATE = `mutation($input: CreateQuoteInput!) { createQuote(input: $input) { ${QUOTE_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateQuoteInput!, $v: Int) { updateQuote(id: $id, input: $input, expectedVersion: $v) { ${QUOTE_FIELDS} } }`;
const SEND = `mutation($id: ID!) { sendQuote(id: $id) { ${QUOTE_FIELDS} } }`;
const ACCEPT = `mutation($id: ID!, $c: Boolean, $o: Boolean) { acceptQuote(id: $id, createContract: $c, createOrder: $o) {
  quote { id status contractId orderId } contract { id status quoteId orderIds value { amountMinor currency } customerId ownerId }
  order { id status quoteId contractId customerId ownerId totals { total { amountMinor } } statusHistory { to note } } } }`;
const GET = `query($id: ID!) { quote(id: $id) { ${QUOTE_FIELDS} } }`;

async function sentQuote(lines: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}, token = tokens['sales.rep']) {
  const created = await call(CREATE, { input: { customerId: customerId(), currency: 'CNY', lines, ...extra } }, token);
  if (created.errors) throw new Error(JSON.stringify(created.errors));
  const sent = await call(SEND, { id: created.data!.createQuote.id }, token);
  if (sent.errors) throw new Error(JSON.stringify(sent.errors));
  return sent.data!.sendQuote;
}

describe('quotes (SAL-4) against real Mongo, Kafka and Keycloak', () => {
  it('prices a quote on the server: list prices, line and quote discounts, tax per line, in fen', async () => {
    const tablet = await product(299_900);
    const pen = await product(1_250);
    const opportunityId = new Types.ObjectId().toHexString();
    const created = await call(CREATE, {
      input: {
        customerId: customerId(),
        opportunityId,
        title: 'Tablets for Fudan',
        currency: 'CNY',
        lines: [
          { productId: tablet, quantity: 3, discount: { basisPoints: 500 }, taxRateBasisPoints: 1300 },
          { productId: pen, quantity: 7, unitPrice: cny(999), description: 'Engraved pens', taxRateBasisPoints: 600 },
        ],
        discount: { amount: cny(10_000) },
      },
    });
    expect(created.errors).toBeUndefined();
    const quote = created.data!.createQuote;
    // Line 1: 8997.00 − 5 % (449.85) = 8547.15; line 2: 7 × 9.99 = 69.93. ¥100 split 854715:6993 → 99.19 / 0.81.
    expect(quote.lines.map((l: any) => [l.subtotal.amountMinor, l.discountAmount.amountMinor, l.documentDiscountShare.amountMinor, l.netAmount.amountMinor, l.taxAmount.amountMinor, l.total.amountMinor])).toEqual([
      [899_700, 44_985, 9_919, 844_796, 109_823, 954_619],
      [6_993, 0, 81, 6_912, 415, 7_327],
    ]);
    expect(quote.lines[1]).toMatchObject({ description: 'Engraved pens', unitPrice: cny(999) });
    expect(quote.totals).toEqual({ subtotal: cny(906_693), discountTotal: cny(54_985), documentDiscount: cny(10_000), netTotal: cny(851_708), taxTotal: cny(110_238), total: cny(961_946) });
    expect(quote).toMatchObject({ status: 'DRAFT', revision: 1, version: 1, opportunityId, title: 'Tablets for Fudan', versions: [] });
    const days = (Date.parse(quote.validUntil) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    const event = await quoteEvents.find((e) => e.subject === quote.id && e.type === 'quote.created', 15_000);
    expect(event.event.data).toMatchObject({ quoteId: quote.id, customerId: quote.customerId, opportunityId, currency: 'CNY', totals: { total: cny(961_946) } });
    expect(event.event.data.lines).toEqual([
      { productId: tablet, sku: expect.any(String), quantity: 3, unitPrice: cny(299_900), lineTotal: cny(954_619) },
      { productId: pen, sku: expect.any(String), quantity: 7, unitPrice: cny(999), lineTotal: cny(7_327) },
    ]);
  });

  it('edits a draft in place; editing a sent quote makes its next revision and keeps the previous one readable', async () => {
    const item = await product(10_000);
    const created = (await call(CREATE, { input: { customerId: customerId(), currency: 'CNY', lines: [{ productId: item, quantity: 1 }] } })).data!.createQuote;
    const edited = (await call(UPDATE, { id: created.id, input: { lines: [{ productId: item, quantity: 2 }] }, v: 1 })).data!.updateQuote;
    expect(edited).toMatchObject({ status: 'DRAFT', revision: 1, version: 2, totals: { total: cny(20_000) }, versions: [] });
    const stale = await call(UPDATE, { id: created.id, input: { title: 'x' }, v: 1 });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'QUOTE_VERSION_CONFLICT' });

    const sent = (await call(SEND, { id: created.id })).data!.sendQuote;
    expect(sent).toMatchObject({ status: 'SENT', revision: 1 });
    const revised = (await call(UPDATE, { id: created.id, input: { discount: { basisPoints: 1000 } } })).data!.updateQuote;
    expect(revised).toMatchObject({ status: 'DRAFT', revision: 2, sentAt: null, totals: { documentDiscount: cny(2_000), total: cny(18_000) } });
    expect(revised.versions).toEqual([{ revision: 1, totals: { total: { amountMinor: 20_000 } }, lines: [{ quantity: 2 }], sentAt: sent.sentAt, supersededAt: expect.any(String), supersededBy: expect.any(String) }]);
    const versions = await call(`query($id: ID!) { quoteVersions(quoteId: $id) { revision totals { total { amountMinor } } } }`, { id: created.id });
    expect(versions.data!.quoteVersions).toEqual([{ revision: 1, totals: { total: { amountMinor: 20_000 } } }]);
    const event = await quoteEvents.find((e) => e.subject === created.id && e.type === 'quote.revised');
    expect(event.event.data).toMatchObject({ revision: 2, previousRevision: 1, previousTotals: { total: cny(20_000) }, totals: { total: cny(18_000) } });
    for (const type of ['quote.updated', 'quote.sent']) await quoteEvents.find((e) => e.subject === created.id && e.type === type);
    expect((await call(SEND, { id: created.id })).data!.sendQuote).toMatchObject({ status: 'SENT', revision: 2 });
  });

  it('accepts a quote into a contract and an order, once: accepting again creates nothing twice', async () => {
    const item = await product(5_000, 10);
    const quote = await sentQuote([{ productId: item, quantity: 4 }], { title: 'Lab kit' });
    const first = await call(ACCEPT, { id: quote.id, c: false, o: true });
    expect(first.errors).toBeUndefined();
    const { order } = first.data!.acceptQuote;
    expect(first.data!.acceptQuote.contract).toBeNull();
    expect(order).toMatchObject({ status: 'APPROVED', quoteId: quote.id, customerId: quote.customerId, ownerId: quote.ownerId, totals: { total: { amountMinor: 20_000 } } });
    expect(await stockOf(item)).toMatchObject({ reserved: 4 });
    // Again, now also asking for the contract: the same order, one new contract linked to it.
    const again = (await call(ACCEPT, { id: quote.id, c: true, o: true })).data!.acceptQuote;
    expect(again.order.id).toBe(order.id);
    expect(again.contract).toMatchObject({ status: 'DRAFT', quoteId: quote.id, orderIds: [order.id], value: cny(20_000), customerId: quote.customerId });
    expect(again.quote).toMatchObject({ status: 'ACCEPTED', contractId: again.contract.id, orderId: order.id });
    const third = (await call(ACCEPT, { id: quote.id, c: true, o: true })).data!.acceptQuote;
    expect([third.order.id, third.contract.id]).toEqual([order.id, again.contract.id]);
    expect(await collection('orders').countDocuments({ quoteId: quote.id })).toBe(1);
    expect(await collection('contracts').countDocuments({ quoteId: quote.id })).toBe(1);
    expect(await stockOf(item)).toMatchObject({ reserved: 4 });
    const fromQuote = await call(`mutation($q: ID!) { createOrderFromQuote(quoteId: $q) { id } }`, { q: quote.id });
    expect(fromQuote.data!.createOrderFromQuote.id).toBe(order.id);
    const accepted = await quoteEvents.find((e) => e.subject === quote.id && e.type === 'quote.accepted');
    expect(accepted.event.data).toMatchObject({ status: 'ACCEPTED', orderId: order.id });
    expect(quoteEvents.seen.filter((e) => e.event.subject === quote.id && e.event.type === 'quote.accepted')).toHaveLength(1);
  });

  it('accepts even when stock is short: the order waits for approval with the reason', async () => {
    const scarce = await product(1_000, 1);
    const quote = await sentQuote([{ productId: scarce, quantity: 2 }]);
    const { order } = (await call(ACCEPT, { id: quote.id })).data!.acceptQuote;
    expect(order.status).toBe('PENDING_APPROVAL');
    expect(order.statusHistory[0].note).toContain('Automatic approval failed');
    expect(await stockOf(scarce)).toMatchObject({ reserved: 0 });
  });

  it('refuses illegal transitions: accepting a draft or rejected quote, editing an accepted one, ordering from a draft', async () => {
    const item = await product(1_000);
    const draft = (await call(CREATE, { input: { customerId: customerId(), currency: 'CNY', lines: [{ productId: item, quantity: 1 }] } })).data!.createQuote;
    const acceptDraft = await call(ACCEPT, { id: draft.id });
    expect(acceptDraft.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'QUOTE_INVALID_TRANSITION' });
    const orderDraft = await call(`mutation($q: ID!) { createOrderFromQuote(quoteId: $q) { id } }`, { q: draft.id });
    expect(orderDraft.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'QUOTE_INVALID_TRANSITION' });

    const rejected = await sentQuote([{ productId: item, quantity: 1 }]);
    const rejection = await call(`mutation($id: ID!) { rejectQuote(id: $id, reason: "Too expensive") { status } }`, { id: rejected.id });
    expect(rejection.data!.rejectQuote.status).toBe('REJECTED');
    await quoteEvents.find((e) => e.subject === rejected.id && e.type === 'quote.rejected');
    expect((await call(ACCEPT, { id: rejected.id })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'QUOTE_INVALID_TRANSITION' });
    const editRejected = await call(UPDATE, { id: rejected.id, input: { title: 'again' } });
    expect(editRejected.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'QUOTE_NOT_EDITABLE' });
    expect(await collection('orders').countDocuments({ quoteId: { $in: [draft.id, rejected.id] } })).toBe(0);
  });

  it('expires a sent quote at validUntil: reads EXPIRED at once, cannot be accepted, and the scheduler stores it with quote.expired', async () => {
    const item = await product(1_000);
    const quote = await sentQuote([{ productId: item, quantity: 1 }], { validUntil: new Date(Date.now() + 1_500).toISOString() });
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect((await call(GET, { id: quote.id })).data!.quote.status).toBe('EXPIRED');
    const late = await call(ACCEPT, { id: quote.id });
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'QUOTE_EXPIRED' });
    const done = await kit.running.scheduler.tick();
    expect(done['quote-expiry']).toBeGreaterThanOrEqual(1);
    expect(await kit.running.scheduler.tick()).toMatchObject({ 'quote-expiry': 0 });
    const stored = await collection('quotes').findOne({ _id: Types.ObjectId.createFromHexString(quote.id) });
    expect(stored).toMatchObject({ status: 'EXPIRED', expiredAt: expect.any(Date) });
    await quoteEvents.find((e) => e.subject === quote.id && e.type === 'quote.expired');
  });

  it('rejects bad input with field details, writing nothing', async () => {
    const cnyItem = await product(100);
    const usdItem = await product(100, 0, 'USD');
    const before = await collection('quotes').countDocuments();
    const bad = await call(CREATE, {
      input: { customerId: customerId(), currency: 'CNY', lines: [{ productId: cnyItem, quantity: -3 }, { productId: cnyItem, quantity: 1, discount: { basisPoints: 10, amount: cny(1) } }], validUntil: '2020-01-01T00:00:00Z' },
    });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'QUOTE_INVALID_INPUT' });
    expect(fieldsOf(bad).sort()).toEqual(['input.lines.0.quantity', 'input.lines.1.discount.basisPoints', 'input.validUntil']);
    const mismatch = await call(CREATE, {
      input: { customerId: customerId(), currency: 'CNY', lines: [{ productId: usdItem, quantity: 1 }, { productId: '64b7f0000000000000000000', quantity: 1 }, { productId: cnyItem, quantity: 1, unitPrice: { amountMinor: 1, currency: 'EUR' } }] },
    });
    expect(fieldsOf(mismatch)).toEqual(['input.lines.0.productId', 'input.lines.1.productId', 'input.lines.2.unitPrice.currency']);
    const docDiscount = await call(CREATE, { input: { customerId: customerId(), currency: 'CNY', lines: [{ productId: cnyItem, quantity: 1 }], discount: { amount: { amountMinor: 1, currency: 'USD' } } } });
    expect(fieldsOf(docDiscount)).toEqual(['input.discount.amount.currency']);
    expect(await collection('quotes').countDocuments()).toBe(before);
  });

  it('shows quotes by ownership, in lists, customer { quotes } and entities', async () => {
    const item = await product(100);
    const customer = customerId();
    const mine = (await call(CREATE, { input: { customerId: customer, currency: 'CNY', lines: [{ productId: item, quantity: 1 }] } })).data!.createQuote;
    const stored = await collection('quotes').findOne({ _id: Types.ObjectId.createFromHexString(mine.id) });
    const other = new Types.ObjectId();
    await collection('quotes').insertOne({ ...stored, _id: other, ownerId: 'someone-else', department: 'sales', ownerTeams: ['sales-west'], pendingEvents: [] });
    const CUSTOMER_QUOTES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { quotes { totalCount edges { node { id } } } } } }`;
    const r = [{ __typename: 'Customer', id: customer }];
    const total = async (token: string) => (await call(CUSTOMER_QUOTES, { r }, token)).data!._entities[0].quotes.totalCount;
    expect(await total(tokens['sales.rep'])).toBe(1);
    expect(await total(tokens['sales.manager'])).toBe(2);
    expect(await total(tokens.analyst)).toBe(2);
    const entity = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Quote { id } } }`, { r: [{ __typename: 'Quote', id: other.toHexString() }] });
    expect(entity.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await call(GET, { id: other.toHexString() }, tokens['sales.manager'])).data!.quote.id).toBe(other.toHexString());
    expect((await call(`{ quotes { totalCount } }`, {}, tokens.marketer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(CREATE, { input: { customerId: customer, currency: 'CNY', lines: [{ productId: item, quantity: 1 }] } }, tokens.analyst)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(SEND, { id: mine.id }, tokens.analyst)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
