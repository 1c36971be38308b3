import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startMarketing } from '../../../app.js';
import { marketingEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'marketing');
const running = await startMarketing(parseEnv(marketingEnvSchema, rawEnv));
const [adminToken, marketerToken, managerToken, repToken, agentToken, analystToken, customerToken] = await Promise.all([
  login(infra, 'admin'),
  login(infra, 'marketer'),
  login(infra, 'sales.manager'),
  login(infra, 'sales.rep'),
  login(infra, 'service.agent'),
  login(infra, 'analyst'),
  login(infra, 'customer'),
]);
// `null` means: send no token / no secret.
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string | null = marketerToken, secret: string | null = rawEnv.GATEWAY_SECRET!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token ?? undefined, secret ?? undefined));
const campaigns = () => running.deps.connection.collection('campaigns');
/** The Keycloak user id (`sub`) inside an access token. */
const subjectOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string }).sub;

// Every event on the real topic; this run's are found by id.
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.campaign`);

afterAll(async () => {
  await watcher.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const FIELDS = 'id name goal channel budget { amountMinor currency } status startsAt endsAt ownerId createdAt updatedAt';
const CREATE = /* GraphQL */ `
  mutation Create($input: CreateCampaignInput!) {
    createCampaign(input: $input) { ${FIELDS} }
  }
`;
const GET = `query($id: ID!) { campaign(id: $id) { ${FIELDS} } }`;
const cny = (amountMinor: number) => ({ amountMinor, currency: 'CNY' });
const campaign = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  channel: 'EMAIL',
  budget: cny(100_000),
  startsAt: '2026-09-01T00:00:00Z',
  endsAt: '2026-09-30T23:59:59Z',
  ...extra,
});

describe('marketing subgraph: campaigns (real Mongo, Kafka, Keycloak)', () => {
  it('creates a campaign, reads it back and publishes campaign.created keyed by its id', async () => {
    // The budget is beyond GraphQL's 32-bit Int: SafeInt carries it. Offsets are stored as UTC.
    const created = await call(CREATE, {
      input: {
        name: '  Autumn campus tour ',
        goal: '200 qualified leads from universities',
        channel: 'EVENT',
        budget: cny(8_000_000_000),
        startsAt: '2026-09-01T09:00:00+08:00',
        endsAt: '2026-10-31T18:00:00+08:00',
      },
    });
    expect(created.errors).toBeUndefined();
    const result = created.data!.createCampaign;
    expect(result).toMatchObject({
      name: 'Autumn campus tour',
      goal: '200 qualified leads from universities',
      channel: 'EVENT',
      budget: { amountMinor: 8_000_000_000, currency: 'CNY' },
      status: 'PLANNED',
      startsAt: '2026-09-01T01:00:00.000Z',
      endsAt: '2026-10-31T10:00:00.000Z',
      ownerId: subjectOf(marketerToken),
    });
    expect(result.id).toMatch(/^[0-9a-f]{24}$/);
    expect(result.createdAt).toMatch(/Z$/);

    const read = await call(GET, { id: result.id }, managerToken);
    expect(read.errors).toBeUndefined();
    expect(read.data!.campaign).toEqual(result);

    const { key, event } = await watcher.find((e) => e.subject === result.id, 15_000);
    expect(key).toBe(result.id);
    expect(event).toMatchObject({
      type: 'campaign.created',
      source: '/crm/marketing',
      data: {
        campaignId: result.id,
        name: 'Autumn campus tour',
        channel: 'EVENT',
        budget: { amountMinor: 8_000_000_000, currency: 'CNY' },
        status: 'PLANNED',
        startsAt: '2026-09-01T01:00:00.000Z',
        endsAt: '2026-10-31T10:00:00.000Z',
        ownerId: result.ownerId,
        createdAt: result.createdAt,
      },
    });
    // Published and removed from the outbox.
    await eventually(async () => {
      const doc = await campaigns().findOne({ name: 'Autumn campus tour' });
      return Array.isArray(doc?.pendingEvents) && doc.pendingEvents.length === 0;
    });
  });

  it('pages through campaigns with cursors', async () => {
    for (const name of ['Page A', 'Page B', 'Page C']) expect((await call(CREATE, { input: campaign(name) })).errors).toBeUndefined();
    const LIST = `query($after: String) { campaigns(first: 2, after: $after) { totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor } } }`;
    const first = (await call(LIST, {}, analystToken)).data!.campaigns;
    expect(first.totalCount).toBe(4);
    expect(first.edges.map((e: any) => e.node.name)).toEqual(['Autumn campus tour', 'Page A']);
    expect(first.pageInfo).toEqual({ hasNextPage: true, endCursor: first.edges[1].cursor });
    const second = (await call(LIST, { after: first.pageInfo.endCursor }, analystToken)).data!.campaigns;
    expect(second.edges.map((e: any) => e.node.name)).toEqual(['Page B', 'Page C']);
    expect(second.pageInfo).toEqual({ hasNextPage: false, endCursor: second.edges[1].cursor });

    const badCursor = await call(`{ campaigns(after: "zzz") { totalCount } }`);
    expect(badCursor.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'after' }] });
    const badSize = await call(`{ campaigns(first: 0) { totalCount } }`);
    expect(badSize.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'first' }] });
  });

  it('rejects bad input with BAD_USER_INPUT and field details, writing nothing', async () => {
    const before = await campaigns().countDocuments();
    const fieldsOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) =>
      (result.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort();

    // Empty name, negative budget, bad currency, over-long goal.
    const bad = await call(CREATE, { input: campaign(' ', { goal: 'x'.repeat(1001), budget: { amountMinor: -1, currency: 'RMB1' } }) });
    expect(bad.data).toBeNull();
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CAMPAIGN_INVALID_INPUT' });
    expect(fieldsOf(bad)).toEqual(['input.budget.amountMinor', 'input.budget.currency', 'input.goal', 'input.name']);

    const endsBefore = await call(CREATE, { input: campaign('Backwards', { startsAt: '2026-09-30T00:00:00Z', endsAt: '2026-09-01T00:00:00Z' }) });
    expect(endsBefore.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'CAMPAIGN_INVALID_INPUT',
      fields: [{ field: 'input.endsAt', message: 'Must be after startsAt' }],
    });
    // The same instant written in two zones is not "after".
    const sameInstant = await call(CREATE, { input: campaign('Zero length', { startsAt: '2026-09-01T08:00:00+08:00', endsAt: '2026-09-01T00:00:00Z' }) });
    expect(fieldsOf(sameInstant)).toEqual(['input.endsAt']);

    // Rejected by the scalars during variable coercion, before the service: still BAD_USER_INPUT.
    const fractional = await call(CREATE, { input: campaign('Fraction', { budget: { amountMinor: 0.5, currency: 'CNY' } }) });
    expect(fractional.status).toBe(400);
    expect(fractional.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(fractional.errors?.[0]?.message).toContain('input.budget.amountMinor');
    const noZone = await call(CREATE, { input: campaign('No zone', { startsAt: '2026-09-01T00:00:00' }) });
    expect(noZone.status).toBe(400);
    expect(noZone.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(noZone.errors?.[0]?.message).toContain('input.startsAt');
    const badChannel = await call(CREATE, { input: campaign('Fax', { channel: 'FAX' }) });
    expect(badChannel.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    expect(await campaigns().countDocuments()).toBe(before);
  });

  it('answers null for unknown or malformed ids', async () => {
    const result = await call(`{ a: campaign(id: "64b7f0000000000000000000") { id } b: campaign(id: "nope") { id } }`);
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ a: null, b: null });
  });

  it('enforces roles: admins and marketers create; sales managers and analysts read; others neither', async () => {
    const byAdmin = await call(CREATE, { input: campaign('By admin', { channel: 'WECHAT', status: 'ACTIVE' }) }, adminToken);
    expect(byAdmin.errors).toBeUndefined();
    expect(byAdmin.data!.createCampaign).toMatchObject({ channel: 'WECHAT', status: 'ACTIVE', ownerId: subjectOf(adminToken) });

    const before = await campaigns().countDocuments();
    for (const token of [managerToken, repToken, agentToken, analystToken, customerToken]) {
      const denied = await call(CREATE, { input: campaign('Denied') }, token);
      expect(denied.data).toBeNull();
      expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_ROLE' });
    }
    expect(await campaigns().countDocuments()).toBe(before);

    for (const token of [adminToken, marketerToken, managerToken, analystToken]) {
      const read = await call(`{ campaigns { totalCount } }`, {}, token);
      expect(read.errors).toBeUndefined();
      expect(read.data!.campaigns.totalCount).toBe(before);
    }
    for (const token of [repToken, agentToken, customerToken]) {
      const list = await call(`{ campaigns { totalCount } }`, {}, token);
      expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const get = await call(GET, { id: byAdmin.data!.createCampaign.id }, token);
      expect(get.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(get.data?.campaign ?? null).toBeNull();
    }
  });

  it('resolves Campaign entities for other subgraphs', async () => {
    const created = (await call(CREATE, { input: campaign('Entity Ref', { channel: 'ONLINE_ADS' }) })).data!.createCampaign;
    const result = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Campaign { id name channel budget { amountMinor currency } } } }`, {
      r: [{ __typename: 'Campaign', id: created.id }, { __typename: 'Campaign', id: '64b7f0000000000000000000' }],
    }, managerToken);
    expect(result.errors).toBeUndefined();
    expect(result.data!._entities).toEqual([{ id: created.id, name: 'Entity Ref', channel: 'ONLINE_ADS', budget: { amountMinor: 100_000, currency: 'CNY' } }, null]);
  });

  it('refuses callers without the gateway secret or without a valid token', async () => {
    const noSecret = await call(`{ campaigns { totalCount } }`, {}, marketerToken, null);
    expect(noSecret.status).toBe(403);
    expect(noSecret.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const wrongSecret = await call(`{ campaigns { totalCount } }`, {}, marketerToken, 'x'.repeat(32));
    expect(wrongSecret.status).toBe(403);
    const noToken = await call(`{ campaigns { totalCount } }`, {}, null);
    expect(noToken.status).toBe(401);
    expect(noToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const badToken = await call(`{ campaigns { totalCount } }`, {}, 'a.b.c');
    expect(badToken.status).toBe(401);
    expect(badToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('reports alive and ready', async () => {
    const base = running.url.replace(/\/graphql$/, '');
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, checks: { mongo: true, kafka: true, accepting: true } });
  });
});
