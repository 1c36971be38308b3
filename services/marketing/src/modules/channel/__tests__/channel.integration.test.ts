import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startMarketing } from '../../../app.js';
import { marketingEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'marketing');
const running = await startMarketing(parseEnv(marketingEnvSchema, rawEnv));
const [marketer, analyst, rep] = await Promise.all(['marketer', 'analyst', 'sales.rep'].map((u) => login(infra, u)));
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = marketer!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.channel`);

afterAll(async () => {
  await watcher.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const FIELDS = 'id name kind active version costs { period amount { amountMinor currency } note } totalCost { amountMinor currency }';
const CREATE = `mutation($input: CreateChannelInput!) { createChannel(input: $input) { ${FIELDS} } }`;
const COST = `mutation($id: ID!, $input: ChannelCostInput!) { recordChannelCost(id: $id, input: $input) { ${FIELDS} } }`;
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });

describe('channels (real Mongo, Kafka, Keycloak)', () => {
  it('records monthly costs per channel; a month recorded again is corrected, not doubled; totals per currency', async () => {
    const name = uniqueName('WeChat official account');
    const created = await call(CREATE, { input: { name, kind: 'WECHAT', description: '公众号' } });
    expect(created.errors).toBeUndefined();
    const channel = created.data!.createChannel;
    expect(channel).toMatchObject({ name, kind: 'WECHAT', active: true, version: 1, costs: [], totalCost: [] });

    await call(COST, { id: channel.id, input: { period: '2026-10', amount: cny(1_200_000), note: 'Ads' } });
    await call(COST, { id: channel.id, input: { period: '2026-09', amount: cny(800_000) } });
    await call(COST, { id: channel.id, input: { period: '2026-10', amount: { amountMinor: 5_000, currency: 'USD' } } });
    const corrected = await call(COST, { id: channel.id, input: { period: '2026-10', amount: cny(1_000_000), note: 'Ads, corrected' } });
    expect(corrected.data!.recordChannelCost.costs.map((c: { period: string; amount: { currency: string } }) => `${c.period} ${c.amount.currency}`)).toEqual(['2026-09 CNY', '2026-10 CNY', '2026-10 USD']);
    expect(corrected.data!.recordChannelCost.totalCost).toEqual([cny(1_800_000), { amountMinor: 5_000, currency: 'USD' }]);
    expect(corrected.data!.recordChannelCost.version).toBe(5);
    const recorded = await watcher.find((e) => e.subject === channel.id && e.type === 'channel.cost-recorded' && e.data.amount.amountMinor === 1_000_000, 30_000);
    expect(recorded.event.data).toMatchObject({ channelId: channel.id, period: '2026-10', amount: cny(1_000_000) });

    const listed = await call(`{ channels { id } }`, {}, analyst!);
    expect(listed.data!.channels.map((c: { id: string }) => c.id)).toContain(channel.id);
    const retired = await call(`mutation($id: ID!) { updateChannel(id: $id, expectedVersion: 5, input: { active: false }) { active version } }`, { id: channel.id });
    expect(retired.data!.updateChannel).toEqual({ active: false, version: 6 });
    expect((await call(`{ channels { id } }`)).data!.channels.map((c: { id: string }) => c.id)).not.toContain(channel.id);
    expect((await call(`{ channels(includeInactive: true) { id } }`)).data!.channels.map((c: { id: string }) => c.id)).toContain(channel.id);
  });

  it('rejects negative costs, bad months, duplicate names, stale versions and non-marketers', async () => {
    const channel = (await call(CREATE, { input: { name: uniqueName('Campus fair'), kind: 'EVENT' } })).data!.createChannel;
    const negative = await call(COST, { id: channel.id, input: { period: '2026-13', amount: cny(-1) } });
    expect(negative.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(negative.errors![0]!.extensions!.fields).toEqual([
      { field: 'input.period', message: 'A month as YYYY-MM' },
      { field: 'input.amount.amountMinor', message: 'Must not be negative' },
    ]);
    expect((await call(CREATE, { input: { name: channel.name.toUpperCase(), kind: 'EVENT' } })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CHANNEL_NAME_TAKEN' });
    expect((await call(`mutation($id: ID!) { updateChannel(id: $id, expectedVersion: 9, input: { active: false }) { id } }`, { id: channel.id })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT' });
    expect((await call(CREATE, { input: { name: 'x', kind: 'EVENT' } }, rep!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    expect((await call(`query($id: ID!) { channel(id: $id) { costs { period } } }`, { id: channel.id })).data!.channel.costs).toEqual([]);
  });
});
