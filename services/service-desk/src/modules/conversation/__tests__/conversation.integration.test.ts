import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Types } from 'mongoose';
import { eventually } from '@crm/testing';
import { codeOf, fieldsOf, ok, someId, startDeskKit } from '../../article/__tests__/desk-kit.js';
import { HANDED_OVER_TEXT, MATCH_TEXT, NO_MATCH_TEXT } from '../conversation.service.js';

const kit = await startDeskKit(['conversation']);
const { as, db, ids, customers } = kit;
const [agent, agent2, manager, customer, customer2] = [as('service.agent'), as('service.agent2'), as('service.manager'), as('customer'), as('customer2')];
const events = kit.watchers.conversation!;

afterAll(() => kit.stop());

const MESSAGES = 'messages { id author authorId text answers { articleId title revision score article { id title } } }';
const FIELDS = `id status subject customerId productId ticketId version ${MESSAGES}`;
const START = `mutation($input: StartConversationInput!) { startConversation(input: $input) { ${FIELDS} } }`;
const SEND = `mutation($id: ID!, $t: String!) { sendConversationMessage(id: $id, text: $t) { ${FIELDS} } }`;
const HUMAN = `mutation($id: ID!) { requestHumanAgent(id: $id) { ${FIELDS} } }`;
const REPLY = `mutation($id: ID!, $t: String!) { replyToConversation(id: $id, text: $t) { ${FIELDS} } }`;
const CLOSE = `mutation($id: ID!) { closeConversation(id: $id) { id status } }`;
const GET = `query($id: ID!, $after: ID) { conversation(id: $id) { id status messages(after: $after) { id author text } } }`;
const printer = someId();
let articleId: string;

beforeAll(async () => {
  // Hand-over tickets (CONSULTATION) go to a queue whose only member is service.agent.
  await ok(manager(`mutation($input: CreateQueueInput!) { createQueue(input: $input) { id } }`, { input: { name: 'Online', skillGroup: 'chat', members: [ids['service.agent']], ticketTypes: ['CONSULTATION'] } }));
  articleId = (await ok(agent(`mutation($input: CreateArticleInput!) { createArticle(input: $input) { id } }`, {
    input: { kind: 'FAQ', title: '打印机卡纸怎么处理', body: '关闭电源，打开后盖，慢慢取出卡住的纸。', keywords: ['paper jam'], productIds: [printer] },
  }))).createArticle.id;
  await ok(manager(`mutation($id: ID!) { publishArticle(id: $id) { id } }`, { id: articleId }));
});

describe('online service (SVC-5, real Mongo, Kafka, Keycloak)', () => {
  it('answers a question from published articles with a score, says when nothing matches, and answers follow-ups', async () => {
    const c = (await ok(customer(START, { input: { question: '我的打印机卡纸了', productId: printer } }))).startConversation;
    expect(c).toMatchObject({ status: 'OPEN', subject: '我的打印机卡纸了', customerId: customers.customer, productId: printer, ticketId: null, version: 1 });
    expect(c.messages).toHaveLength(2);
    expect(c.messages[0]).toMatchObject({ author: 'CUSTOMER', authorId: ids.customer, text: '我的打印机卡纸了', answers: [] });
    expect(c.messages[1]).toMatchObject({ author: 'BOT', text: MATCH_TEXT, answers: [{ articleId, title: '打印机卡纸怎么处理', revision: 1, article: { id: articleId, title: '打印机卡纸怎么处理' } }] });
    expect(c.messages[1].answers[0].score).toBeGreaterThanOrEqual(0.9);
    const { event } = await events.find((e) => e.subject === c.id);
    expect(event).toMatchObject({ type: 'conversation.started', data: { conversationId: c.id, customerId: customers.customer, status: 'OPEN', matched: true, messageCount: 2 } });
    expect(JSON.stringify(event.data)).not.toContain('卡纸');

    const followUp = (await ok(customer(SEND, { id: c.id, t: 'How do I change the toner cartridge?' }))).sendConversationMessage;
    expect(followUp.messages.slice(2).map((m: { author: string; text: string; answers: unknown[] }) => [m.author, m.text, m.answers.length])).toEqual([
      ['CUSTOMER', 'How do I change the toner cartridge?', 0],
      ['BOT', NO_MATCH_TEXT, 0],
    ]);
    // Polling: only what came after the last message seen.
    const newer = (await ok(customer(GET, { id: c.id, after: c.messages[1].id }))).conversation.messages;
    expect(newer.map((m: { author: string }) => m.author)).toEqual(['CUSTOMER', 'BOT']);
    expect(fieldsOf(await customer(GET, { id: c.id, after: '00000000-0000-4000-8000-000000000000' }))).toEqual(['after']);
  });

  it('keeps conversations private: other customers and staff see nothing before hand-over; only customers start', async () => {
    const c = (await ok(customer(START, { input: { question: 'paper jam again' } }))).startConversation;
    expect((await ok(customer2(GET, { id: c.id }))).conversation).toBeNull();
    expect((await ok(agent(GET, { id: c.id }))).conversation).toBeNull();
    expect(codeOf(await customer2(SEND, { id: c.id, t: 'hi' }))).toBe('NOT_FOUND');
    expect(codeOf(await customer2(HUMAN, { id: c.id }))).toBe('NOT_FOUND');
    expect(codeOf(await agent(START, { input: { question: 'x' } }))).toBe('FORBIDDEN');
    expect(codeOf(await as('marketer')(`{ conversations { totalCount } }`))).toBe('FORBIDDEN');
    expect(codeOf(await agent(REPLY, { id: c.id, t: 'hello' }))).toBe('NOT_FOUND');
    const mine = (await ok(customer(`{ conversations { totalCount } }`))).conversations.totalCount;
    expect(mine).toBeGreaterThanOrEqual(1);
    expect((await ok(customer2(`{ conversations { totalCount } }`))).conversations.totalCount).toBe(0);
  });

  it('hands over to a human: one ticket with the transcript, agent replies reach the customer, customer messages reach the ticket', async () => {
    const c = (await ok(customer(START, { input: { question: 'Printer shows error E5 after paper jam', productId: printer } }))).startConversation;
    const handed = (await ok(customer(HUMAN, { id: c.id }))).requestHumanAgent;
    expect(handed).toMatchObject({ status: 'HANDED_OVER' });
    expect(handed.ticketId).toMatch(/^[0-9a-f]{24}$/);
    expect(handed.messages.at(-1)).toMatchObject({ author: 'BOT', text: HANDED_OVER_TEXT });
    // Asking again joins the same ticket: nothing new.
    const again = (await ok(customer(HUMAN, { id: c.id }))).requestHumanAgent;
    expect(again).toMatchObject({ ticketId: handed.ticketId, version: handed.version });
    expect(await db.collection('tickets').countDocuments({ conversationIds: c.id })).toBe(1);
    const { event } = await events.find((e) => e.subject === c.id && e.type === 'conversation.handed-over');
    expect(event.data).toMatchObject({ status: 'HANDED_OVER', ticketId: handed.ticketId, requestedBy: ids.customer });

    const TICKET = `query($id: ID!) { ticket(id: $id) { id channel subject assigneeId customerId productId comments { body authorKind } conversations { id } } }`;
    const ticket = (await ok(agent(TICKET, { id: handed.ticketId }))).ticket;
    expect(ticket).toMatchObject({ channel: 'CHAT', subject: c.subject, assigneeId: ids['service.agent'], customerId: customers.customer, productId: printer, conversations: [{ id: c.id }] });
    expect(ticket.comments[0].authorKind).toBe('CONVERSATION');
    expect(ticket.comments[0].body).toContain('Printer shows error E5 after paper jam');

    // The agent sees it among handed-over conversations and replies; the customer polls and sees the reply.
    const listed = (await ok(agent(`{ conversations(filter: { statuses: [HANDED_OVER] }) { edges { node { id } } } }`))).conversations.edges.map((e: { node: { id: string } }) => e.node.id);
    expect(listed).toContain(c.id);
    const lastSeen = handed.messages.at(-1).id;
    await ok(agent(REPLY, { id: c.id, t: 'Please switch it off for 10 seconds.' }));
    const polled = (await ok(customer(GET, { id: c.id, after: lastSeen }))).conversation.messages;
    expect(polled.map((m: { author: string; text: string }) => [m.author, m.text])).toEqual([['AGENT', 'Please switch it off for 10 seconds.']]);
    // After hand-over the customer's messages go to the agent (no automatic answer) and onto the ticket.
    const sent = (await ok(customer(SEND, { id: c.id, t: 'Done, it works now. 谢谢' }))).sendConversationMessage;
    expect(sent.messages.at(-1)).toMatchObject({ author: 'CUSTOMER', text: 'Done, it works now. 谢谢' });
    const comments = (await ok(agent(TICKET, { id: handed.ticketId }))).ticket.comments.map((x: { body: string }) => x.body);
    expect(comments.slice(1)).toEqual(['Please switch it off for 10 seconds.', 'Done, it works now. 谢谢']);
    // An agent outside the ticket's queue cannot reply (the ticket's rules); nothing is added.
    expect(codeOf(await agent2(REPLY, { id: c.id, t: 'me too' }))).toBe('NOT_FOUND');
    expect((await ok(customer(GET, { id: c.id }))).conversation.messages).toHaveLength(sent.messages.length);

    // Closed: no more messages either way.
    expect((await ok(customer(CLOSE, { id: c.id }))).closeConversation.status).toBe('CLOSED');
    expect(codeOf(await customer(SEND, { id: c.id, t: 'one more' }))).toBe('CONFLICT');
    expect(codeOf(await agent(REPLY, { id: c.id, t: 'one more' }))).toBe('CONFLICT');
    expect(codeOf(await customer(CLOSE, { id: c.id }))).toBe('CONFLICT');
    await events.find((e) => e.subject === c.id && e.type === 'conversation.closed');
  });

  it('refuses bad input with field details and writes nothing; follows customer merges', async () => {
    const before = await db.collection('conversations').countDocuments();
    expect(fieldsOf(await customer(START, { input: { question: '  ', productId: 'p' } }))).toEqual(['input.productId', 'input.question']);
    expect(fieldsOf(await customer(START, { input: { question: 'x'.repeat(2001) } }))).toEqual(['input.question']);
    const c = (await ok(customer2(START, { input: { question: 'router' } }))).startConversation;
    expect(fieldsOf(await customer2(SEND, { id: c.id, t: ' ' }))).toEqual(['text']);
    expect(codeOf(await customer2(SEND, { id: 'nope', t: 'x' }))).toBe('NOT_FOUND');
    expect(await db.collection('conversations').countDocuments()).toBe(before + 1);
    expect((await db.collection('conversations').findOne({}, { sort: { createdAt: -1 } }))?.messages).toHaveLength(2);

    const survivor = someId();
    expect(await kit.running.services.conversations.repointCustomer(customers.customer2, survivor)).toBe(1);
    expect(await kit.running.services.conversations.repointCustomer(customers.customer2, survivor)).toBe(0);
    const { event } = await events.find((e) => e.subject === c.id && e.type === 'conversation.updated');
    expect(event.data).toMatchObject({ customerId: survivor, changed: ['customerId'], mergedCustomerId: customers.customer2 });
    expect(kit.running.services.customerLinks.modules).toEqual(expect.arrayContaining(['conversations', 'after-sales']));
    await eventually(async () => (await db.collection('conversations').countDocuments({ 'pendingEvents.0': { $exists: true } })) === 0, 10_000);
  });

  it('customer.erased rewrites each conversation inside its queue (shared with the relay), from a fresh read', async () => {
    const c = (await ok(customer(START, { input: { question: 'Toner is empty, my number is 138 0013 8000' } }))).startConversation;
    const conversations = kit.running.services.conversations;
    let release!: () => void;
    const held = conversations.serial.run(c.id, () => new Promise<void>((resolve) => (release = resolve)));
    const erasing = conversations.eraseCustomer(c.customerId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stored = () => db.collection('conversations').findOne({ _id: new Types.ObjectId(c.id) });
    expect((await stored())!.subject).not.toBe('[erased]');
    release();
    await held;
    expect(await erasing).toBeGreaterThanOrEqual(1);
    const erased = (await stored())!;
    expect(erased.subject).toBe('[erased]');
    expect(erased.messages.every((m: { text: string }) => m.text === '[erased]')).toBe(true);
  });
});

