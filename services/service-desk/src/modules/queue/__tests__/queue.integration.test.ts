import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuthUser } from '@crm/auth';
import { parseEnv } from '@crm/env';
import { gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, uniqueName } from '@crm/testing';
import { startServiceDesk } from '../../../app.js';
import { serviceDeskEnvSchema } from '../../../env.js';
import { routingScore } from '../queue.service.js';

const infra = await testInfra();
const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'service-desk'), SLA_ESCALATION_INTERVAL_MS: '0' };
// Two replicas of the service on one database (as two pods would run).
const [replicaA, replicaB] = await Promise.all([
  startServiceDesk(parseEnv(serviceDeskEnvSchema, rawEnv)),
  startServiceDesk(parseEnv(serviceDeskEnvSchema, { ...rawEnv, KAFKA_CLIENT_ID: uniqueName('service-desk-b') })),
]);
const usernames = ['service.manager', 'service.agent', 'service.agent2', 'analyst', 'customer'] as const;
type Username = (typeof usernames)[number];
const tokens = Object.fromEntries(await Promise.all(usernames.map(async (u) => [u, await login(infra, u)] as const))) as Record<Username, string>;
const idOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;
const [agentId, agent2Id] = [idOf(tokens['service.agent']), idOf(tokens['service.agent2'])];
const as = (user: Username) => (query: string, variables: Record<string, unknown> = {}) =>
  graphql<Record<string, any>>(replicaA.url, query, variables, gatewayHeaders(tokens[user], rawEnv.GATEWAY_SECRET!));
const ok = async (promise: Promise<{ data?: Record<string, any> | null; errors?: unknown[] }>) => {
  const result = await promise;
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!;
};
const manager = as('service.manager');
const staff: AuthUser = { id: agentId, username: 'service.agent', roles: ['service-agent'], groups: ['service'] };
const customerId = new Types.ObjectId().toHexString();

afterAll(async () => {
  await replicaA.deps.connection.dropDatabase();
  await Promise.all([replicaA.stop(), replicaB.stop()]);
});

const CREATE_QUEUE = `mutation($input: CreateQueueInput!) { createQueue(input: $input) { id name skillGroup members ticketTypes productIds active version } }`;

describe('queues (dispatch, SVC-1)', () => {
  it('service managers create and edit queues; input is validated; other roles read or are refused', async () => {
    const { createQueue: queue } = await ok(manager(CREATE_QUEUE, { input: { name: 'Network', skillGroup: 'network', members: [agentId.toUpperCase()], ticketTypes: ['TECHNICAL', 'TECHNICAL'] } }));
    expect(queue).toMatchObject({ name: 'Network', members: [agentId], ticketTypes: ['TECHNICAL'], productIds: [], active: true, version: 1 });

    const bad = await manager(CREATE_QUEUE, { input: { name: ' ', skillGroup: 'x', members: ['bob', agentId, agentId], productIds: ['p1'] } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((bad.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual(['input.members', 'input.members.0', 'input.name', 'input.productIds.0']);
    expect((await manager(CREATE_QUEUE, { input: { name: 'Network', skillGroup: 'other' } })).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'QUEUE_NAME_TAKEN' });
    expect((await as('service.agent')(CREATE_QUEUE, { input: { name: 'Mine', skillGroup: 'x' } })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await as('customer')(`{ queues { id } }`)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const UPDATE = `mutation($id: ID!, $input: UpdateQueueInput!, $v: Int) { updateQueue(id: $id, input: $input, expectedVersion: $v) { members version name } }`;
    const updated = (await ok(manager(UPDATE, { id: queue.id, input: { members: [agentId, agent2Id] }, v: 1 }))).updateQueue;
    expect(updated).toEqual({ members: [agentId, agent2Id], version: 2, name: 'Network' });
    expect((await manager(UPDATE, { id: queue.id, input: { name: 'Stale' }, v: 1 })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await manager(UPDATE, { id: new Types.ObjectId().toHexString(), input: { name: 'Nobody' } })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await ok(as('service.agent2')(`{ myQueues { name } }`))).myQueues).toEqual([{ name: 'Network' }]);
    expect((await ok(as('analyst')(`{ queues { name } }`))).queues).toEqual([{ name: 'Network' }]);
    await ok(manager(UPDATE, { id: queue.id, input: { active: false } }));
  });

  it('the routing rule prefers product and type over product over type; listed products or types must match', () => {
    const product = new Types.ObjectId().toHexString();
    const q = (ticketTypes: string[], productIds: string[], active = true) => ({ ticketTypes, productIds, active }) as never;
    expect(routingScore(q(['TECHNICAL'], [product]), { type: 'TECHNICAL', productId: product })).toBe(3);
    expect(routingScore(q([], [product]), { type: 'TECHNICAL', productId: product })).toBe(2);
    expect(routingScore(q(['TECHNICAL'], []), { type: 'TECHNICAL', productId: product })).toBe(1);
    expect(routingScore(q(['TECHNICAL'], [product]), { type: 'TECHNICAL', productId: null })).toBe(0);
    expect(routingScore(q(['COMPLAINT'], []), { type: 'TECHNICAL', productId: null })).toBe(0);
    expect(routingScore(q([], []), { type: 'TECHNICAL', productId: null })).toBe(0);
    expect(routingScore(q(['TECHNICAL'], [], false), { type: 'TECHNICAL', productId: null })).toBe(0);
  });

  it('routes a ticket to the best matching queue through the service', async () => {
    const product = new Types.ObjectId().toHexString();
    const { createQueue: byType } = await ok(manager(CREATE_QUEUE, { input: { name: 'After-sales', skillGroup: 'after-sales', members: [agentId], ticketTypes: ['AFTER_SALES'] } }));
    const { createQueue: byProduct } = await ok(manager(CREATE_QUEUE, { input: { name: 'Printers', skillGroup: 'printers', members: [agent2Id], ticketTypes: ['AFTER_SALES'], productIds: [product] } }));
    const tickets = replicaA.services.tickets;
    const withProduct = await tickets.create({ customerId, subject: 'Printer broken', type: 'AFTER_SALES', productId: product }, staff);
    expect(withProduct).toMatchObject({ queueId: byProduct.id, assigneeId: agent2Id, status: 'ASSIGNED' });
    const without = await tickets.create({ customerId, subject: 'Return a chair', type: 'AFTER_SALES' }, staff);
    expect(without).toMatchObject({ queueId: byType.id, assigneeId: agentId, status: 'ASSIGNED' });
    const PRODUCT = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id tickets { subject queue { name } } } } }`;
    expect((await ok(manager(PRODUCT, { r: [{ __typename: 'Product', id: product }] })))._entities).toEqual([{ id: product, tickets: [{ subject: 'Printer broken', queue: { name: 'Printers' } }] }]);
  });

  it('round robin is fair across concurrent creations in one process and never hands one slot twice across two replicas', async () => {
    const { createQueue: queue } = await ok(manager(CREATE_QUEUE, { input: { name: 'Round robin', skillGroup: 'general', members: [agentId, agent2Id], ticketTypes: ['CONSULTATION'] } }));
    const open = (replica: typeof replicaA, n: number) =>
      Promise.all(Array.from({ length: n }, (_, i) => replica.services.tickets.create({ customerId, subject: `Question ${i}`, type: 'CONSULTATION' }, staff)));

    // One process, 10 at once: 5 each, slots 0..9.
    const single = await open(replicaA, 10);
    const count = (list: Array<{ assigneeId: string | null }>, who: string) => list.filter((t) => t.assigneeId === who).length;
    expect([count(single, agentId), count(single, agent2Id)]).toEqual([5, 5]);

    // Two replicas, 12 at once each: every slot claimed exactly once; each ticket got the member of its slot.
    const both = [...(await open(replicaA, 12)), ...(await open(replicaB, 12))];
    const racing = await Promise.all([open(replicaA, 12), open(replicaB, 12)]);
    const all = [...single, ...both, ...racing.flat()];
    expect(all.every((t) => t.queueId === queue.id)).toBe(true);
    const slots = await replicaA.deps.connection.collection('queue_slots').find({ queueId: queue.id }).toArray();
    expect(slots).toHaveLength(all.length);
    expect(new Set(slots.map((s) => s.ticketId)).size).toBe(all.length);
    for (const slot of slots) {
      const ticket = all.find((t) => t._id.toHexString() === slot.ticketId)!;
      expect(ticket.assigneeId).toBe(slot.memberId);
      expect(slot.memberId).toBe([agentId, agent2Id][slot.slot % 2]);
    }
    // Slots are consecutive (none lost), so the split is as even as the count allows.
    const numbers = slots.map((s) => s.slot as number).sort((a, b) => a - b);
    expect(numbers[0]).toBe(0);
    expect(Math.abs(count(all, agentId) - count(all, agent2Id))).toBeLessThanOrEqual(Math.max(1, numbers.at(-1)! + 1 - all.length));
  }, 120_000);
});
