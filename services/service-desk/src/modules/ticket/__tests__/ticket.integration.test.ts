import { afterAll, describe, expect, it } from 'vitest';
import { parseEnv } from '@crm/env';
import { gatewayHeaders, graphql, login, subgraphTestEnv, testInfra, watchTopic } from '@crm/testing';
import { startServiceDesk } from '../../../app.js';
import { serviceDeskEnvSchema } from '../../../env.js';

const infra = await testInfra();
const rawEnv = subgraphTestEnv(infra, 'service-desk');
const running = await startServiceDesk(parseEnv(serviceDeskEnvSchema, rawEnv));
const [agentToken, marketerToken] = await Promise.all([login(infra, 'service.agent'), login(infra, 'marketer')]);
// `null` means: send no token / no secret.
const call = <T = Record<string, any>>(query: string, variables: Record<string, unknown> = {}, token: string | null = agentToken, secret: string | null = rawEnv.GATEWAY_SECRET!) =>
  graphql<T>(running.url, query, variables, gatewayHeaders(token ?? undefined, secret ?? undefined));

// Every event on the real topic; this run's are found by id.
const watcher = await watchTopic(infra, `${rawEnv.KAFKA_TOPIC_PREFIX}.ticket`);

afterAll(async () => {
  await watcher.stop();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

const CREATE = /* GraphQL */ `
  mutation Create($input: CreateTicketInput!) {
    createTicket(input: $input) { id subject description type priority channel status createdById createdAt customer { id } }
  }
`;
const customerA = '6740a1b2c3d4e5f601234567';
const customerB = '6740a1b2c3d4e5f601234568';

describe('service-desk subgraph (real Mongo, Kafka, Keycloak)', () => {
  it('opens a ticket for a customer, reads it back and publishes ticket.opened', async () => {
    const result = await call(CREATE, { input: { customerId: customerA, subject: ' Printer jams ', type: 'AFTER_SALES', channel: 'PHONE' } });
    expect(result.errors).toBeUndefined();
    const ticket = result.data!.createTicket;
    expect(ticket).toMatchObject({ subject: 'Printer jams', description: null, type: 'AFTER_SALES', priority: 'NORMAL', channel: 'PHONE', status: 'NEW', customer: { id: customerA } });
    const read = await call(`query($id: ID!) { ticket(id: $id) { id subject customer { id } } }`, { id: ticket.id });
    expect(read.data!.ticket).toEqual({ id: ticket.id, subject: 'Printer jams', customer: { id: customerA } });
    const { event } = await watcher.find((e) => e.subject === ticket.id);
    expect(event).toMatchObject({ type: 'ticket.opened', source: '/crm/service-desk', data: { customerId: customerA, type: 'AFTER_SALES' } });
    // The customer's words stay in the service desk (no personal text in Kafka where avoidable).
    expect(JSON.stringify(event.data)).not.toContain('Printer jams');
  });

  it('adds tickets to the Customer entity, newest first', async () => {
    await call(CREATE, { input: { customerId: customerA, subject: 'Second', type: 'CONSULTATION' } });
    await call(CREATE, { input: { customerId: customerB, subject: 'Other customer', type: 'COMPLAINT', priority: 'URGENT' } });
    const result = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id tickets { subject } } } }`, {
      r: [{ __typename: 'Customer', id: customerA }, { __typename: 'Customer', id: customerB }, { __typename: 'Customer', id: '6740a1b2c3d4e5f6000000ff' }],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!._entities).toEqual([
      { id: customerA, tickets: [{ subject: 'Second' }, { subject: 'Printer jams' }] },
      { id: customerB, tickets: [{ subject: 'Other customer' }] },
      { id: '6740a1b2c3d4e5f6000000ff', tickets: [] },
    ]);
    const filtered = await call(`query($c: ID) { tickets(filter: { customerId: $c }) { totalCount edges { node { subject } } } }`, { c: customerB });
    expect(filtered.data!.tickets).toEqual({ totalCount: 1, edges: [{ node: { subject: 'Other customer' } }] });
  });

  it('rejects bad input with field details and writes nothing', async () => {
    const before = await running.deps.connection.collection('tickets').countDocuments();
    const result = await call(CREATE, { input: { customerId: 'not-an-id', subject: '', type: 'COMPLAINT' } });
    expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TICKET_INVALID_INPUT' });
    expect((result.errors?.[0]?.extensions?.fields as Array<{ field: string }>).map((f) => f.field).sort()).toEqual(['input.customerId', 'input.subject']);
    const badEnum = await call(CREATE, { input: { customerId: customerA, subject: 'x', type: 'WISH' } });
    expect(badEnum.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badFirst = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { tickets(first: 0) { id } } } }`, {
      r: [{ __typename: 'Customer', id: customerA }],
    });
    expect(badFirst.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await running.deps.connection.collection('tickets').countDocuments()).toBe(before);
  });

  it('forbids roles without service-desk access, and callers without secret or token', async () => {
    const forbidden = await call(`{ tickets { totalCount } }`, {}, marketerToken);
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const noSecret = await call(`{ tickets { totalCount } }`, {}, agentToken, null);
    expect(noSecret.status).toBe(403);
    const noToken = await call(`{ tickets { totalCount } }`, {}, null);
    expect(noToken.status).toBe(401);
    expect(noToken.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('reports ready', async () => {
    const ready = await fetch(running.url.replace(/\/graphql$/, '/readyz'));
    expect(ready.status).toBe(200);
  });
});
