import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher, type CloudEvent } from '@crm/events';
import { createLogger } from '@crm/logger';
import { eventually, login, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startTestCustomers } from '../../customer/__tests__/helpers.js';
import { timelineGroupId } from '../activity.consumer.js';
import { timelineEntryId } from '../timeline.model.js';

const infra = await testInfra();
const { running, rawEnv, call } = await startTestCustomers(infra);
const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
const users = ['admin', 'sales.manager', 'sales.rep', 'sales.rep2', 'service.agent', 'marketer', 'analyst', 'customer'] as const;
type User = (typeof users)[number];
const tokens = Object.fromEntries(await Promise.all(users.map(async (u) => [u, await login(infra, u)] as const))) as Record<User, string>;
/** Keycloak user id (`sub`) of a demo user, from its token. */
const idOf = (u: User): string => JSON.parse(Buffer.from(tokens[u].split('.')[1]!, 'base64url').toString()).sub;
const activityTopic = await watchTopic(infra, `${prefix}.activity`);
// Stands for service-desk: the same topic namespace as the service under test.
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('service-desk-stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const serviceDesk = new KafkaEventPublisher(kafka);
const db = running.deps.connection;

afterAll(async () => {
  await activityTopic.stop();
  await kafka.disconnect();
  await db.dropDatabase();
  await running.stop();
});

const ACTIVITY = 'id type subject body occurredAt dueAt remindAt completedAt actorId createdAt customer { id }';
const createCustomer = async (name: string, as: User = 'sales.rep', tags: string[] = []) => {
  const result = await call(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id lastActivityAt } }`, { input: { name, tags } }, tokens[as]);
  expect(result.errors).toBeUndefined();
  return result.data!.createCustomer as { id: string; lastActivityAt: string };
};
const log = (input: Record<string, unknown>, as: User = 'sales.rep') =>
  call(`mutation($input: LogActivityInput!) { logActivity(input: $input) { ${ACTIVITY} } }`, { input }, tokens[as]);
const timeline = (id: string, args: Record<string, unknown> = {}, as: User = 'sales.rep') =>
  call(
    `query($id: ID!, $first: Int, $after: String, $kinds: [TimelineKind!]) { customer(id: $id) { timeline(first: $first, after: $after, kinds: $kinds) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id kind occurredAt actorId summary activity { id type completedAt } ticket { id } } } } } }`,
    { id, ...args },
    tokens[as],
  );
const activities = (id: string, args: Record<string, unknown> = {}, as: User = 'sales.rep') =>
  call(
    `query($id: ID!, $first: Int, $after: String, $type: ActivityType) { customer(id: $id) { activities(first: $first, after: $after, type: $type) { totalCount edges { node { id type subject } } pageInfo { hasNextPage endCursor } } } }`,
    { id, ...args },
    tokens[as],
  );
const fieldsOf = (result: { errors?: Array<{ extensions?: Record<string, unknown> }> }) => ((result.errors?.[0]?.extensions?.fields ?? []) as Array<{ field: string }>).map((f) => f.field).sort();
const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();
const ticketCreated = (customerId: string, createdAt: string, ticketId = new Types.ObjectId().toHexString(), key = ticketId): CloudEvent =>
  createEvent({
    source: '/crm/service-desk',
    type: 'ticket.created',
    subject: key,
    time: new Date(createdAt),
    data: { ticketId, customerId, type: 'COMPLAINT', priority: 'HIGH', channel: 'PHONE', status: 'NEW', createdAt },
  });

let acme: { id: string; lastActivityAt: string };
const logged: Record<string, any> = {};

describe('logging activities (CUS-4)', () => {
  it('logs every type with who and when; tasks carry a due date and a reminder', async () => {
    acme = await createCustomer('Acme Trading');
    const types = ['CALL', 'VISIT', 'MEETING', 'EMAIL', 'NOTE'] as const;
    for (const [i, type] of types.entries()) {
      const result = await log({ customerId: acme.id, type, subject: `${type.toLowerCase()} about renewal`, body: 'Details', occurredAt: minutes(-60 + i * 10) });
      expect(result.errors).toBeUndefined();
      logged[type] = result.data!.logActivity;
      expect(logged[type]).toMatchObject({ type, subject: `${type.toLowerCase()} about renewal`, body: 'Details', actorId: idOf('sales.rep'), dueAt: null, remindAt: null, completedAt: null, customer: { id: acme.id } });
    }
    // No occurredAt: now. A task may be planned in the future.
    const task = await log({ customerId: acme.id, type: 'TASK', subject: '  Send the offer  ', occurredAt: minutes(60), dueAt: minutes(24 * 60), remindAt: minutes(23 * 60) });
    expect(task.errors).toBeUndefined();
    logged.TASK = task.data!.logActivity;
    expect(logged.TASK).toMatchObject({ type: 'TASK', subject: 'Send the offer', body: null, completedAt: null, actorId: idOf('sales.rep') });
    expect(Date.parse(logged.TASK.remindAt)).toBeLessThan(Date.parse(logged.TASK.dueAt));
    const now = await log({ customerId: acme.id, type: 'NOTE', subject: 'Prefers WeChat' });
    logged.NOW = now.data!.logActivity;
    expect(Math.abs(Date.parse(logged.NOW.occurredAt) - Date.now())).toBeLessThan(10_000);

    const all = await activities(acme.id, { first: 10 });
    expect(all.data!.customer.activities.totalCount).toBe(7);
    // Newest first by occurredAt: the planned task, the note just now, then the dated ones backwards.
    expect(all.data!.customer.activities.edges.map((e: any) => e.node.type)).toEqual(['TASK', 'NOTE', 'NOTE', 'EMAIL', 'MEETING', 'VISIT', 'CALL']);
    const tasks = await activities(acme.id, { type: 'TASK' });
    expect(tasks.data!.customer.activities.edges).toEqual([{ node: { id: logged.TASK.id, type: 'TASK', subject: 'Send the offer' } }]);
    const one = await call(`query($id: ID!) { activity(id: $id) { ${ACTIVITY} } }`, { id: logged.CALL.id }, tokens['sales.rep']);
    expect(one.data!.activity).toEqual(logged.CALL);
  });

  it('rejects invalid input field by field and stores nothing', async () => {
    const before = await db.collection('activities').countDocuments();
    const bad = await log({ customerId: acme.id, type: 'CALL', subject: ' ', body: 'x'.repeat(10_001), occurredAt: minutes(10), dueAt: minutes(60), remindAt: minutes(30) });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ACTIVITY_INVALID_INPUT' });
    expect(fieldsOf(bad)).toEqual(['input.body', 'input.dueAt', 'input.occurredAt', 'input.remindAt', 'input.subject']);
    expect(fieldsOf(await log({ customerId: acme.id, type: 'NOTE', subject: 'x'.repeat(201) }))).toEqual(['input.subject']);
    expect(fieldsOf(await log({ customerId: acme.id, type: 'TASK', subject: 'No due date', remindAt: minutes(5) }))).toEqual(['input.dueAt']);
    const late = await log({ customerId: acme.id, type: 'TASK', subject: 'Reminder after due', dueAt: minutes(60), remindAt: minutes(61) });
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.remindAt', message: 'Must not be after dueAt' }] });
    expect(fieldsOf(await log({ customerId: 'nope', type: 'NOTE', subject: 'x' }))).toEqual(['input.customerId']);
    // Within the 5-minute tolerance is fine (clocks differ).
    expect((await log({ customerId: acme.id, type: 'NOTE', subject: 'Clock skew', occurredAt: minutes(4) })).errors).toBeUndefined();
    expect(await db.collection('activities').countDocuments()).toBe(before + 1);
  });

  it('publishes activity.logged on the activity topic, keyed by the customer id, without the free text', async () => {
    const { event, key, headers } = await activityTopic.find((e) => e.type === 'activity.logged' && e.data.activityId === logged.TASK.id);
    expect(key).toBe(acme.id);
    expect(headers.ce_type).toBe('activity.logged');
    expect(event).toMatchObject({ source: '/crm/customers', subject: acme.id });
    expect(event.data).toEqual({
      activityId: logged.TASK.id,
      customerId: acme.id,
      type: 'TASK',
      occurredAt: logged.TASK.occurredAt,
      dueAt: logged.TASK.dueAt,
      remindAt: logged.TASK.remindAt,
      actorId: idOf('sales.rep'),
      createdAt: logged.TASK.createdAt,
    });
    const call_ = await activityTopic.find((e) => e.data.activityId === logged.CALL.id);
    expect(JSON.stringify(call_.event)).not.toContain('Details');
    expect(JSON.stringify(call_.event)).not.toContain(logged.CALL.subject);
    // The outbox entry is gone once Kafka acknowledged.
    await eventually(async () => (await db.collection('activities').countDocuments({ 'pendingEvents.0': { $exists: true } })) === 0);
  });
});

describe('who may log and read (CUS-7)', () => {
  it('lets a team mate log on a colleague’s customer; refuses read-only roles', async () => {
    const mate = await log({ customerId: acme.id, type: 'CALL', subject: 'Covered for a colleague' }, 'sales.rep2');
    expect(mate.data!.logActivity).toMatchObject({ actorId: idOf('sales.rep2'), customer: { id: acme.id } });
    for (const who of ['marketer', 'analyst', 'customer'] as const) {
      expect({ who, code: (await log({ customerId: acme.id, type: 'NOTE', subject: 'x' }, who)).errors?.[0]?.extensions?.code }).toEqual({ who, code: 'FORBIDDEN' });
    }
    const managers = await createCustomer('Manager Account', 'sales.manager');
    expect((await log({ customerId: managers.id, type: 'NOTE', subject: 'x' }, 'sales.rep')).errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', fields: [{ field: 'input.customerId' }] });
    expect((await log({ customerId: managers.id, type: 'NOTE', subject: 'Manager note' }, 'sales.manager')).errors).toBeUndefined();
    expect((await log({ customerId: managers.id, type: 'NOTE', subject: 'Admin note' }, 'admin')).errors).toBeUndefined();
    // The rep cannot read the manager's customer's activities either.
    const hidden = (await db.collection('activities').findOne({ subject: 'Manager note' }))!;
    expect((await call(`query($id: ID!) { activity(id: $id) { id } }`, { id: hidden._id.toHexString() }, tokens['sales.rep'])).data!.activity).toBeNull();
  });

  it('lets service agents log calls, emails and notes on customers they can read, nothing else', async () => {
    for (const type of ['CALL', 'EMAIL', 'NOTE']) {
      const result = await log({ customerId: acme.id, type, subject: `Support ${type}` }, 'service.agent');
      expect(result.data!.logActivity).toMatchObject({ type, actorId: idOf('service.agent') });
    }
    for (const type of ['VISIT', 'MEETING']) expect((await log({ customerId: acme.id, type, subject: 'x' }, 'service.agent')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const task = await log({ customerId: acme.id, type: 'TASK', subject: 'x', dueAt: minutes(60) }, 'service.agent');
    expect(task.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ACTIVITY_FORBIDDEN' });
  });

  it('shows timelines to staff who can read the customer, never to the customer role', async () => {
    expect((await timeline(acme.id, {}, 'marketer')).data!.customer.timeline.totalCount).toBeGreaterThan(0);
    expect((await timeline(acme.id, {}, 'service.agent')).data!.customer.timeline.totalCount).toBeGreaterThan(0);
    // Link the record to the demo customer's own account: it may read its record, not the timeline.
    await db.collection('customers').updateOne({ _id: new Types.ObjectId(acme.id) }, { $set: { portalUserId: idOf('customer') } });
    const own = await call(`query($id: ID!) { customer(id: $id) { name } }`, { id: acme.id }, tokens.customer);
    expect(own.data!.customer).toEqual({ name: 'Acme Trading' });
    const forbidden = await timeline(acme.id, {}, 'customer');
    expect(forbidden.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'ACTIVITY_FORBIDDEN' });
    expect((await activities(acme.id, {}, 'customer')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await call(`query($id: ID!) { activity(id: $id) { id } }`, { id: logged.CALL.id }, tokens.customer)).data!.activity).toBeNull();
    await db.collection('customers').updateOne({ _id: new Types.ObjectId(acme.id) }, { $set: { portalUserId: null } });
  });
});

describe('timeline projection (CUS-4)', () => {
  let shop: { id: string };
  let ticketEvent: CloudEvent;
  let visitId = '';
  it('merges activities and other services’ tickets newest first, with working cursors', async () => {
    shop = await createCustomer('Timeline Shop');
    const note = (await log({ customerId: shop.id, type: 'NOTE', subject: 'First contact', occurredAt: minutes(-30) })).data!.logActivity;
    const call_ = (await log({ customerId: shop.id, type: 'CALL', subject: 'Follow-up', occurredAt: minutes(-10) })).data!.logActivity;
    const visit = (await log({ customerId: shop.id, type: 'VISIT', subject: 'On site', occurredAt: minutes(-1) })).data!.logActivity;
    visitId = visit.id;
    // service-desk opened a ticket between the note and the call.
    ticketEvent = ticketCreated(shop.id, minutes(-20));
    const ticketId = (ticketEvent.data as { ticketId: string }).ticketId;
    await serviceDesk.publish([ticketEvent]);
    await eventually(async () => (await timeline(shop.id)).data!.customer.timeline.totalCount === 4, 20_000);

    const page1 = (await timeline(shop.id, { first: 2 })).data!.customer.timeline;
    expect(page1.edges.map((e: any) => e.node.summary)).toEqual(['Visit: On site', 'Call: Follow-up']);
    expect(page1.edges[0].node).toMatchObject({ kind: 'ACTIVITY', actorId: idOf('sales.rep'), occurredAt: visit.occurredAt, activity: { id: visit.id, type: 'VISIT' }, ticket: null });
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await timeline(shop.id, { first: 2, after: page1.pageInfo.endCursor })).data!.customer.timeline;
    expect(page2.edges.map((e: any) => e.node.kind)).toEqual(['TICKET', 'ACTIVITY']);
    expect(page2.edges[0].node).toMatchObject({
      id: timelineEntryId(ticketEvent.id).toHexString(),
      summary: 'Ticket opened: complaint, high priority, via phone',
      actorId: null,
      activity: null,
      ticket: { id: ticketId },
    });
    expect(page2.edges[1].node.activity.id).toBe(note.id);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    expect(call_.id).toBeTruthy();

    const onlyTickets = (await timeline(shop.id, { kinds: ['TICKET'] })).data!.customer.timeline;
    expect(onlyTickets.edges.map((e: any) => e.node.ticket.id)).toEqual([ticketId]);
    // A cursor of another list is refused.
    const foreign = await timeline(shop.id, { after: Buffer.from('k1:["createdAt","x","0123456789abcdef01234567"]').toString('base64url') });
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'after' }] });
  });

  it('does not duplicate an entry when the same event is delivered again', async () => {
    await serviceDesk.publish([ticketEvent, ticketEvent]);
    const entries = db.collection('timeline_entries');
    // The projection itself is idempotent too (the crash window between projecting and recording the id).
    await running.services.timeline.apply(ticketEvent);
    await running.services.timeline.apply(ticketEvent);
    // activity.logged comes back through Kafka as well: the consumer finds the entry written at once.
    const processed = db.collection('processed_events');
    const { event: loggedEvent } = await activityTopic.find((e) => e.type === 'activity.logged' && e.subject === shop.id && e.data.activityId === visitId);
    // The subject stays in this service: no personal text in Kafka.
    expect(loggedEvent.data).not.toHaveProperty('subject');
    await eventually(async () => (await processed.countDocuments({ _id: `${timelineGroupId(prefix)}:${loggedEvent.id}` as never })) === 1, 20_000);
    // A later event on the same partition (same key) proves the duplicates were consumed before it.
    const marker = ticketCreated(shop.id, minutes(-40), undefined, ticketEvent.subject);
    await serviceDesk.publish([marker]);
    await eventually(async () => (await entries.countDocuments({ eventId: marker.id })) === 1, 20_000);
    expect(await entries.countDocuments({ eventId: ticketEvent.id })).toBe(1);
    expect(await entries.countDocuments({ eventId: loggedEvent.id })).toBe(1);
    expect((await timeline(shop.id)).data!.customer.timeline.totalCount).toBe(5);
  });

  it('parks a ticket.created it cannot use on the dead-letter topic', async () => {
    const dlq = await watchTopic(infra, `${prefix}.ticket.dlq`);
    try {
      const bad = createEvent({ source: '/crm/service-desk', type: 'ticket.created', subject: 't1', data: { ticketId: 't1', customerId: 'not-an-id' } });
      await serviceDesk.publish([bad]);
      const parked = await dlq.find((e) => e.id === bad.id, 20_000);
      expect(parked.headers['x-dlq-reason']).toMatch(/^PoisonEventError: ticket.created/);
    } finally {
      await dlq.stop();
    }
  });
});

describe('last activity (CUS-3 order) and tasks', () => {
  it('moves lastActivityAt forward, never into the future, and LAST_ACTIVITY_DESC follows', async () => {
    const tag = `lat${randomBytes(3).toString('hex')}`;
    const older = await createCustomer('Older Account', 'sales.rep', [tag]);
    const newer = await createCustomer('Newer Account', 'sales.rep', [tag]);
    const order = async () =>
      (await call(`query($f: CustomerFilter) { customers(filter: $f, orderBy: LAST_ACTIVITY_DESC) { edges { node { name lastActivityAt } } } }`, { f: { tags: [tag] } }, tokens['sales.rep'])).data!.customers.edges.map(
        (e: any) => e.node,
      );
    expect((await order()).map((c: any) => c.name)).toEqual(['Newer Account', 'Older Account']);
    const activity = (await log({ customerId: older.id, type: 'CALL', subject: 'Reactivated' })).data!.logActivity;
    const [first] = await order();
    expect(first).toEqual({ name: 'Older Account', lastActivityAt: activity.occurredAt });
    // A backdated activity does not move it back; a planned task does not move it into the future.
    await log({ customerId: older.id, type: 'NOTE', subject: 'Old note', occurredAt: minutes(-600) });
    await log({ customerId: older.id, type: 'TASK', subject: 'Future', occurredAt: minutes(120), dueAt: minutes(180) });
    const after = (await order())[0];
    expect(after.name).toBe('Older Account');
    expect(Date.parse(after.lastActivityAt)).toBeLessThanOrEqual(Date.now());
    expect(Date.parse(after.lastActivityAt)).toBeGreaterThanOrEqual(Date.parse(activity.occurredAt));
    // A ticket is the customer's activity too, once consumed.
    await serviceDesk.publish([ticketCreated(newer.id, new Date().toISOString())]);
    await eventually(async () => (await order())[0].name === 'Newer Account', 20_000);
  });

  it('lists the caller’s open tasks soonest due first, and completes them once', async () => {
    const client = await createCustomer('Task Client');
    const soon = (await log({ customerId: client.id, type: 'TASK', subject: 'Soon', dueAt: minutes(30) })).data!.logActivity;
    const later = (await log({ customerId: client.id, type: 'TASK', subject: 'Later', dueAt: minutes(60 * 48) })).data!.logActivity;
    const MY = `query($before: DateTime, $first: Int, $after: String) { myTasks(dueBefore: $before, first: $first, after: $after) { totalCount edges { node { id subject dueAt customer { id } } } pageInfo { hasNextPage endCursor } } }`;
    const mine = (await call(MY, {}, tokens['sales.rep'])).data!.myTasks;
    // acme's "Send the offer" (due in 24 h) sits between them; the "Future" task (3 h) before it.
    expect(mine.edges.map((e: any) => e.node.subject)).toEqual(['Soon', 'Future', 'Send the offer', 'Later']);
    const paged = (await call(MY, { first: 1, after: (await call(MY, { first: 1 }, tokens['sales.rep'])).data!.myTasks.pageInfo.endCursor }, tokens['sales.rep'])).data!.myTasks;
    expect(paged.edges.map((e: any) => e.node.subject)).toEqual(['Future']);
    const dueSoon = (await call(MY, { before: minutes(60) }, tokens['sales.rep'])).data!.myTasks;
    expect(dueSoon.edges).toEqual([{ node: { id: soon.id, subject: 'Soon', dueAt: soon.dueAt, customer: { id: client.id } } }]);
    expect((await call(MY, {}, tokens['sales.rep2'])).data!.myTasks.totalCount).toBe(0);

    const COMPLETE = `mutation($id: ID!) { completeTask(id: $id) { id completedAt } }`;
    expect((await call(COMPLETE, { id: soon.id }, tokens.marketer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // A team mate may complete it (they may change the customer).
    const writes = vi.spyOn(running.deps.relay, 'writing');
    const completed = await call(COMPLETE, { id: soon.id }, tokens['sales.rep2']);
    expect(completed.errors).toBeUndefined();
    // In step with the relay's removal of the task's activity.logged (FerretDB v1 could lose one or the other).
    expect(writes.mock.calls.map(([model, id]) => [model.collection.collectionName, String(id)])).toContainEqual(['activities', soon.id]);
    writes.mockRestore();
    const done = completed.data!.completeTask;
    expect(done.completedAt).toMatch(/Z$/);
    const again = (await call(COMPLETE, { id: soon.id }, tokens['sales.rep'])).data!.completeTask;
    expect(again).toEqual(done);
    const notTask = await call(COMPLETE, { id: logged.CALL.id }, tokens['sales.rep']);
    expect(notTask.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'ACTIVITY_NOT_A_TASK' });
    expect((await call(COMPLETE, { id: new Types.ObjectId().toHexString() }, tokens['sales.rep'])).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await call(MY, {}, tokens['sales.rep'])).data!.myTasks.edges.map((e: any) => e.node.id)).not.toContain(soon.id);
    // The timeline shows the task as it is now.
    const entry = (await timeline(client.id, { kinds: ['ACTIVITY'] })).data!.customer.timeline.edges.find((e: any) => e.node.activity.id === soon.id);
    expect(entry.node.activity.completedAt).toBe(done.completedAt);
    expect(later.id).toBeTruthy();
  });

  it('carries activities and timeline over to the survivor of a merge (CUS-6)', async () => {
    const survivor = await createCustomer('Merge Survivor');
    const merged = await createCustomer('Merge Merged');
    const moved = (await log({ customerId: merged.id, type: 'MEETING', subject: 'Met the merged one', occurredAt: minutes(-5) })).data!.logActivity;
    const result = await call(`mutation($s: ID!, $m: ID!) { mergeCustomers(survivorId: $s, mergedId: $m) { id } }`, { s: survivor.id, m: merged.id }, tokens['sales.rep']);
    expect(result.errors).toBeUndefined();
    expect((await activities(survivor.id)).data!.customer.activities.edges.map((e: any) => e.node.id)).toEqual([moved.id]);
    expect((await timeline(survivor.id)).data!.customer.timeline.edges.map((e: any) => e.node.activity?.id)).toEqual([moved.id]);
    // Logging on the merged-away id lands on the survivor.
    const late = (await log({ customerId: merged.id, type: 'NOTE', subject: 'Late note' })).data!.logActivity;
    expect(late.customer).toEqual({ id: survivor.id });
  });
});
