import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher, type CloudEvent } from '@crm/events';
import { parseEnv } from '@crm/env';
import { createLogger } from '@crm/logger';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startMarketing } from '../../../app.js';
import { marketingEnvSchema } from '../../../env.js';
import { roiOf } from '../campaign.service.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'marketing');
const running = await startMarketing(parseEnv(marketingEnvSchema, rawEnv));
const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
// Stands for the sales and customers services: the same topic namespace as the service under test.
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const publisher = new KafkaEventPublisher(kafka);
const [marketer, analyst] = await Promise.all(['marketer', 'analyst'].map((u) => login(infra, u)));
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = marketer!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const watcher = await watchTopic(infra, `${prefix}.campaign`);

afterAll(async () => {
  await watcher.stop();
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });
const someId = () => new Types.ObjectId().toHexString();
const CREATE = `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id code status version channelId participantIds } }`;
const RESULTS = `query($id: ID!) { campaign(id: $id) { status version memberCustomerIds memberSegmentIds costs { amount { amountMinor currency } note } results { membersReached responses leads convertedLeads orders revenue { amountMinor currency } cost { amountMinor currency } roi { currency roiBasisPoints revenue { amountMinor } cost { amountMinor } } } } }`;
const input = (extra: Record<string, unknown> = {}) => ({ name: uniqueName('Spring campus tour'), channel: 'EVENT', budget: cny(5_000_000), startsAt: '2027-03-01T00:00:00Z', endsAt: '2027-04-30T00:00:00Z', ...extra });

function leadEvent(type: string, leadId: string, version: number, status: string, campaignCode: string | null): CloudEvent {
  return createEvent({ source: '/crm/sales', type, subject: leadId, data: { leadId, name: 'Lead', company: null, source: 'CAMPAIGN', campaignCode, status, ownerId: 'rep', department: null, ownerTeams: [], createdAt: new Date().toISOString(), version } });
}
function orderEvent(type: string, orderId: string, version: number, totalMinor: number, status: string, paymentStatus: string, campaignCode: string | null): CloudEvent {
  return createEvent({
    source: '/crm/sales',
    type,
    subject: orderId,
    data: { orderId, customerId: someId(), ownerId: 'rep', department: null, quoteId: null, campaignCode, status, paymentStatus, currency: 'CNY', lines: [], totals: { total: cny(totalMinor) }, paidAmount: cny(0), version },
  });
}

describe('campaign lifecycle, members and results (real Mongo, Kafka, Keycloak)', () => {
  it('ROI is integer basis points per currency, rounded half away from zero, null without cost', () => {
    expect(roiOf([cny(1_500_000)], [cny(1_000_000)])).toEqual([{ currency: 'CNY', revenue: cny(1_500_000), cost: cny(1_000_000), roiBasisPoints: 5000 }]);
    expect(roiOf([cny(1)], [cny(3)])[0]!.roiBasisPoints).toBe(-6667);
    expect(roiOf([{ amountMinor: 100, currency: 'USD' }], [])[0]!.roiBasisPoints).toBeNull();
  });

  it('moves PLANNED → ACTIVE → COMPLETED with version checks; refuses other moves and changes to a closed campaign', async () => {
    const created = await call(CREATE, { input: input({ code: ' spring-27 ', participantIds: ['u1', 'u1', 'u2'] }) });
    expect(created.errors).toBeUndefined();
    const campaign = created.data!.createCampaign;
    expect(campaign).toMatchObject({ code: 'SPRING-27', status: 'PLANNED', version: 1, participantIds: ['u1', 'u2'] });
    expect((await call(CREATE, { input: input({ code: 'SPRING-27' }) })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CAMPAIGN_CODE_TAKEN' });
    expect((await call(CREATE, { input: input() })).data!.createCampaign.code).toMatch(/^C-[0-9A-F]{10}$/);

    const COMPLETE = `mutation($id: ID!, $v: Int!) { completeCampaign(id: $id, expectedVersion: $v) { status version } }`;
    expect((await call(COMPLETE, { id: campaign.id, v: 1 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CAMPAIGN_ILLEGAL_TRANSITION' });
    const activated = await call(`mutation($id: ID!, $v: Int!) { activateCampaign(id: $id, expectedVersion: $v) { status version } }`, { id: campaign.id, v: 1 });
    expect(activated.data!.activateCampaign).toEqual({ status: 'ACTIVE', version: 2 });
    expect((await call(COMPLETE, { id: campaign.id, v: 1 })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CAMPAIGN_VERSION_CONFLICT' });
    const updated = await call(`mutation($id: ID!) { updateCampaign(id: $id, expectedVersion: 2, input: { budget: { amountMinor: -5, currency: "CNY" } }) { id } }`, { id: campaign.id });
    expect(updated.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.budget.amountMinor', message: 'Must not be negative' }] });
    expect((await call(COMPLETE, { id: campaign.id, v: 2 })).data!.completeCampaign).toEqual({ status: 'COMPLETED', version: 3 });
    expect((await call(`mutation($id: ID!) { updateCampaign(id: $id, expectedVersion: 3, input: { name: "Late" }) { id } }`, { id: campaign.id })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CAMPAIGN_CLOSED' });
    const completedEvent = await watcher.find((e) => e.subject === campaign.id && e.type === 'campaign.completed', 30_000);
    expect(completedEvent.event.data).toMatchObject({ code: 'SPRING-27', status: 'COMPLETED', version: 3 });
  });

  it('results come from sales events by campaign code, survey responses, members and cost entries; Customer shows its campaigns', async () => {
    const campaign = (await call(CREATE, { input: input() })).data!.createCampaign;
    const [c1, c2] = [someId(), someId()];
    await call(`mutation($id: ID!, $m: CampaignMembersInput!) { addCampaignMembers(id: $id, members: $m) { id } }`, { id: campaign.id, m: { customerIds: [c1, c2, c1] } });
    const segment = (await call(`mutation($c: [ID!]) { createSegment(input: { name: "Hand-picked", kind: STATIC, customerIds: $c }) { id } }`, { c: [c2, someId()] })).data!.createSegment;
    await call(`mutation($id: ID!, $m: CampaignMembersInput!) { addCampaignMembers(id: $id, members: $m) { id } }`, { id: campaign.id, m: { segmentIds: [segment.id] } });
    const unknownSegment = await call(`mutation($id: ID!, $m: CampaignMembersInput!) { addCampaignMembers(id: $id, members: $m) { id } }`, { id: campaign.id, m: { segmentIds: [someId()] } });
    expect(unknownSegment.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    await call(`mutation($id: ID!) { recordCampaignCost(id: $id, input: { amount: { amountMinor: 400000, currency: "CNY" }, note: "Venue", incurredAt: "2027-03-02T00:00:00Z" }) { id } }`, { id: campaign.id });
    await call(`mutation($id: ID!) { recordCampaignCost(id: $id, input: { amount: { amountMinor: 600000, currency: "CNY" }, incurredAt: "2027-03-03T00:00:00Z" }) { id } }`, { id: campaign.id });
    const negative = await call(`mutation($id: ID!) { recordCampaignCost(id: $id, input: { amount: { amountMinor: -1, currency: "CNY" }, incurredAt: "2027-03-03T00:00:00Z" }) { id } }`, { id: campaign.id });
    expect(negative.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });

    const code = campaign.code.toLowerCase(); // sales may record it in any case
    const [lead1, lead2, order1, order2, order3] = [someId(), someId(), someId(), someId(), someId()];
    const paid = orderEvent('order.paid', order1, 3, 1_500_000, 'DELIVERED', 'PAID', code);
    await publisher.publish([
      leadEvent('lead.created', lead1, 1, 'NEW', code),
      leadEvent('lead.converted', lead1, 3, 'CONVERTED', code),
      leadEvent('lead.created', lead2, 1, 'NEW', code),
      leadEvent('lead.created', someId(), 1, 'NEW', null),
      paid,
      paid,
      orderEvent('order.placed', order1, 1, 1_500_000, 'APPROVED', 'UNPAID', code),
      orderEvent('order.paid', order2, 2, 700_000, 'APPROVED', 'PAID', code),
      orderEvent('order.refunded', order2, 4, 700_000, 'CANCELLED', 'REFUNDED', code),
      orderEvent('order.placed', order3, 1, 900_000, 'APPROVED', 'UNPAID', code),
    ]);
    const results = await eventually(async () => {
      const r = (await call(RESULTS, { id: campaign.id }, analyst!)).data!.campaign;
      return r.results.leads === 2 && r.results.convertedLeads === 1 && r.results.orders === 1 ? r : undefined;
    }, 60_000, 250);
    expect(results.memberCustomerIds).toEqual([c1, c2].sort());
    expect(results.results).toEqual({
      membersReached: 3,
      responses: 0,
      leads: 2,
      convertedLeads: 1,
      orders: 1,
      revenue: [cny(1_500_000)],
      cost: [cny(1_000_000)],
      roi: [{ currency: 'CNY', roiBasisPoints: 5000, revenue: { amountMinor: 1_500_000 }, cost: { amountMinor: 1_000_000 } }],
    });

    // A survey of the campaign answered once counts as a response.
    const survey = (await call(`mutation($c: ID) { createSurvey(input: { title: "Tour feedback", campaignId: $c, questions: [{ kind: RATING, text: "Useful?" }] }) { id } }`, { c: campaign.id })).data!.createSurvey;
    await call(`mutation($id: ID!) { openSurvey(id: $id, expectedVersion: 1) { id } }`, { id: survey.id });
    const agent = await login(infra, 'service.agent');
    await call(`mutation($s: ID!, $c: ID!) { recordSurveyResponse(surveyId: $s, customerId: $c, answers: [{ questionId: "q1", rating: 5 }]) { id } }`, { s: survey.id, c: c1 }, agent);
    expect((await call(RESULTS, { id: campaign.id })).data!.campaign.results.responses).toBe(1);

    const viaEntity = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { campaigns { id } } } }`, { r: [{ __typename: 'Customer', id: c2 }] });
    expect(viaEntity.data!._entities[0].campaigns).toEqual([{ id: campaign.id }]);
    await call(`mutation($id: ID!, $m: CampaignMembersInput!) { removeCampaignMembers(id: $id, members: $m) { id } }`, { id: campaign.id, m: { customerIds: [c2], segmentIds: [segment.id] } });
    const after = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { campaigns { id } } } }`, { r: [{ __typename: 'Customer', id: c2 }] });
    expect(after.data!._entities[0].campaigns).toEqual([]);
  });
});
