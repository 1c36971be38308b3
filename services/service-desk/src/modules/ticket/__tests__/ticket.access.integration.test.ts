import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthUser } from '@crm/auth';
import { parseEnv } from '@crm/env';
import { createEvent, KafkaClient, KafkaEventPublisher } from '@crm/events';
import { createLogger } from '@crm/logger';
import { eventually, gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startServiceDesk } from '../../../app.js';
import { serviceDeskEnvSchema } from '../../../env.js';

const infra = await testInfra();
// The SLA scheduler's timer is off: the SLA test below escalates through the port itself.
const rawEnv: Record<string, string> = { ...subgraphTestEnv(infra, 'service-desk'), SLA_ESCALATION_INTERVAL_MS: '0' };
const running = await startServiceDesk(parseEnv(serviceDeskEnvSchema, rawEnv));
const usernames = ['service.manager', 'service.agent', 'service.agent2', 'customer', 'customer2', 'sales.rep', 'sales.rep2', 'analyst'] as const;
type Username = (typeof usernames)[number];
const tokens = Object.fromEntries(await Promise.all(usernames.map(async (u) => [u, await login(infra, u)] as const))) as Record<Username, string>;
const idOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;
const ids = Object.fromEntries(usernames.map((u) => [u, idOf(tokens[u])])) as Record<Username, string>;
const as = (user: Username) => (query: string, variables: Record<string, unknown> = {}) =>
  graphql<Record<string, any>>(running.url, query, variables, gatewayHeaders(tokens[user], rawEnv.GATEWAY_SECRET!));
const ok = async (promise: Promise<{ data?: Record<string, any> | null; errors?: unknown[] }>) => {
  const result = await promise;
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data!;
};
const codeOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => result.errors?.[0]?.extensions?.code;
const userOf = (name: Username, roles: string[]): AuthUser => ({ id: ids[name], username: name, roles, groups: [] });

const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
const ticketsWatch = await watchTopic(infra, `${prefix}.ticket`);
// Stands for the sales and customers services: the same topic namespace as the service under test.
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('sales-stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const publisher = new KafkaEventPublisher(kafka);
const collection = running.deps.connection.collection('tickets');
const [customerA, customerB] = [new Types.ObjectId().toHexString(), new Types.ObjectId().toHexString()];
const tickets = running.services.tickets;

afterAll(async () => {
  await ticketsWatch.stop();
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const CREATE = `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id status customerId assigneeId } }`;
const GET = `query($id: ID!) { ticket(id: $id) { id subject customerId comments { body visibility authorKind } conversationIds channel } }`;
const LIST = `query($f: TicketFilter) { tickets(filter: $f, first: 50) { totalCount edges { node { id subject } } } }`;
const subjects = (data: Record<string, any>) => (data.tickets.edges as Array<{ node: { subject: string } }>).map((e) => e.node.subject).sort();

let queueId: string;
const t: Record<string, string> = {};

beforeAll(async () => {
  const link = (customerId: string, portalUserId: string, ownerId: string) =>
    running.services.customerDirectory.apply(createEvent({ source: '/crm/customers', type: 'customer.updated', subject: customerId, data: { customerId, portalUserId, ownerId, version: 1 } }));
  await link(customerA, ids.customer, ids['sales.rep']);
  await link(customerB, ids.customer2, ids['sales.rep2']);
  queueId = (await ok(as('service.manager')(`mutation($input: CreateQueueInput!) { createQueue(input: $input) { id } }`, {
    input: { name: 'Billing', skillGroup: 'billing', members: [ids['service.agent']], ticketTypes: ['CONSULTATION'] },
  }))).createQueue.id;
  // A: in the Billing queue (service.agent); B: unqueued, opened by service.agent2; C: customer B's, by the customer itself.
  t.a = (await ok(as('customer')(CREATE, { input: { subject: 'A: invoice copy', type: 'CONSULTATION' } }))).createTicket.id;
  t.b = (await ok(as('service.agent2')(CREATE, { input: { customerId: customerA, subject: 'B: idea', type: 'SUGGESTION' } }))).createTicket.id;
  t.c = (await ok(as('customer2')(CREATE, { input: { subject: 'C: wrong delivery', type: 'AFTER_SALES' } }))).createTicket.id;
});

describe('who sees and changes which ticket', () => {
  it('a customer sees only its own tickets; another customer gets NOT_FOUND and nothing changes', async () => {
    expect(subjects(await ok(as('customer')(LIST)))).toEqual(['A: invoice copy', 'B: idea']);
    expect(subjects(await ok(as('customer2')(LIST)))).toEqual(['C: wrong delivery']);
    expect((await ok(as('customer2')(GET, { id: t.a }))).ticket).toBeNull();
    // The relay removes published events from the document in the background: let it finish first,
    // so `before` and the later read differ only if a refused call wrote something.
    await eventually(async () => ((await collection.findOne({ _id: new Types.ObjectId(t.a) }))!.pendingEvents?.length ?? 0) === 0, 30_000, 100);
    const before = await collection.findOne({ _id: new Types.ObjectId(t.a) });
    const foreign = await as('customer2')(`mutation($id: ID!) { addTicketComment(id: $id, input: { body: "mine now" }) { id } }`, { id: t.a });
    expect(codeOf(foreign)).toBe('NOT_FOUND');
    expect(codeOf(await as('customer2')(`mutation($id: ID!) { reopenTicket(id: $id, reason: "x") { id } }`, { id: t.a }))).toBe('NOT_FOUND');
    expect(codeOf(await as('customer2')(`mutation($id: ID!) { rateTicket(id: $id, input: { rating: 1 }) { id } }`, { id: t.a }))).toBe('NOT_FOUND');
    expect(await collection.findOne({ _id: new Types.ObjectId(t.a) })).toEqual(before);
    // Opening a ticket for another customer: FORBIDDEN, nothing written.
    const count = await collection.countDocuments();
    const other = await as('customer')(CREATE, { input: { customerId: customerB, subject: 'for B', type: 'CONSULTATION' } });
    expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', fields: [{ field: 'input.customerId', message: 'Not your customer id' }] });
    expect(await collection.countDocuments()).toBe(count);
    // The Customer entity shows the caller's view too.
    const ENTITY = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id tickets { subject } } } }`;
    expect((await ok(as('customer2')(ENTITY, { r: [{ __typename: 'Customer', id: customerA }] })))._entities).toEqual([{ id: customerA, tickets: [] }]);
  });

  it('agents see tickets of their queues, assigned to them or opened by them; managers and analysts all; analysts change nothing', async () => {
    expect(subjects(await ok(as('service.agent')(LIST)))).toEqual(['A: invoice copy']);
    expect(subjects(await ok(as('service.agent2')(LIST)))).toEqual(['B: idea']);
    expect(subjects(await ok(as('service.manager')(LIST)))).toEqual(['A: invoice copy', 'B: idea', 'C: wrong delivery']);
    expect((await ok(as('analyst')(LIST))).tickets.totalCount).toBe(3);
    expect(codeOf(await as('analyst')(`mutation($id: ID!) { startTicket(id: $id) { id } }`, { id: t.a }))).toBe('FORBIDDEN');
    expect(codeOf(await as('service.agent2')(`mutation($id: ID!) { startTicket(id: $id) { id } }`, { id: t.a }))).toBe('NOT_FOUND');
    // Filters narrow within what one may see.
    expect(subjects(await ok(as('service.manager')(LIST, { f: { queueId } })))).toEqual(['A: invoice copy']);
    expect(subjects(await ok(as('service.manager')(LIST, { f: { customerId: customerB } })))).toEqual(['C: wrong delivery']);
    expect(subjects(await ok(as('service.manager')(LIST, { f: { assigneeId: ids['service.agent'], statuses: ['ASSIGNED'] } })))).toEqual(['A: invoice copy']);
  });

  it('sales reps see the tickets of customers they own (customerDirectory.ownerOf) and those they opened', async () => {
    expect(subjects(await ok(as('sales.rep')(LIST, { f: { customerId: customerA } })))).toEqual(['A: invoice copy', 'B: idea']);
    expect(subjects(await ok(as('sales.rep')(LIST, { f: { customerId: customerB } })))).toEqual([]);
    expect((await ok(as('sales.rep')(GET, { id: t.a }))).ticket.subject).toBe('A: invoice copy');
    expect((await ok(as('sales.rep')(GET, { id: t.c }))).ticket).toBeNull();
    expect((await ok(as('sales.rep2')(GET, { id: t.c }))).ticket.subject).toBe('C: wrong delivery');
    const opened = (await ok(as('sales.rep2')(CREATE, { input: { customerId: customerA, subject: 'D: by rep2', type: 'SUGGESTION' } }))).createTicket;
    expect((await ok(as('sales.rep2')(GET, { id: opened.id }))).ticket.subject).toBe('D: by rep2');
    expect(subjects(await ok(as('sales.rep2')(LIST)))).toEqual(['D: by rep2']);
    // Sales reps read; they do not work on tickets.
    expect(codeOf(await as('sales.rep')(`mutation($id: ID!) { addTicketComment(id: $id, input: { body: "hi" }) { id } }`, { id: t.a }))).toBe('FORBIDDEN');
  });

  it('hand-over port for online service: openFromConversation (CHAT, transcript as first public comment, idempotent) and addConversationMessage', async () => {
    const customer = userOf('customer', ['customer']);
    const input = { customerId: customerA, subject: 'Chat: cannot log in', transcript: 'Q: I cannot log in\nBot: Try resetting your password', conversationId: 'conv-1' };
    const ticket = await tickets.openFromConversation(input, customer);
    expect(ticket).toMatchObject({ channel: 'CHAT', customerId: customerA, conversationIds: ['conv-1'], type: 'CONSULTATION' });
    expect((await tickets.openFromConversation(input, customer))._id.toHexString()).toBe(ticket._id.toHexString());
    await expect(tickets.openFromConversation({ ...input, customerId: customerB, conversationId: 'conv-2' }, customer)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(tickets.openFromConversation({ ...input, transcript: ' ' }, customer)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });

    await tickets.addConversationMessage(ticket._id.toHexString(), 'Still locked out', customer);
    await expect(tickets.addConversationMessage(ticket._id.toHexString(), 'hi', userOf('customer2', ['customer']))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const view = (await ok(as('customer')(GET, { id: ticket._id.toHexString() }))).ticket;
    expect(view.comments).toEqual([
      { body: input.transcript, visibility: 'PUBLIC', authorKind: 'CONVERSATION' },
      { body: 'Still locked out', visibility: 'PUBLIC', authorKind: 'CONVERSATION' },
    ]);
    const { event } = await ticketsWatch.find((e) => e.subject === ticket._id.toHexString() && e.type === 'ticket.commented');
    expect(event.data).toMatchObject({ body: 'Still locked out', authorKind: 'CONVERSATION', authorId: ids.customer });
  });

  it('customer.merged re-points tickets (repointCustomer, idempotent, ticket.updated); order.cancelled notes open tickets of the order internally', async () => {
    const [merged, survivor, orderId] = [new Types.ObjectId().toHexString(), new Types.ObjectId().toHexString(), new Types.ObjectId().toHexString()];
    const manager = as('service.manager');
    const one = (await ok(manager(CREATE, { input: { customerId: merged, subject: 'M1', type: 'SUGGESTION', orderId } }))).createTicket.id;
    const two = (await ok(manager(CREATE, { input: { customerId: merged, subject: 'M2', type: 'SUGGESTION' } }))).createTicket.id;
    expect(await tickets.repointCustomer(merged, survivor)).toBe(2);
    expect(await tickets.repointCustomer(merged, survivor)).toBe(0);
    expect(subjects(await ok(manager(LIST, { f: { customerId: survivor } })))).toEqual(['M1', 'M2']);
    const { event } = await ticketsWatch.find((e) => e.subject === two && e.type === 'ticket.updated');
    expect(event.data).toMatchObject({ customerId: survivor, mergedCustomerId: merged, changed: ['customerId'] });

    // Through Kafka: the customers service's customer.merged reaches the customer-link registry.
    const [gone, kept] = [new Types.ObjectId().toHexString(), new Types.ObjectId().toHexString()];
    const three = (await ok(manager(CREATE, { input: { customerId: gone, subject: 'M3', type: 'SUGGESTION' } }))).createTicket.id;
    await publisher.publish([createEvent({ source: '/crm/customers', type: 'customer.merged', subject: kept, data: { customerId: kept, survivorId: kept, mergedId: gone, version: 2 } })]);
    await eventually(async () => (await collection.findOne({ _id: new Types.ObjectId(three) }))!.customerId === kept, 30_000, 200);

    const cancelled = createEvent({ source: '/crm/sales', type: 'order.cancelled', subject: orderId, data: { orderId, customerId: survivor, reason: 'Customer changed their mind', version: 3 } });
    await publisher.publish([cancelled]);
    const history = await eventually(async () => {
      const doc = await collection.findOne({ _id: new Types.ObjectId(one) });
      const notes = (doc!.history as Array<{ field: string; note: string; visibility: string }>).filter((h) => h.field === 'note');
      return notes.length ? notes : undefined;
    }, 30_000, 200);
    expect(history).toEqual([expect.objectContaining({ note: `Order ${orderId} was cancelled: Customer changed their mind`, visibility: 'INTERNAL' })]);
    // The same event again (a redelivery) adds nothing.
    expect(await tickets.noteOrderCancelled(orderId, cancelled.id, 'again')).toBe(0);
    const onlyStaff = (await ok(manager(`query($id: ID!) { ticket(id: $id) { history { field } } }`, { id: one }))).ticket.history.filter((h: any) => h.field === 'note');
    expect(onlyStaff).toHaveLength(1);
  });

  it('SLA port: breached tickets are due once, escalate records the breach, publishes ticket.sla-breached and REASSIGN hands over', async () => {
    const manager = as('service.manager');
    await ok(manager(`mutation($q: ID!) { updateQueue(id: $q, input: { members: ["${ids['service.agent']}", "${ids['service.agent2']}"] }) { id } }`, { q: queueId }));
    const ticket = (await ok(as('service.agent')(CREATE, { input: { customerId: customerA, subject: 'Urgent billing', type: 'CONSULTATION', priority: 'URGENT' } }))).createTicket;
    const past = new Date(Date.now() - 3_600_000);
    // After the relay removed the opening's events: FerretDB rewrites the whole document, so a concurrent removal could undo this write.
    await eventually(async () => ((await collection.findOne({ _id: new Types.ObjectId(ticket.id) }))!.pendingEvents?.length ?? 0) === 0, 30_000, 100);
    await collection.updateOne({ _id: new Types.ObjectId(ticket.id) }, { $set: { 'sla.firstResponseDueAt': past } });
    const due = await running.services.ticketSlaPort.dueForEscalation(new Date(), 50);
    const mine = due.filter((d) => d.ticketId === ticket.id);
    expect(mine).toEqual([expect.objectContaining({ kind: 'FIRST_RESPONSE', action: 'REASSIGN', assigneeId: ticket.assigneeId, queueId })]);
    expect(await running.services.ticketSlaPort.escalate(mine[0]!)).toBe(true);
    expect(await running.services.ticketSlaPort.escalate(mine[0]!)).toBe(false);
    expect((await running.services.ticketSlaPort.dueForEscalation(new Date(), 50)).filter((d) => d.ticketId === ticket.id)).toEqual([]);
    const stored = await collection.findOne({ _id: new Types.ObjectId(ticket.id) });
    expect(stored!.assigneeId).not.toBe(ticket.assigneeId);
    expect(stored!.history.filter((h: any) => h.field === 'sla')).toEqual([expect.objectContaining({ to: 'FIRST_RESPONSE', visibility: 'INTERNAL' })]);
    const { event } = await ticketsWatch.find((e) => e.subject === ticket.id && e.type === 'ticket.sla-breached');
    expect(event.data).toMatchObject({ kind: 'FIRST_RESPONSE', action: 'REASSIGN', reassignedTo: stored!.assigneeId });
    // The customer does not see the breach in the history.
    const view = (await ok(as('customer')(`query($id: ID!) { ticket(id: $id) { history { field } } }`, { id: ticket.id }))).ticket.history;
    expect(view.some((h: any) => h.field === 'sla' || h.field === 'assignee')).toBe(false);
  });

  it('customer.erased rewrites each ticket inside its queue (shared with the relay), from a fresh read: no change in between is overwritten', async () => {
    const person = new Types.ObjectId().toHexString();
    const ticket = (await ok(as('service.agent')(CREATE, { input: { customerId: person, subject: 'Printer jam', type: 'CONSULTATION' } }))).createTicket;
    let release!: () => void;
    const held = tickets.serial.run(ticket.id, () => new Promise<void>((resolve) => (release = resolve)));
    const erasing = tickets.eraseCustomer(person);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await collection.findOne({ _id: new Types.ObjectId(ticket.id) }))!.subject).toBe('Printer jam');
    // A comment written while the erasure waits is erased with the rest, not overwritten by a stale copy.
    await collection.updateOne({ _id: new Types.ObjectId(ticket.id) }, { $push: { comments: { id: 'late', body: 'Call me on 138 0013 8000', visibility: 'PUBLIC', authorId: 'x', authorKind: 'AGENT', createdAt: new Date() } } } as never);
    release();
    await held;
    expect(await erasing).toBe(1);
    const stored = (await collection.findOne({ _id: new Types.ObjectId(ticket.id) }))!;
    expect(stored.subject).toBe('[erased]');
    expect(stored.comments.map((c: { body: string }) => c.body)).toEqual(['[erased]']);
  });
});
