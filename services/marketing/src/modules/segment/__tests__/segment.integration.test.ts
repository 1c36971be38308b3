import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher, type CloudEvent } from '@crm/events';
import { parseEnv } from '@crm/env';
import { createLogger } from '@crm/logger';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startMarketing } from '../../../app.js';
import { marketingEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'marketing');
const running = await startMarketing(parseEnv(marketingEnvSchema, rawEnv));
const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
// Stands for the customers and sales services: the same topic namespace as the service under test.
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const publisher = new KafkaEventPublisher(kafka);
const [marketer, rep] = await Promise.all(['marketer', 'sales.rep'].map((u) => login(infra, u)));
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = marketer!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const memberships = await watchTopic(infra, `${prefix}.segment`);
const deadLetters = await watchTopic(infra, `${prefix}.customer.dlq`);
const profiles = running.services.customerProfiles;

afterAll(async () => {
  await memberships.stop();
  await deadLetters.stop();
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const someId = () => new Types.ObjectId().toHexString();
function customerEvent(type: string, customerId: string, version: number, extra: Record<string, unknown> = {}): CloudEvent {
  return createEvent({
    source: '/crm/customers',
    type,
    subject: customerId,
    data: { customerId, name: 'Customer', organization: null, lifecycleStage: 'CUSTOMER', level: null, source: null, tags: [], gender: null, birthday: null, country: 'CN', province: 'Jiangsu', city: 'Nanjing', ownerId: 'rep-1', department: null, portalUserId: null, createdAt: new Date().toISOString(), version, ...extra },
  });
}
function orderEvent(type: string, orderId: string, customerId: string, version: number, totalMinor: number, status: string, paymentStatus: string): CloudEvent {
  const money = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });
  return createEvent({
    source: '/crm/sales',
    type,
    subject: orderId,
    data: { orderId, customerId, ownerId: 'rep-1', department: null, quoteId: null, campaignCode: null, status, paymentStatus, currency: 'CNY', lines: [], totals: { subtotal: money(totalMinor), total: money(totalMinor) }, paidAmount: money(paymentStatus === 'PAID' ? totalMinor : 0), version },
  });
}
const membershipEvents = (segmentId: string, customerId: string) =>
  memberships.seen.filter((e) => e.event?.type === 'segment.membership-changed' && (e.event.data as { customerId: string }).customerId === customerId && e.event.subject === segmentId).map((e) => (e.event!.data as { change: string }).change);

const CREATE = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) { id kind version memberCount rule { and { condition { field op number currency texts } } } } }`;
const SEGMENT = `query($id: ID!) { segment(id: $id) { id memberCount memberIds } }`;
const BIG_SPENDERS = {
  and: [
    { condition: { field: 'PROVINCE', op: 'IN', texts: ['Jiangsu', 'Zhejiang'] } },
    { condition: { field: 'TOTAL_SPEND', op: 'GTE', number: 1_000_000, currency: 'CNY' } },
  ],
};

describe('customer profiles and segments (real Mongo, Kafka, Keycloak)', () => {
  it('keeps profiles from events: versions only move forward; paid orders sum per customer; refunds and cancellations subtract; replays change nothing', async () => {
    const customerId = someId();
    await publisher.publish([customerEvent('customer.created', customerId, 1, { name: '南京大学', tags: ['university'], birthday: '1990-05-01' })]);
    await publisher.publish([customerEvent('customer.updated', customerId, 3, { name: '南京大学 (NJU)', tags: ['university', 'VIP'], birthday: '1990-05-01', changed: ['name', 'tags'] })]);
    await publisher.publish([customerEvent('customer.updated', customerId, 2, { name: 'stale', changed: ['name'] })]);
    const [a, b] = [someId(), someId()];
    const paid = orderEvent('order.paid', a, customerId, 4, 300_000, 'DELIVERED', 'PAID');
    await publisher.publish([orderEvent('order.placed', a, customerId, 1, 300_000, 'APPROVED', 'UNPAID'), paid, paid]);
    await publisher.publish([orderEvent('order.paid', b, customerId, 3, 50_000, 'APPROVED', 'PAID'), orderEvent('order.placed', b, customerId, 1, 50_000, 'APPROVED', 'UNPAID')]);
    const profile = await eventually(async () => {
      const p = await profiles.get(customerId);
      return p?.paidOrderCount === 2 && p.customerVersion === 3 ? p : undefined;
    }, 60_000, 200);
    expect(profile).toMatchObject({ name: '南京大学 (NJU)', tags: ['university', 'VIP'], spend: [{ currency: 'CNY', amountMinor: 350_000 }], valueTier: 'BRONZE', birthday: '1990-05-01' });
    expect(profile.lastOrderAt).toBeInstanceOf(Date);

    await publisher.publish([orderEvent('order.refunded', b, customerId, 5, 50_000, 'CANCELLED', 'REFUNDED')]);
    await eventually(async () => ((await profiles.get(customerId))?.paidOrderCount === 1 ? true : undefined), 60_000, 200);
    expect((await profiles.get(customerId))!.spend).toEqual([{ currency: 'CNY', amountMinor: 300_000 }]);
  });

  it('a customer whose spend crosses the threshold joins the dynamic segment from the event alone, and leaves after a refund', async () => {
    const created = await call(CREATE, { input: { name: 'Big spenders in the east', kind: 'DYNAMIC', rule: BIG_SPENDERS } });
    expect(created.errors).toBeUndefined();
    const segment = created.data!.createSegment;
    expect(segment).toMatchObject({ kind: 'DYNAMIC', version: 1, memberCount: 0 });
    expect(segment.rule.and[1].condition).toEqual({ field: 'TOTAL_SPEND', op: 'GTE', number: 1_000_000, currency: 'CNY', texts: null });

    const customerId = someId();
    await publisher.publish([customerEvent('customer.created', customerId, 1)]);
    const order = someId();
    await publisher.publish([orderEvent('order.paid', order, customerId, 2, 999_999, 'APPROVED', 'PAID')]);
    await eventually(async () => ((await profiles.get(customerId))?.paidOrderCount === 1 ? true : undefined), 60_000, 200);
    expect((await call(SEGMENT, { id: segment.id })).data!.segment.memberCount).toBe(0);

    const second = someId();
    await publisher.publish([orderEvent('order.paid', second, customerId, 2, 1, 'APPROVED', 'PAID')]);
    await eventually(async () => (membershipEvents(segment.id, customerId).includes('JOINED') ? true : undefined), 60_000, 200);
    expect((await call(SEGMENT, { id: segment.id })).data!.segment).toMatchObject({ memberCount: 1, memberIds: [customerId] });
    const inCustomer = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { segments { id } buyingProfile { paidOrderCount valueTier totalSpend { amountMinor currency } } } } }`, { r: [{ __typename: 'Customer', id: customerId }] });
    expect(inCustomer.data!._entities[0]).toEqual({ segments: [{ id: segment.id }], buyingProfile: { paidOrderCount: 2, valueTier: 'SILVER', totalSpend: [{ amountMinor: 1_000_000, currency: 'CNY' }] } });

    await publisher.publish([orderEvent('order.refunded', second, customerId, 3, 1, 'CANCELLED', 'REFUNDED')]);
    await eventually(async () => (membershipEvents(segment.id, customerId).includes('LEFT') ? true : undefined), 60_000, 200);
    expect((await call(SEGMENT, { id: segment.id })).data!.segment.memberCount).toBe(0);
    expect(membershipEvents(segment.id, customerId)).toEqual(['JOINED', 'LEFT']);
  });

  it('service-desk tickets count too: a customer with an open complaint joins, and leaves when it is closed', async () => {
    const unhappy = (await call(CREATE, { input: { name: 'Open complaints', kind: 'DYNAMIC', rule: { condition: { field: 'OPEN_COMPLAINTS', op: 'GTE', number: 1 } } } })).data!.createSegment;
    const customerId = someId();
    const ticketId = someId();
    const ticket = (type: string, version: number, status: string) =>
      createEvent({ source: '/crm/service-desk', type, subject: ticketId, data: { ticketId, customerId, productId: null, orderId: null, type: 'COMPLAINT', priority: 'HIGH', channel: 'WEB', status, queueId: null, assigneeId: null, version, createdAt: new Date().toISOString() } });
    await publisher.publish([customerEvent('customer.created', customerId, 1), ticket('ticket.opened', 1, 'NEW')]);
    await eventually(async () => (membershipEvents(unhappy.id, customerId).includes('JOINED') ? true : undefined), 60_000, 200);
    expect((await profiles.get(customerId))).toMatchObject({ openTickets: 1, openComplaints: 1 });
    await publisher.publish([ticket('ticket.closed', 5, 'CLOSED'), ticket('ticket.assigned', 2, 'ASSIGNED')]);
    await eventually(async () => (membershipEvents(unhappy.id, customerId).includes('LEFT') ? true : undefined), 60_000, 200);
    expect((await profiles.get(customerId))).toMatchObject({ openTickets: 0, openComplaints: 0 });
  });

  it('previews a rule before saving; a new dynamic segment starts with its matches; recompute repairs; static segments are kept by hand', async () => {
    const tag = uniqueName('tag');
    const [x, y] = [someId(), someId()];
    await publisher.publish([customerEvent('customer.created', x, 1, { tags: [tag] }), customerEvent('customer.created', y, 1, { tags: [tag], city: 'Suzhou' })]);
    await eventually(async () => ((await profiles.get(y)) ? true : undefined), 60_000, 200);
    // Profiles made by customer events alone (no orders yet) spend 0.
    const rule = { and: [{ condition: { field: 'TAGS', op: 'HAS_ANY', texts: [tag] } }, { condition: { field: 'CITY', op: 'EQ', text: 'nanjing' } }, { condition: { field: 'TOTAL_SPEND', op: 'LT', number: 1, currency: 'CNY' } }] };
    const preview = await call(`query($r: SegmentRuleInput!) { previewSegment(rule: $r) { count sample } }`, { r: rule });
    expect(preview.data!.previewSegment).toEqual({ count: 1, sample: [x] });
    const created = (await call(CREATE, { input: { name: 'Tagged in Nanjing', kind: 'DYNAMIC', rule } })).data!.createSegment;
    expect(created.memberCount).toBe(1);

    // A membership lost (written behind the service's back, once the relay published its event:
    // FerretDB rewrites the whole document, so the relay's removal could undo the write) is repaired by recompute.
    const lost = running.deps.connection.collection('segment_memberships');
    await eventually(async () => (((await lost.findOne({ _id: `${created.id}:${x}` } as never))?.pendingEvents?.length ?? 0) === 0 ? true : undefined), 30_000, 100);
    await lost.updateOne({ _id: `${created.id}:${x}` } as never, { $set: { member: false } });
    const repaired = await call(`mutation($id: ID!) { recomputeSegment(id: $id) { joined left segment { memberCount } } }`, { id: created.id });
    expect(repaired.data!.recomputeSegment).toEqual({ joined: 1, left: 0, segment: { memberCount: 1 } });

    const fixed = (await call(CREATE, { input: { name: 'Hand-picked', kind: 'STATIC', customerIds: [x] } })).data!.createSegment;
    await call(`mutation($id: ID!, $c: [ID!]!) { addSegmentMembers(id: $id, customerIds: $c) { id } }`, { id: fixed.id, c: [y, x] });
    expect((await call(SEGMENT, { id: fixed.id })).data!.segment.memberIds).toEqual([x, y].sort());
    await call(`mutation($id: ID!, $c: [ID!]!) { removeSegmentMembers(id: $id, customerIds: $c) { id } }`, { id: fixed.id, c: [x] });
    expect((await call(SEGMENT, { id: fixed.id })).data!.segment.memberIds).toEqual([y]);
    expect((await call(`mutation($id: ID!) { recomputeSegment(id: $id) { joined } }`, { id: fixed.id })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'SEGMENT_WRONG_KIND' });
    // Segments are what surveys are sent to.
    expect(await running.services.segments.membersOf(fixed.id)).toEqual([y]);
  });

  it('rejects bad rules with field paths, and non-marketers; poison events go to the dead-letter topic and the consumer keeps going', async () => {
    const bad = await call(CREATE, { input: { name: 'Bad', kind: 'DYNAMIC', rule: { and: [{ condition: { field: 'AGE', op: 'HAS_ANY', texts: ['x'] } }, { condition: { field: 'TOTAL_SPEND', op: 'GT', number: 5 } }] } } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(bad.errors![0]!.extensions!.fields).toEqual([
      { field: 'input.rule.and.0.condition.op', message: 'AGE takes EQ, NEQ, GT, GTE, LT, LTE, IS_SET, IS_NOT_SET' },
      { field: 'input.rule.and.1.condition.currency', message: 'TOTAL_SPEND compares one currency: an ISO 4217 code' },
    ]);
    expect((await call(CREATE, { input: { name: 'No rule', kind: 'DYNAMIC' } })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect((await call(CREATE, { input: { name: 'x', kind: 'STATIC' } }, rep!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect(await running.deps.connection.collection('segments').countDocuments({ name: { $in: ['Bad', 'No rule'] } })).toBe(0);

    const poison = createEvent({ source: '/crm/customers', type: 'customer.created', subject: 'x', data: { customerId: 'not-an-id' } });
    await publisher.publish([poison]);
    const parked = await deadLetters.find((e) => e.id === poison.id, 60_000);
    expect(parked.event.id).toBe(poison.id);
    const after = someId();
    await publisher.publish([customerEvent('customer.created', after, 1)]);
    await eventually(async () => ((await profiles.get(after)) ? true : undefined), 60_000, 200);
  });
});
