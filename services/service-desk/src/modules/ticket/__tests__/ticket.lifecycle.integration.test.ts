import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { createEvent } from '@crm/events';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startServiceDesk } from '../../../app.js';
import { serviceDeskEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'service-desk');
const running = await startServiceDesk(parseEnv(serviceDeskEnvSchema, rawEnv));
const usernames = ['service.manager', 'service.agent', 'service.agent2', 'customer', 'analyst', 'marketer'] as const;
const tokens = Object.fromEntries(await Promise.all(usernames.map(async (u) => [u, await login(infra, u)] as const))) as Record<(typeof usernames)[number], string>;
const idOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;
const [managerId, agentId, agent2Id, customerUserId] = [idOf(tokens['service.manager']), idOf(tokens['service.agent']), idOf(tokens['service.agent2']), idOf(tokens.customer)];

const as = (user: keyof typeof tokens) => (query: string, variables: Record<string, unknown> = {}) =>
  graphql<Record<string, any>>(running.url, query, variables, gatewayHeaders(tokens[user], rawEnv.GATEWAY_SECRET!));
const [manager, agent, agent2, customer, analyst, marketer] = [as('service.manager'), as('service.agent'), as('service.agent2'), as('customer'), as('analyst'), as('marketer')];
const ok = async (promise: Promise<{ data?: Record<string, any> | null; errors?: unknown[] }>) => {
  const result = await promise;
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!;
};
const codeOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => result.errors?.[0]?.extensions?.code;
const reasonOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => result.errors?.[0]?.extensions?.reason;

const ticketsWatch = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.ticket`);
const ratingsWatch = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.satisfaction`);
const customerId = new Types.ObjectId().toHexString();
const otherCustomerId = new Types.ObjectId().toHexString();
const collection = running.deps.connection.collection('tickets');

afterAll(async () => {
  await ticketsWatch.stop();
  await ratingsWatch.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const FIELDS = `id status version assigneeId customerId queue { id name } approval { required approved decidedBy note } closeReason resolution
  satisfaction { rating comment onBehalfOfCustomer ratedBy } comments { body visibility authorKind } history { field from to by note visibility }
  reopenableUntil reopenCount firstResponseAt resolvedAt closedAt`;
const CREATE = `mutation($input: CreateTicketInput!) { createTicket(input: $input) { ${FIELDS} } }`;
const GET = `query($id: ID!) { ticket(id: $id) { ${FIELDS} } }`;
const call = (name: string, args: string, extra = '') => `mutation($id: ID!, $v: Int${extra}) { ${name}(id: $id, ${args} expectedVersion: $v) { ${FIELDS} } }`;
const START = call('startTicket', '');
const WAIT = call('waitOnCustomer', 'note: "Need the invoice number",');
const RESOLVE = call('resolveTicket', 'resolution: $r,', ', $r: String!');
const CLOSE = call('closeTicket', '');
const REOPEN = call('reopenTicket', 'reason: $r,', ', $r: String!');
const COMMENT = call('addTicketComment', 'input: $input,', ', $input: AddTicketCommentInput!');
const RATE = call('rateTicket', 'input: $input,', ', $input: RateTicketInput!');
const APPROVE = call('approveTicket', 'note: "Valid complaint",');
const REJECT = call('rejectTicket', 'reason: $r,', ', $r: String!');

let queueId: string;

beforeAll(async () => {
  // The demo customer account is this test's customer (as the customers service's events would say).
  await running.services.customerDirectory.apply(createEvent({ source: '/crm/customers', type: 'customer.updated', subject: customerId, data: { customerId, portalUserId: customerUserId, ownerId: null, version: 1 } }));
  const created = await ok(manager(`mutation($input: CreateQueueInput!) { createQueue(input: $input) { id members } }`, {
    input: { name: 'Hardware', skillGroup: 'hardware', members: [agentId, agent2Id], ticketTypes: ['TECHNICAL', 'AFTER_SALES', 'COMPLAINT'] },
  }));
  queueId = created.createQueue.id;
});

describe('ticket lifecycle (SVC-1) through the subgraph', () => {
  it('dispatches a new ticket by the routing rule and walks NEW → ASSIGNED → IN_PROGRESS ⇄ WAITING → RESOLVED → CLOSED with history and events', async () => {
    const { createTicket: opened } = await ok(agent(CREATE, { input: { customerId, subject: 'Printer jams', type: 'TECHNICAL', priority: 'HIGH', channel: 'PHONE' } }));
    expect(opened).toMatchObject({ status: 'ASSIGNED', queue: { id: queueId, name: 'Hardware' }, version: 1, approval: { required: false } });
    expect([agentId, agent2Id]).toContain(opened.assigneeId);
    expect(opened.history.map((h: any) => `${h.field}:${h.from}->${h.to}`)).toEqual(['status:null->NEW', `queue:null->${queueId}`, `assignee:null->${opened.assigneeId}`, 'status:NEW->ASSIGNED']);
    const worker = opened.assigneeId === agentId ? agent : agent2;
    const other = opened.assigneeId === agentId ? agent2 : agent;

    // Only the assignee (or a manager) works on it; the other agent of the queue sees it but may not start it.
    expect(codeOf(await other(START, { id: opened.id }))).toBe('FORBIDDEN');
    // Illegal transition: resolving an ASSIGNED ticket is a CONFLICT and changes nothing.
    const illegal = await worker(RESOLVE, { id: opened.id, r: 'Done' });
    expect(codeOf(illegal)).toBe('CONFLICT');
    expect(reasonOf(illegal)).toBe('TICKET_INVALID_TRANSITION');
    // A stale expectedVersion is a CONFLICT too.
    expect(reasonOf(await worker(START, { id: opened.id, v: 7 }))).toBe('TICKET_VERSION_CONFLICT');
    expect((await ok(worker(GET, { id: opened.id }))).ticket.version).toBe(1);

    const started = (await ok(worker(START, { id: opened.id, v: 1 }))).startTicket;
    expect(started).toMatchObject({ status: 'IN_PROGRESS', version: 2 });
    expect(started.firstResponseAt).not.toBeNull();
    expect((await ok(worker(WAIT, { id: opened.id }))).waitOnCustomer.status).toBe('WAITING_ON_CUSTOMER');
    // The customer's public reply moves a waiting ticket back to work.
    const replied = (await ok(customer(COMMENT, { id: opened.id, input: { body: 'Invoice 2026-118' } }))).addTicketComment;
    expect(replied.status).toBe('IN_PROGRESS');
    const resolved = (await ok(worker(RESOLVE, { id: opened.id, r: 'Replaced the feeder' }))).resolveTicket;
    expect(resolved).toMatchObject({ status: 'RESOLVED', resolution: 'Replaced the feeder' });
    expect(new Date(resolved.reopenableUntil).getTime() - new Date(resolved.resolvedAt).getTime()).toBe(14 * 86_400_000);
    const closed = (await ok(customer(CLOSE, { id: opened.id }))).closeTicket;
    expect(closed.status).toBe('CLOSED');
    expect(closed.history.filter((h: any) => h.field === 'status').map((h: any) => h.to)).toEqual(['NEW', 'ASSIGNED', 'IN_PROGRESS', 'WAITING_ON_CUSTOMER', 'IN_PROGRESS', 'RESOLVED', 'CLOSED']);

    // Events in order on the ticket's key; status-changed for every change after the opening.
    await ticketsWatch.find((e) => e.subject === opened.id && e.type === 'ticket.closed');
    const mine = ticketsWatch.seen.filter((s) => s.key === opened.id).map((s) => s.event);
    expect(mine.map((e) => e.type)).toEqual([
      'ticket.opened', 'ticket.assigned', 'ticket.status-changed', 'ticket.status-changed', 'ticket.status-changed',
      'ticket.commented', 'ticket.status-changed', 'ticket.status-changed', 'ticket.resolved', 'ticket.status-changed', 'ticket.closed',
    ]);
    expect(mine[0]).toMatchObject({ source: '/crm/service-desk', data: { ticketId: opened.id, customerId, type: 'TECHNICAL', priority: 'HIGH', channel: 'PHONE', status: 'NEW', createdAt: expect.any(String) } });
    expect(mine[1]!.data).toMatchObject({ assigneeId: opened.assigneeId, queueId, automatic: true });
    expect(mine.filter((e) => e.type === 'ticket.status-changed').map((e) => `${e.data.from}->${e.data.to}`)).toEqual([
      'NEW->ASSIGNED', 'ASSIGNED->IN_PROGRESS', 'IN_PROGRESS->WAITING_ON_CUSTOMER', 'WAITING_ON_CUSTOMER->IN_PROGRESS', 'IN_PROGRESS->RESOLVED', 'RESOLVED->CLOSED',
    ]);
    // The SLA clock ran along: started at open, first response at start, resolved.
    const stored = await collection.findOne({ _id: new Types.ObjectId(opened.id) });
    expect(stored!.sla).toMatchObject({ priority: 'HIGH', firstRespondedAt: expect.any(Date), resolvedAt: expect.any(Date) });
  });

  it('complaints wait for a service manager: approval dispatches them, rejection closes them with the reason', async () => {
    const { createTicket: complaint } = await ok(customer(CREATE, { input: { subject: 'Rude technician', type: 'COMPLAINT', description: 'On the 3rd visit' } }));
    expect(complaint).toMatchObject({ status: 'PENDING_APPROVAL', customerId, queue: null, assigneeId: null, approval: { required: true, approved: null } });
    // Agents cannot approve, nor dispatch it before approval.
    expect(codeOf(await agent(APPROVE, { id: complaint.id }))).toBe('NOT_FOUND'); // not in their queue yet: not visible
    expect(reasonOf(await manager(`mutation($id: ID!) { assignTicket(id: $id, input: { assigneeId: "${agentId}" }) { id } }`, { id: complaint.id }))).toBe('TICKET_INVALID_TRANSITION');
    const approved = (await ok(manager(APPROVE, { id: complaint.id, v: 1 }))).approveTicket;
    expect(approved).toMatchObject({ status: 'ASSIGNED', queue: { id: queueId }, approval: { required: true, approved: true, decidedBy: managerId, note: 'Valid complaint' } });
    expect(approved.history.filter((h: any) => h.field === 'status').map((h: any) => h.to)).toEqual(['NEW', 'PENDING_APPROVAL', 'APPROVED', 'ASSIGNED']);
    // Approving again is an illegal transition.
    expect(reasonOf(await manager(APPROVE, { id: complaint.id }))).toBe('TICKET_INVALID_TRANSITION');

    const { createTicket: second } = await ok(customer(CREATE, { input: { subject: 'Refund now', type: 'COMPLAINT' } }));
    expect(codeOf(await manager(REJECT, { id: second.id, r: '  ' }))).toBe('BAD_USER_INPUT');
    const rejected = (await ok(manager(REJECT, { id: second.id, r: 'Duplicate of an earlier complaint' }))).rejectTicket;
    expect(rejected).toMatchObject({ status: 'CLOSED', closeReason: 'Duplicate of an earlier complaint', approval: { approved: false }, reopenableUntil: null });
    // A rejected ticket neither reopens nor takes comments or ratings.
    expect(reasonOf(await customer(REOPEN, { id: second.id, r: 'Please' }))).toBe('TICKET_INVALID_TRANSITION');
    expect(reasonOf(await customer(COMMENT, { id: second.id, input: { body: 'Hello?' } }))).toBe('TICKET_CLOSED');
    expect(reasonOf(await customer(RATE, { id: second.id, input: { rating: 1 } }))).toBe('TICKET_INVALID_TRANSITION');
    const { event: closedEvent } = await ticketsWatch.find((e) => e.subject === second.id && e.type === 'ticket.closed');
    expect(closedEvent.data).toMatchObject({ reason: 'Duplicate of an earlier complaint', rejected: true });
  });

  it('keeps internal comments from the customer: not in comments, not in history, not in events; no comments on closed tickets', async () => {
    const { createTicket: t } = await ok(customer(CREATE, { input: { subject: 'Screen flickers', type: 'TECHNICAL' } }));
    const worker = t.assigneeId === agentId ? agent : agent2;
    await ok(worker(COMMENT, { id: t.id, input: { body: 'Probably the cable; customer was rude', visibility: 'INTERNAL' } }));
    await ok(worker(COMMENT, { id: t.id, input: { body: 'Please try another cable' } }));
    expect(codeOf(await customer(COMMENT, { id: t.id, input: { body: 'sneaky', visibility: 'INTERNAL' } }))).toBe('FORBIDDEN');
    expect(codeOf(await analyst(COMMENT, { id: t.id, input: { body: 'read-only role' } }))).toBe('FORBIDDEN');

    const staffView = (await ok(worker(GET, { id: t.id }))).ticket;
    expect(staffView.comments.map((c: any) => c.visibility)).toEqual(['INTERNAL', 'PUBLIC']);
    expect(staffView.firstResponseAt).not.toBeNull();
    const customerView = (await ok(customer(GET, { id: t.id }))).ticket;
    expect(customerView.comments).toEqual([{ body: 'Please try another cable', visibility: 'PUBLIC', authorKind: 'STAFF' }]);
    expect(customerView.history.every((h: any) => h.visibility === 'PUBLIC')).toBe(true);
    expect(customerView.history.some((h: any) => ['queue', 'assignee'].includes(h.field))).toBe(false);
    expect(customerView.queue).toBeNull();
    expect(staffView.history.filter((h: any) => h.field === 'comment').map((h: any) => h.visibility)).toEqual(['INTERNAL', 'PUBLIC']);

    const { event: commented } = await ticketsWatch.find((e) => e.subject === t.id && e.type === 'ticket.commented');
    expect(commented.data).toMatchObject({ body: 'Please try another cable', authorKind: 'STAFF' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const all = JSON.stringify(ticketsWatch.seen.filter((s) => s.key === t.id));
    expect(all).not.toContain('customer was rude');
    expect(ticketsWatch.seen.filter((s) => s.key === t.id && s.event.type === 'ticket.commented')).toHaveLength(1);

    await ok(worker(START, { id: t.id }));
    await ok(worker(RESOLVE, { id: t.id, r: 'New cable' }));
    await ok(worker(CLOSE, { id: t.id }));
    const before = await collection.findOne({ _id: new Types.ObjectId(t.id) });
    const blocked = await worker(COMMENT, { id: t.id, input: { body: 'one more thing' } });
    expect(codeOf(blocked)).toBe('CONFLICT');
    expect(reasonOf(blocked)).toBe('TICKET_CLOSED');
    expect((await collection.findOne({ _id: new Types.ObjectId(t.id) }))!.version).toBe(before!.version);
  });

  it('satisfaction (SVC-3): the customer rates a resolved ticket once, 1-5; staff may record it for them; Customer.satisfaction averages', async () => {
    const resolvedTicket = async (subject: string) => {
      const { createTicket: t } = await ok(agent(CREATE, { input: { customerId, subject, type: 'AFTER_SALES' } }));
      const worker = t.assigneeId === agentId ? agent : agent2;
      await ok(worker(START, { id: t.id }));
      await ok(worker(RESOLVE, { id: t.id, r: 'Fixed' }));
      return { id: t.id as string, worker };
    };
    const { createTicket: open } = await ok(agent(CREATE, { input: { customerId, subject: 'Not yet', type: 'AFTER_SALES' } }));
    expect(reasonOf(await customer(RATE, { id: open.id, input: { rating: 5 } }))).toBe('TICKET_INVALID_TRANSITION');

    const first = await resolvedTicket('Broken hinge');
    for (const rating of [0, 6]) {
      const bad = await customer(RATE, { id: first.id, input: { rating } });
      expect(codeOf(bad)).toBe('BAD_USER_INPUT');
      expect(bad.errors?.[0]?.extensions?.fields).toEqual([{ field: 'input.rating', message: rating === 0 ? 'At least 1' : 'At most 5' }]);
    }
    const rated = (await ok(customer(RATE, { id: first.id, input: { rating: 4, comment: 'Quick, thanks' } }))).rateTicket;
    expect(rated.satisfaction).toEqual({ rating: 4, comment: 'Quick, thanks', onBehalfOfCustomer: false, ratedBy: customerUserId });
    const again = await customer(RATE, { id: first.id, input: { rating: 1 } });
    expect(reasonOf(again)).toBe('TICKET_ALREADY_RATED');
    expect((await ok(customer(GET, { id: first.id }))).ticket.satisfaction.rating).toBe(4);

    const second = await resolvedTicket('Loose screw');
    const onBehalf = (await ok(second.worker(RATE, { id: second.id, input: { rating: 1, comment: 'Said on the phone' } }))).rateTicket;
    expect(onBehalf.satisfaction).toMatchObject({ rating: 1, onBehalfOfCustomer: true });

    const { event: event } = await ratingsWatch.find((e) => e.subject === first.id);
    expect(event).toMatchObject({ type: 'satisfaction.rated', data: { ticketId: first.id, customerId, rating: 4, comment: 'Quick, thanks', onBehalfOfCustomer: false } });

    const SAT = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id satisfaction { average count } } } }`;
    const reps = { r: [{ __typename: 'Customer', id: customerId }, { __typename: 'Customer', id: otherCustomerId }] };
    expect((await ok(manager(SAT, reps)))._entities).toEqual([
      { id: customerId, satisfaction: { average: 2.5, count: 2 } },
      { id: otherCustomerId, satisfaction: { average: null, count: 0 } },
    ]);
    // The customer sees its own, not another customer's.
    expect((await ok(customer(SAT, { r: [reps.r[0]] })))._entities[0].satisfaction).toEqual({ average: 2.5, count: 2 });
    expect(codeOf(await customer(SAT, { r: [reps.r[1]] }))).toBe('FORBIDDEN');
  });

  it('reopens within the window (back to the same agent, ASSIGNED), not after it', async () => {
    const { createTicket: t } = await ok(agent(CREATE, { input: { customerId, subject: 'Fan noise', type: 'TECHNICAL' } }));
    const worker = t.assigneeId === agentId ? agent : agent2;
    await ok(worker(START, { id: t.id }));
    expect(reasonOf(await customer(REOPEN, { id: t.id, r: 'Still noisy' }))).toBe('TICKET_INVALID_TRANSITION');
    await ok(worker(RESOLVE, { id: t.id, r: 'Cleaned' }));
    const reopened = (await ok(customer(REOPEN, { id: t.id, r: 'Still noisy' }))).reopenTicket;
    expect(reopened).toMatchObject({ status: 'ASSIGNED', assigneeId: t.assigneeId, reopenCount: 1, resolvedAt: null, resolution: null });
    const { event: event } = await ticketsWatch.find((e) => e.subject === t.id && e.type === 'ticket.reopened');
    expect(event.data).toMatchObject({ reason: 'Still noisy', previousStatus: 'RESOLVED', reopenCount: 1 });
    const stored = await collection.findOne({ _id: new Types.ObjectId(t.id) });
    expect(stored!.sla.reopenCount).toBe(1);

    await ok(worker(START, { id: t.id }));
    await ok(worker(RESOLVE, { id: t.id, r: 'Replaced the fan' }));
    await ok(worker(CLOSE, { id: t.id }));
    // 15 days after resolution: the 14-day window has passed. Written once the relay has published the
    // close's events: its removal of them rewrites the whole document on FerretDB and would undo this.
    const _id = new Types.ObjectId(t.id);
    await eventually(async () => ((await collection.findOne({ _id }))!.pendingEvents?.length ?? 0) === 0, 30_000, 100);
    await collection.updateOne({ _id }, { $set: { resolvedAt: new Date(Date.now() - 15 * 86_400_000) } });
    expect((await collection.findOne({ _id }))!.resolvedAt.getTime()).toBeLessThan(Date.now() - 14 * 86_400_000);
    const late = await customer(REOPEN, { id: t.id, r: 'Noisy again' });
    expect(codeOf(late)).toBe('CONFLICT');
    expect(reasonOf(late)).toBe('TICKET_REOPEN_WINDOW_PASSED');
    expect((await ok(customer(GET, { id: t.id }))).ticket.status).toBe('CLOSED');
  });

  it('dispatch by hand: managers assign to a queue or an agent; agents take unassigned tickets of their queues', async () => {
    const { createQueue: empty } = await ok(manager(`mutation { createQueue(input: { name: "Escalations", skillGroup: "senior" }) { id } }`));
    // A suggestion matches no queue rule: it stays NEW and undispatched.
    const { createTicket: t } = await ok(manager(CREATE, { input: { customerId, subject: 'Dark mode please', type: 'SUGGESTION' } }));
    expect(t).toMatchObject({ status: 'NEW', queue: null, assigneeId: null });
    expect(codeOf(await agent(GET, { id: t.id }))).toBeUndefined();
    expect((await ok(agent(GET, { id: t.id }))).ticket).toBeNull();
    // To a queue without members: queued, still NEW; no agent of it can take it (agent is not a member).
    const queued = (await ok(manager(`mutation($id: ID!, $q: ID!) { assignTicket(id: $id, input: { queueId: $q }) { ${FIELDS} } }`, { id: t.id, q: empty.id }))).assignTicket;
    expect(queued).toMatchObject({ status: 'NEW', queue: { id: empty.id }, assigneeId: null });
    expect(codeOf(await agent(`mutation($id: ID!) { takeTicket(id: $id) { id } }`, { id: t.id }))).toBe('NOT_FOUND');
    // Into the Hardware queue with a named agent who is not a member: bad input.
    const bad = await manager(`mutation($id: ID!, $q: ID!) { assignTicket(id: $id, input: { queueId: $q, assigneeId: "${managerId}" }) { id } }`, { id: t.id, q: queueId });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.assigneeId', message: 'Not a member of the queue' }] });
    expect(codeOf(await agent(`mutation($id: ID!) { assignTicket(id: $id, input: { assigneeId: "${agentId}" }) { id } }`, { id: t.id }))).toBe('NOT_FOUND');
    // Agents take tickets of their queues: move it to Hardware without an agent by editing the queue's members to none first.
    await ok(manager(`mutation($q: ID!) { updateQueue(id: $q, input: { members: [] }) { id } }`, { q: queueId }));
    const moved = (await ok(manager(`mutation($id: ID!, $q: ID!) { assignTicket(id: $id, input: { queueId: $q }) { ${FIELDS} } }`, { id: t.id, q: queueId }))).assignTicket;
    expect(moved).toMatchObject({ status: 'NEW', queue: { id: queueId }, assigneeId: null });
    await ok(manager(`mutation($q: ID!) { updateQueue(id: $q, input: { members: ["${agentId}", "${agent2Id}"] }) { id } }`, { q: queueId }));
    const taken = (await ok(agent2(`mutation($id: ID!) { takeTicket(id: $id) { ${FIELDS} } }`, { id: t.id }))).takeTicket;
    expect(taken).toMatchObject({ status: 'ASSIGNED', assigneeId: agent2Id });
    expect(reasonOf(await agent(`mutation($id: ID!) { takeTicket(id: $id) { id } }`, { id: t.id }))).toBe('TICKET_INVALID_TRANSITION');
    // The manager hands it to the other agent (in progress keeps its status).
    await ok(agent2(START, { id: t.id }));
    const handed = (await ok(manager(`mutation($id: ID!) { assignTicket(id: $id, input: { assigneeId: "${agentId}", note: "Holiday" }) { ${FIELDS} } }`, { id: t.id }))).assignTicket;
    expect(handed).toMatchObject({ status: 'IN_PROGRESS', assigneeId: agentId });
    expect(handed.history.at(-1)).toMatchObject({ field: 'assignee', from: agent2Id, to: agentId, by: managerId, note: 'Holiday', visibility: 'INTERNAL' });
    const { event: assigned } = await ticketsWatch.find((e) => e.subject === t.id && e.type === 'ticket.assigned' && e.data.assigneeId === agentId);
    expect(assigned.data).toMatchObject({ previousAssigneeId: agent2Id, automatic: false });
  });

  it('rejects bad input with field details and roles without access, writing nothing', async () => {
    const before = await collection.countDocuments();
    const bad = await agent(CREATE, { input: { customerId: 'nope', subject: ' ', type: 'TECHNICAL', productId: 'x', orderId: '12' } });
    expect(codeOf(bad)).toBe('BAD_USER_INPUT');
    expect((bad.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual(['input.customerId', 'input.orderId', 'input.productId', 'input.subject']);
    expect(codeOf(await agent(CREATE, { input: { subject: 'No customer', type: 'TECHNICAL' } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await agent(CREATE, { input: { customerId, subject: 'x', type: 'TECHNICAL', channel: 'WECHAT' } }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await agent(CREATE, { input: { customerId, subject: 'x', type: 'TECHNICAL', queueId } }))).toBe('FORBIDDEN');
    expect(codeOf(await marketer(CREATE, { input: { customerId, subject: 'x', type: 'TECHNICAL' } }))).toBe('FORBIDDEN');
    expect(codeOf(await analyst(CREATE, { input: { customerId, subject: 'x', type: 'TECHNICAL' } }))).toBe('FORBIDDEN');
    expect(codeOf(await marketer(`{ tickets { totalCount } }`))).toBe('FORBIDDEN');
    expect(codeOf(await agent(`{ tickets(first: 0) { totalCount } }`))).toBe('BAD_USER_INPUT');
    expect(codeOf(await agent(`{ tickets(filter: { customerId: "x" }) { totalCount } }`))).toBe('BAD_USER_INPUT');
    expect(codeOf(await agent(call('startTicket', ''), { id: 'not-an-id' }))).toBe('NOT_FOUND');
    expect(await collection.countDocuments()).toBe(before);
  });
});
