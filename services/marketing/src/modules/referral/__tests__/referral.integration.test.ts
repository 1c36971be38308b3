import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher, type CloudEvent } from '@crm/events';
import { parseEnv } from '@crm/env';
import { createLogger } from '@crm/logger';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startMarketing } from '../../../app.js';
import { marketingEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'marketing'), REFERRAL_REFERRER_REWARD_MINOR: '20000', REFERRAL_REFEREE_REWARD_MINOR: '8000' };
const running = await startMarketing(parseEnv(marketingEnvSchema, rawEnv));
const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const publisher = new KafkaEventPublisher(kafka);
const [marketer, customerToken, rep] = await Promise.all(['marketer', 'customer', 'sales.rep'].map((u) => login(infra, u)));
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = marketer!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const watcher = await watchTopic(infra, `${prefix}.referral`);

afterAll(async () => {
  await watcher.stop();
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const someId = () => new Types.ObjectId().toHexString();
const subjectOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;
const customerCreated = (customerId: string, extra: Record<string, unknown> = {}): CloudEvent =>
  createEvent({ source: '/crm/customers', type: 'customer.created', subject: customerId, data: { customerId, name: 'Someone', lifecycleStage: 'CUSTOMER', tags: [], source: null, portalUserId: null, version: 1, ...extra } });
const orderPaid = (orderId: string, customerId: string): CloudEvent =>
  createEvent({ source: '/crm/sales', type: 'order.paid', subject: orderId, data: { orderId, customerId, campaignCode: null, status: 'DELIVERED', paymentStatus: 'PAID', currency: 'CNY', totals: { total: { amountMinor: 100_000, currency: 'CNY' } }, version: 5 } });
const REFERRALS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { referrals { code referredBy { referrerId code recordedBy rewardedAt rewardOrderId referrerReward { amountMinor currency } refereeReward { amountMinor } } referred { refereeId } } } } }`;
const referralsOf = async (customerId: string, token: string = marketer!) => call(REFERRALS, { r: [{ __typename: 'Customer', id: customerId }] }, token);

describe('referrals (real Mongo, Kafka, Keycloak)', () => {
  it('a sign-up with a code records the referral; the first paid order rewards both sides once; replays and repeats change nothing', async () => {
    const referrer = someId();
    const code = (await referralsOf(referrer)).data!._entities[0].referrals.code;
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    expect((await referralsOf(referrer)).data!._entities[0].referrals.code).toBe(code); // stable

    const referee = someId();
    await publisher.publish([customerCreated(referee, { source: `referral:${code.toLowerCase()}` })]);
    await eventually(async () => ((await referralsOf(referee)).data!._entities[0].referrals.referredBy ? true : undefined), 60_000, 250);
    const [first, second] = [someId(), someId()];
    const paid = orderPaid(first, referee);
    // Orders are keyed by their own id (different partitions): the second is paid after the first was seen.
    await publisher.publish([paid, paid]);
    const rewarded = await eventually(async () => {
      const r = (await referralsOf(referee)).data!._entities[0].referrals.referredBy;
      return r?.rewardedAt ? r : undefined;
    }, 60_000, 250);
    await publisher.publish([orderPaid(second, referee)]);
    expect(rewarded).toMatchObject({ referrerId: referrer, code, recordedBy: 'sign-up', rewardOrderId: first, referrerReward: { amountMinor: 20_000, currency: 'CNY' }, refereeReward: { amountMinor: 8_000 } });
    expect((await referralsOf(referrer)).data!._entities[0].referrals.referred).toEqual([{ refereeId: referee }]);

    const events = await eventually(async () => {
      const mine = watcher.seen.filter((e) => e.event?.subject === referee).map((e) => e.event!.type);
      return mine.includes('referral.rewarded') ? mine : undefined;
    }, 30_000, 200);
    // Give a late duplicate a moment, then: one recorded, one rewarded.
    await new Promise((r) => setTimeout(r, 1500));
    expect(watcher.seen.filter((e) => e.event?.subject === referee).map((e) => e.event!.type)).toEqual(['referral.recorded', 'referral.rewarded']);
    expect(events[0]).toBe('referral.recorded');

    const again = await call(`mutation($c: ID!) { claimReferralReward(refereeId: $c) { rewardedAt } }`, { c: referee });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'REFERRAL_ALREADY_REWARDED' });
  });

  it('guards: no self-referral, one referral per referee, unknown and malformed codes; offline referrals and claims by marketers only', async () => {
    const referrer = someId();
    const code = (await referralsOf(referrer)).data!._entities[0].referrals.code;
    const RECORD = `mutation($code: String!, $c: ID!) { recordReferral(code: $code, refereeId: $c) { refereeId referrerId recordedBy } }`;
    expect((await call(RECORD, { code, c: referrer })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'REFERRAL_SELF' });
    expect((await call(RECORD, { code: 'ZZZZZZZZ', c: someId() })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect((await call(RECORD, { code: 'not a code', c: someId() })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'code', message: '8 characters of 0-9 and A-Z (no I, L, O, U)' }] });
    const referee = someId();
    const recorded = await call(RECORD, { code, c: referee });
    expect(recorded.data!.recordReferral).toEqual({ refereeId: referee, referrerId: referrer, recordedBy: `user:${subjectOf(marketer!)}` });
    const otherCode = (await referralsOf(someId())).data!._entities[0].referrals.code;
    expect((await call(RECORD, { code: otherCode, c: referee })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'REFERRAL_ALREADY_REFERRED' });
    expect((await call(RECORD, { code, c: someId() }, rep!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });

    const claimed = await call(`mutation($c: ID!) { claimReferralReward(refereeId: $c, orderId: "offline-1") { rewardOrderId referrerReward { amountMinor } } }`, { c: referee });
    expect(claimed.data!.claimReferralReward).toEqual({ rewardOrderId: 'offline-1', referrerReward: { amountMinor: 20_000 } });
    expect((await call(`mutation($c: ID!) { claimReferralReward(refereeId: $c) { rewardedAt } }`, { c: someId() })).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a customer reads their own code and referrals, nobody else\'s', async () => {
    const own = someId();
    await publisher.publish([customerCreated(own, { portalUserId: subjectOf(customerToken!) })]);
    const mine = await eventually(async () => (await call(`{ myReferrals { code referred { refereeId } } }`, {}, customerToken!)).data?.myReferrals ?? undefined, 60_000, 250);
    expect(mine.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    expect((await referralsOf(own, customerToken!)).data!._entities[0].referrals.code).toBe(mine.code);
    expect((await referralsOf(someId(), customerToken!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
  });
});
