import { describe, expect, it } from 'vitest';
import { connectMongo } from '@crm/mongo';
import { consumerGroupState, eventually, login } from '@crm/testing';
import { Types } from 'mongoose';
import { e2ePlatform, gatewayCalls, loginAll, userIdOf } from './platform.js';

const { infra, platform, logDir } = await e2ePlatform('service-desk');

const { raw, asUser } = gatewayCalls(platform);

/**
 * Where a customer's account link stands on its way to the service desk, for the failure message:
 * still pending in the customers document, in Kafka but not consumed, or consumed but not applied.
 */
async function linkDiagnosis(customerId: string) {
  const entryOf = async (service: string, collection: string) => {
    const connection = await connectMongo({ url: infra.mongoUrl, dbName: platform.subgraphs[service]!.db });
    try {
      return await connection.db!.collection(collection).findOne({ _id: collection === 'customers' ? new Types.ObjectId(customerId) : (customerId as never) }, { projection: { portalUserId: 1, version: 1, pendingEvents: { type: 1, time: 1 } } });
    } finally {
      await connection.close();
    }
  };
  const ready = await fetch(`${platform.subgraphs['service-desk']!.url.replace(/\/graphql$/, '')}/readyz`).then((r) => r.json()).catch((e: Error) => e.message);
  return {
    customer: await entryOf('customers', 'customers'),
    directoryEntry: await entryOf('service-desk', 'customer_directory'),
    serviceDeskReady: ready,
    group: await consumerGroupState(infra, `${platform.topicPrefix}.service-desk.customer-directory`, `${platform.topicPrefix}.customer`),
  };
}

describe(`service desk through the gateway (logs: ${logDir})`, () => {
  it('a customer opens a ticket for itself, it is dispatched round robin, worked, resolved, rated; Customer shows tickets and satisfaction', async () => {
    const names = ['sales.rep', 'sales.manager', 'service.manager', 'service.agent', 'service.agent2', 'customer', 'customer2'] as const;
    const tokens = await loginAll(infra, names);
    const [rep, salesManager, manager, customer] = [asUser(tokens['sales.rep']), asUser(tokens['sales.manager']), asUser(tokens['service.manager']), asUser(tokens.customer)];
    const agents = { [userIdOf(tokens['service.agent'])]: asUser(tokens['service.agent']), [userIdOf(tokens['service.agent2'])]: asUser(tokens['service.agent2']) };

    // The customers service owns the customer and its self-service account; the service desk learns both from events.
    const { createCustomer: created } = await rep(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, {
      input: { name: 'Nanjing University', organization: 'Nanjing University' },
    });
    await salesManager(`mutation($c: ID!, $u: ID) { linkCustomerAccount(customerId: $c, userId: $u) { id hasPortalAccount } }`, { c: created.id, u: userIdOf(tokens.customer) });
    await manager(`mutation($input: CreateQueueInput!) { createQueue(input: $input) { id } }`, {
      input: { name: 'Campus IT', skillGroup: 'technical', members: Object.keys(agents), ticketTypes: ['TECHNICAL'] },
    });

    // The customer opens a ticket without naming a customer id: it is its own (once the link arrived).
    const OPEN = `mutation($input: CreateTicketInput!) { createTicket(input: $input) { id status customerId assigneeId channel customer { id name } } }`;
    let lastError: unknown;
    const opened = await eventually(async () => {
      const result = await raw(tokens.customer)(OPEN, { input: { subject: 'Projector in hall 3 shows no image', type: 'TECHNICAL', priority: 'HIGH' } });
      lastError = result.errors;
      return result.errors ? undefined : result.data!.createTicket;
      // The service desk's consumer joins its group on the fresh topic first (tens of seconds on a slow machine).
    }, 60_000, 250).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(lastError)}; ${JSON.stringify(await linkDiagnosis(created.id))}`);
    });
    // Ticket.customer.name comes from the customers subgraph.
    expect(opened).toMatchObject({ status: 'ASSIGNED', customerId: created.id, channel: 'WEB', customer: { id: created.id, name: 'Nanjing University' } });
    const agent = agents[opened.assigneeId]!;
    expect(agent).toBeDefined();

    await agent(`mutation($id: ID!) { startTicket(id: $id) { status } }`, { id: opened.id });
    await agent(`mutation($id: ID!) { addTicketComment(id: $id, input: { body: "Lamp hours exceeded; order a spare", visibility: INTERNAL }) { id } }`, { id: opened.id });
    await agent(`mutation($id: ID!) { addTicketComment(id: $id, input: { body: "A technician comes tomorrow at 10:00" }) { id } }`, { id: opened.id });
    await agent(`mutation($id: ID!) { resolveTicket(id: $id, resolution: "Lamp replaced") { status } }`, { id: opened.id });

    // The customer sees only the public comment and the public history.
    const seen = (await customer(`query($id: ID!) { ticket(id: $id) { status resolution comments { body visibility } history { field visibility } queue { id } } }`, { id: opened.id })).ticket;
    expect(seen).toMatchObject({ status: 'RESOLVED', resolution: 'Lamp replaced', comments: [{ body: 'A technician comes tomorrow at 10:00', visibility: 'PUBLIC' }], queue: null });
    expect(seen.history.every((h: { visibility: string }) => h.visibility === 'PUBLIC')).toBe(true);

    const rated = (await customer(`mutation($id: ID!) { rateTicket(id: $id, input: { rating: 5, comment: "Fast" }) { satisfaction { rating onBehalfOfCustomer } } }`, { id: opened.id })).rateTicket;
    expect(rated.satisfaction).toEqual({ rating: 5, onBehalfOfCustomer: false });
    const again = await raw(tokens.customer)(`mutation($id: ID!) { rateTicket(id: $id, input: { rating: 1 }) { id } }`, { id: opened.id });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const outOfRange = await raw(tokens.customer)(`mutation($id: ID!) { closeTicket(id: $id) { id } rateTicket(id: $id, input: { rating: 9 }) { id } }`, { id: opened.id });
    expect(outOfRange.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);

    // Another customer neither sees it nor can act on it.
    const stranger = raw(tokens.customer2);
    expect((await stranger(`query($id: ID!) { ticket(id: $id) { id } }`, { id: opened.id })).data!.ticket).toBeNull();
    expect((await stranger(`mutation($id: ID!) { reopenTicket(id: $id, reason: "mine") { id } }`, { id: opened.id })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // No comments on a closed ticket.
    expect((await raw(tokens.customer)(`mutation($id: ID!) { addTicketComment(id: $id, input: { body: "Thanks!" }) { id } }`, { id: opened.id })).errors?.[0]?.extensions?.code).toBe('CONFLICT');

    // The owning sales rep sees the customer with its tickets and satisfaction (customers + service-desk), and the timeline entry from ticket.opened.
    const view = await eventually(async () => {
      const data = await rep(`query($id: ID!) { customer(id: $id) { name tickets { subject status satisfaction { rating } }
        satisfaction { average count } timeline(kinds: [TICKET]) { edges { node { summary ticket { id } } } } } }`, { id: created.id });
      return data.customer.timeline.edges.length ? data.customer : undefined;
    }, 15_000, 250);
    expect(view).toEqual({
      name: 'Nanjing University',
      tickets: [{ subject: 'Projector in hall 3 shows no image', status: 'CLOSED', satisfaction: { rating: 5 } }],
      satisfaction: { average: 5, count: 1 },
      timeline: { edges: [{ node: { summary: 'Ticket opened: technical, high priority, via web', ticket: { id: opened.id } } }] },
    });
  }, 150_000);

  it('a complaint waits for the service manager, who approves it; bad input and illegal transitions are refused', async () => {
    const [repToken, managerToken] = await Promise.all([login(infra, 'sales.rep'), login(infra, 'service.manager')]);
    const { createCustomer: created } = await asUser(repToken)(`mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }`, { input: { name: 'Wuhan Optics Co.' } });
    const manager = raw(managerToken);
    const complaint = (await manager(`mutation($input: CreateTicketInput!) { createTicket(input: $input) { id status approval { required } } }`, {
      input: { customerId: created.id, subject: 'Invoice charged twice', type: 'COMPLAINT', channel: 'EMAIL' },
    })).data!.createTicket;
    expect(complaint).toMatchObject({ status: 'PENDING_APPROVAL', approval: { required: true } });
    const early = await manager(`mutation($id: ID!) { resolveTicket(id: $id, resolution: "x") { id } }`, { id: complaint.id });
    expect(early.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'TICKET_INVALID_TRANSITION' });
    const approved = (await manager(`mutation($id: ID!) { approveTicket(id: $id, expectedVersion: 1) { status version history { field to } } }`, { id: complaint.id })).data!.approveTicket;
    expect(approved.status).toBe('APPROVED');
    expect(approved.history.filter((h: { field: string }) => h.field === 'status').map((h: { to: string }) => h.to)).toEqual(['NEW', 'PENDING_APPROVAL', 'APPROVED']);
    const bad = await manager(`mutation { createTicket(input: { customerId: "nope", subject: "", type: TECHNICAL }) { id } }`);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
