import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher, type CloudEvent } from '@crm/events';
import { parseEnv } from '@crm/env';
import { createLogger } from '@crm/logger';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, uniqueName } from '@crm/testing';
import { startMarketing } from '../../../app.js';
import { marketingEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'marketing');
const running = await startMarketing(parseEnv(marketingEnvSchema, rawEnv));
const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
// Stands for the sales service: the same topic namespace as the service under test.
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('sales-stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const sales = new KafkaEventPublisher(kafka);
const [marketer, rep] = await Promise.all(['marketer', 'sales.rep'].map((u) => login(infra, u)));
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string = marketer!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token, rawEnv.GATEWAY_SECRET!));

afterAll(async () => {
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

function opportunityEvent(type: string, opportunityId: string, version: number, status: string, competitors: string[], amountMinor: number): CloudEvent {
  return createEvent({
    source: '/crm/sales',
    type,
    subject: opportunityId,
    data: { opportunityId, name: 'Smart campus', customerId: new Types.ObjectId().toHexString(), leadId: null, ownerId: 'rep', department: null, ownerTeams: [], amount: { amountMinor, currency: 'CNY' }, stage: 'x', status, probability: 50, expectedCloseDate: new Date().toISOString(), priority: 'MEDIUM', competitors, campaignCode: null, closedAt: null, version },
  });
}
const STATS = `query($id: ID!) { competitor(id: $id) { name stats { opportunities open won lost winRateBasisPoints wonAmount { amountMinor currency } lostAmount { amountMinor } } opportunityIds opportunities { id } } }`;

describe('competitors (real Mongo, Kafka, Keycloak)', () => {
  it('links the opportunities that name a competitor (by name or alias, any case) and counts how they closed', async () => {
    const name = uniqueName('Seewo');
    const alias = uniqueName('希沃');
    const created = await call(`mutation($input: CreateCompetitorInput!) { createCompetitor(input: $input) { id aliases version } }`, { input: { name, aliases: [alias], strengths: 'Price', weaknesses: 'Service' } });
    expect(created.errors).toBeUndefined();
    const id = created.data!.createCompetitor.id;
    const [a, b, c, other] = Array.from({ length: 4 }, () => new Types.ObjectId().toHexString()) as [string, string, string, string];
    await sales.publish([
      opportunityEvent('opportunity.created', a, 1, 'OPEN', [name.toUpperCase()], 500_000),
      opportunityEvent('opportunity.won', a, 3, 'WON', [name], 500_000),
      opportunityEvent('opportunity.stage-changed', a, 2, 'OPEN', [name], 500_000),
      opportunityEvent('opportunity.created', b, 1, 'OPEN', [` ${alias} `, 'Someone else'], 300_000),
      opportunityEvent('opportunity.lost', b, 2, 'LOST', [alias], 300_000),
      opportunityEvent('opportunity.created', c, 1, 'OPEN', [name], 100_000),
      opportunityEvent('opportunity.created', other, 1, 'OPEN', ['Nobody'], 100_000),
    ]);
    const read = await eventually(async () => {
      const r = (await call(STATS, { id })).data!.competitor;
      return r.stats.opportunities === 3 && r.stats.won === 1 && r.stats.lost === 1 ? r : undefined;
    }, 60_000, 200);
    expect(read.stats).toEqual({ opportunities: 3, open: 1, won: 1, lost: 1, winRateBasisPoints: 5000, wonAmount: [{ amountMinor: 500_000, currency: 'CNY' }], lostAmount: [{ amountMinor: 300_000 }] });
    expect(read.opportunities.map((o: { id: string }) => o.id).sort()).toEqual([a, b, c].sort());
    expect([...read.opportunityIds].sort()).toEqual([a, b, c].sort());

    // Sales reps read competitors (they meet them in deals) but do not edit them; names stay unique.
    expect((await call(STATS, { id }, rep!)).data!.competitor.name).toBe(name);
    expect((await call(`mutation($id: ID!) { updateCompetitor(id: $id, expectedVersion: 1, input: { notes: "x" }) { id } }`, { id }, rep!)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const clash = await call(`mutation($input: CreateCompetitorInput!) { createCompetitor(input: $input) { id } }`, { input: { name: uniqueName('Other'), aliases: [name.toLowerCase()] } });
    expect(clash.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'COMPETITOR_NAME_TAKEN' });
    const renamed = await call(`mutation($id: ID!) { updateCompetitor(id: $id, expectedVersion: 1, input: { aliases: [] }) { aliases version } }`, { id });
    expect(renamed.data!.updateCompetitor).toEqual({ aliases: [], version: 2 });
    // Without the alias, the opportunity that only named the alias no longer counts.
    expect((await call(STATS, { id })).data!.competitor.stats).toMatchObject({ opportunities: 2, lost: 0 });
    expect((await call(`mutation { createCompetitor(input: { name: " " }) { id } }`)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});
