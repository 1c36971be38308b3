import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutboxRelay } from '@crm/events';
import { connectMongo } from '@crm/mongo';
import { OnceClaims, Scheduler } from '@crm/scheduler';
import { cny, fieldsOf, startSalesKit } from '../../order/__tests__/kit.js';
import { contractModel } from '../contract.model.js';
import { ContractService } from '../contract.service.js';

const kit = await startSalesKit({ CONTRACT_RENEWAL_LEAD_DAYS: '30' }, ['contract']);
const { call, tokens, collection, customerId } = kit;
const contractEvents = kit.watchers.contract!;
afterAll(() => kit.stop());

const DAY = 86_400_000;
const FIELDS = `id customerId customer { id } title status value { amountMinor currency } startDate endDate signedAt terminatedAt terminationReason expiredAt
  company { name signatory { name title } } customerParty { name signatory { name title } } quoteId orderIds renewalReminderSentAt version ownerId`;
const CREATE = `mutation($input: CreateContractInput!) { createContract(input: $input) { ${FIELDS} } }`;
const ACTIVATE = `mutation($id: ID!, $input: ActivateContractInput, $v: Int) { activateContract(id: $id, input: $input, expectedVersion: $v) { ${FIELDS} } }`;
const GET = `query($id: ID!) { contract(id: $id) { ${FIELDS} } }`;
const signatories = { companySignatory: { name: 'Zhao Lei', title: 'Sales Director' }, customerSignatory: { name: 'Prof. Chen', title: 'Dean' } };
const iso = (ms: number) => new Date(ms).toISOString();

async function activeContract(endInMs: number, token = tokens['sales.rep'], customer = customerId()) {
  const created = await call(CREATE, { input: { customerId: customer, title: 'Annual licence', value: cny(12_000_000), startDate: iso(Date.now() - 300 * DAY), endDate: iso(Date.now() + endInMs), ...signatories } }, token);
  if (created.errors) throw new Error(JSON.stringify(created.errors));
  const activated = await call(ACTIVATE, { id: created.data!.createContract.id }, token);
  if (activated.errors) throw new Error(JSON.stringify(activated.errors));
  return activated.data!.activateContract;
}

/** Another replica of the service: its own connection, claims and contract service on the same database. */
async function replica() {
  const connection = await connectMongo({ url: kit.infra.mongoUrl, dbName: kit.rawEnv.MONGO_DB! });
  // Its events stay in the contracts' outbox; the running service's relay publishes them.
  const relay = { notify: () => undefined } as unknown as OutboxRelay;
  const contracts = new ContractService(contractModel(connection), relay, { renewalLeadDays: 30, companyName: 'Replica', claims: new OnceClaims(connection) });
  const scheduler = new Scheduler([{ name: 'contract-renewal-due', run: (now) => contracts.sendRenewalReminders(now) }, { name: 'contract-expiry', run: (now) => contracts.expireEnded(now) }], {
    intervalMs: 0,
    logger: { info: () => undefined, warn: () => undefined } as never,
  });
  return { scheduler, close: () => connection.close() };
}

describe('contracts (SAL-5) against real Mongo, Kafka and Keycloak', () => {
  it('drafts a contract between our company and the customer, then signs it (ACTIVE, signedAt)', async () => {
    const created = await call(CREATE, {
      input: { customerId: customerId(), title: 'Campus licence 2027', value: cny(50_000_000), startDate: '2027-01-01T00:00:00Z', endDate: '2027-12-31T23:59:59Z', customerPartyName: 'Fudan University' },
    });
    expect(created.errors).toBeUndefined();
    const contract = created.data!.createContract;
    expect(contract).toMatchObject({ status: 'DRAFT', signedAt: null, company: { name: 'CRM Platform Co., Ltd.', signatory: null }, customerParty: { name: 'Fudan University' }, value: cny(50_000_000), version: 1 });
    expect(contract.customer).toEqual({ id: contract.customerId });
    await contractEvents.find((e) => e.subject === contract.id && e.type === 'contract.created', 15_000);

    const unsigned = await call(ACTIVATE, { id: contract.id });
    expect(unsigned.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'CONTRACT_INVALID_INPUT' });
    expect(fieldsOf(unsigned)).toEqual(['input.companySignatory', 'input.customerSignatory']);
    const signed = await call(ACTIVATE, { id: contract.id, input: { ...signatories, signedAt: '2026-11-20T10:00:00Z' }, v: 1 });
    expect(signed.errors).toBeUndefined();
    expect(signed.data!.activateContract).toMatchObject({ status: 'ACTIVE', signedAt: '2026-11-20T10:00:00.000Z', company: { signatory: { name: 'Zhao Lei' } }, version: 2 });
    const event = await contractEvents.find((e) => e.subject === contract.id && e.type === 'contract.activated');
    expect(event.event.data).toMatchObject({ contractId: contract.id, status: 'ACTIVE', signedAt: '2026-11-20T10:00:00.000Z', value: cny(50_000_000) });
  });

  it('allows only DRAFT → ACTIVE → TERMINATED | EXPIRED (and DRAFT → TERMINATED); only drafts are edited', async () => {
    const contract = await activeContract(200 * DAY);
    const edit = await call(`mutation($id: ID!) { updateContract(id: $id, input: { title: "New" }) { id } }`, { id: contract.id });
    expect(edit.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CONTRACT_NOT_EDITABLE' });
    const again = await call(ACTIVATE, { id: contract.id });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'CONTRACT_INVALID_TRANSITION' });
    const terminated = await call(`mutation($id: ID!) { terminateContract(id: $id, reason: "Customer went bankrupt") { status terminatedAt terminationReason } }`, { id: contract.id });
    expect(terminated.data!.terminateContract).toMatchObject({ status: 'TERMINATED', terminationReason: 'Customer went bankrupt' });
    expect((await call(ACTIVATE, { id: contract.id })).errors?.[0]?.extensions?.reason).toBe('CONTRACT_INVALID_TRANSITION');
    await contractEvents.find((e) => e.subject === contract.id && e.type === 'contract.terminated');

    const bad = await call(CREATE, { input: { customerId: 'x', title: ' ', value: { amountMinor: -1, currency: 'CNY' }, startDate: '2027-01-02T00:00:00Z', endDate: '2027-01-01T00:00:00Z' } });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(fieldsOf(bad).sort()).toEqual(['input.customerId', 'input.endDate', 'input.title', 'input.value.amountMinor']);
  });

  it('raises contract.renewal-due exactly once per contract, with two scheduler replicas ticking at once and after a restart', async () => {
    const due = await activeContract(10 * DAY);
    const later = await activeContract(90 * DAY);
    const [a, b] = [await replica(), await replica()];
    const runs = await Promise.all([a.scheduler.tick(), b.scheduler.tick(), a.scheduler.tick(), b.scheduler.tick(), kit.running.scheduler.tick()]);
    expect(runs.reduce((sum, r) => sum + (r['contract-renewal-due'] ?? 0), 0)).toBe(1);
    // A "restarted" replica (fresh instance, same database) finds nothing left to send.
    const c = await replica();
    expect(await c.scheduler.tick()).toMatchObject({ 'contract-renewal-due': 0 });
    await Promise.all([a.close(), b.close(), c.close()]);

    // The replicas' events are left-overs for the running relay's poller: it takes those that waited
    // 10 s (leftOverAfterMs), on its next poll (backed off to at most 30 s while idle).
    const event = await contractEvents.find((e) => e.subject === due.id && e.type === 'contract.renewal-due', 60_000);
    expect(event.event.data).toMatchObject({ contractId: due.id, status: 'ACTIVE', daysLeft: 10, leadDays: 30 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(contractEvents.seen.filter((e) => e.event.type === 'contract.renewal-due' && e.event.subject === due.id)).toHaveLength(1);
    expect(contractEvents.seen.filter((e) => e.event.type === 'contract.renewal-due' && e.event.subject === later.id)).toHaveLength(0);
    expect((await call(GET, { id: due.id })).data!.contract.renewalReminderSentAt).toEqual(expect.any(String));

    const within = await call(`query($d: Int) { contractsDueForRenewal(withinDays: $d) { id } }`, { d: 30 });
    expect(within.data!.contractsDueForRenewal.map((x: any) => x.id)).toContain(due.id);
    expect(within.data!.contractsDueForRenewal.map((x: any) => x.id)).not.toContain(later.id);
    const defaultWindow = await call(`{ contractsDueForRenewal { id } }`);
    expect(defaultWindow.data!.contractsDueForRenewal.map((x: any) => x.id)).toContain(due.id);
    const wide = await call(`query($d: Int) { contractsDueForRenewal(withinDays: $d) { id } }`, { d: 100 });
    expect(wide.data!.contractsDueForRenewal.map((x: any) => x.id)).toEqual(expect.arrayContaining([due.id, later.id]));
    const negative = await call(`{ contractsDueForRenewal(withinDays: -1) { id } }`);
    expect(negative.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'withinDays' }] });
  }, 90_000);

  it('expires a contract past its end: EXPIRED on read at once, stored once by the scheduler with contract.expired', async () => {
    const ending = await activeContract(1_500);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    expect((await call(GET, { id: ending.id })).data!.contract).toMatchObject({ status: 'EXPIRED', expiredAt: null });
    const terminate = await call(`mutation($id: ID!) { terminateContract(id: $id, reason: "late") { status } }`, { id: ending.id });
    expect(terminate.errors?.[0]?.extensions?.reason).toBe('CONTRACT_INVALID_TRANSITION');
    const other = await replica();
    const runs = await Promise.all([other.scheduler.tick(), kit.running.scheduler.tick()]);
    await other.close();
    expect(runs.reduce((sum, r) => sum + (r['contract-expiry'] ?? 0), 0)).toBe(1);
    expect((await call(GET, { id: ending.id })).data!.contract).toMatchObject({ status: 'EXPIRED', expiredAt: expect.any(String) });
    await contractEvents.find((e) => e.subject === ending.id && e.type === 'contract.expired');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(contractEvents.seen.filter((e) => e.event.type === 'contract.expired' && e.event.subject === ending.id)).toHaveLength(1);
  });

  it('shows contracts by ownership in lists, customer { contracts }, renewal lists and entities', async () => {
    const customer = customerId();
    const mine = await activeContract(20 * DAY, tokens['sales.rep'], customer);
    const stored = await collection('contracts').findOne({ _id: Types.ObjectId.createFromHexString(mine.id) });
    const west = new Types.ObjectId();
    await collection('contracts').insertOne({ ...stored, _id: west, ownerId: 'someone-west', ownerTeams: ['sales-west'], pendingEvents: [] });
    const CUSTOMER_CONTRACTS = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { contracts { totalCount } } } }`;
    const r = [{ __typename: 'Customer', id: customer }];
    const total = async (token: string) => (await call(CUSTOMER_CONTRACTS, { r }, token)).data!._entities[0].contracts.totalCount;
    expect(await total(tokens['sales.rep'])).toBe(1);
    expect(await total(tokens['sales.manager'])).toBe(2);
    expect(await total(tokens.analyst)).toBe(2);
    const dueForRep = (await call(`{ contractsDueForRenewal(withinDays: 30) { id } }`, {}, tokens['sales.rep'])).data!.contractsDueForRenewal.map((c: any) => c.id);
    expect(dueForRep).toContain(mine.id);
    expect(dueForRep).not.toContain(west.toHexString());
    const entity = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Contract { id } } }`, { r: [{ __typename: 'Contract', id: west.toHexString() }] });
    expect(entity.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await call(`{ contracts { totalCount } }`, {}, tokens.marketer)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const analystTerminate = await call(`mutation($id: ID!) { terminateContract(id: $id, reason: "x") { id } }`, { id: mine.id }, tokens.analyst);
    expect(analystTerminate.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const managerTerminate = await call(`mutation($id: ID!) { terminateContract(id: $id, reason: "x") { status } }`, { id: west.toHexString() }, tokens['sales.manager']);
    expect(managerTerminate.data!.terminateContract.status).toBe('TERMINATED');
  });
});
