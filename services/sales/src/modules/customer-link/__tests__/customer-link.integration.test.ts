import { Types } from 'mongoose';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher, type CloudEvent } from '@crm/events';
import { createLogger } from '@crm/logger';
import { eventually, uniqueName, watchTopic } from '@crm/testing';
import { cny, distinctTypes, someId, startSalesKit } from '../../opportunity/__tests__/sales-kit.js';
import { customerLinkGroupId, CustomerLinkRegistry } from '@crm/customer-link';

const kit = await startSalesKit(['opportunity', 'lead']);
const { call, db, prefix, infra } = kit;
// Stands for the customers service: the same topic namespace as the service under test.
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('customers-stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const customersService = new KafkaEventPublisher(kafka);
const deadLetters = await watchTopic(infra, `${prefix}.customer.dlq`);

afterAll(async () => {
  await deadLetters.stop();
  await kafka.disconnect();
  await kit.stop();
});

/** `customer.merged` as services/customers publishes it (CustomerMergedData: a snapshot of the survivor plus the two ids). */
const customerMerged = (survivorId: string, mergedId: string): CloudEvent =>
  createEvent({
    source: '/crm/customers',
    type: 'customer.merged',
    subject: survivorId,
    data: { customerId: survivorId, name: 'Survivor', organization: null, lifecycleStage: 'CUSTOMER', ownerId: 'someone', department: 'sales', version: 4, survivorId, mergedId },
  });

const createOpportunity = async (customerId: string, name: string) => {
  const result = await call(`mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id } }`, {
    input: { customerId, name, amount: cny(1_000), expectedCloseDate: '2026-12-01T00:00:00Z' },
  });
  expect(result.errors).toBeUndefined();
  return result.data!.createOpportunity.id as string;
};
const convertedLead = async (customerId: string) => {
  const { id } = (await call(`mutation { createLead(input: { name: "Merged lead", email: "merged@example.cn", source: OTHER }) { id } }`)).data!.createLead;
  for (const status of ['CONTACTED', 'QUALIFIED']) await call(`mutation($id: ID!, $s: LeadStatus!) { changeLeadStatus(id: $id, status: $s) { id } }`, { id, s: status });
  const converted = await call(`mutation($id: ID!, $c: ID!) { convertLead(id: $id, input: { customerId: $c }) { customerId } }`, { id, c: customerId });
  expect(converted.data!.convertLead.customerId).toBe(customerId);
  return id as string;
};
const customerOf = async (collection: string, id: string) => (await db.collection(collection).findOne({ _id: new Types.ObjectId(id) }))?.customerId;

describe('customer.merged re-points sales records (customer-link)', () => {
  it('moves every opportunity and lead of the merged-away customer to the survivor, each with its event, once', async () => {
    const [mergedId, survivorId, bystander] = [someId(), someId(), someId()];
    const opportunityIds = [await createOpportunity(mergedId, 'From merged 1'), await createOpportunity(mergedId, 'From merged 2')];
    const untouched = await createOpportunity(bystander, 'Someone else');
    const leadId = await convertedLead(mergedId);
    // Settled first (the re-pointing writes new versions).
    await eventually(async () => (await db.collection('opportunities').countDocuments({ 'pendingEvents.0': { $exists: true } })) === 0, 10_000);

    const event = customerMerged(survivorId, mergedId);
    await customersService.publish([event]);
    await eventually(async () => (await db.collection('opportunities').countDocuments({ customerId: survivorId })) === 2, 15_000);
    await eventually(async () => (await customerOf('leads', leadId)) === survivorId, 5_000);
    expect(await customerOf('opportunities', untouched)).toBe(bystander);
    expect(await db.collection('opportunities').countDocuments({ customerId: mergedId })).toBe(0);

    for (const id of opportunityIds) {
      const { event: updated } = await kit.watchers.opportunity!.find((e) => e.subject === id && e.type === 'opportunity.updated');
      expect(updated.data).toMatchObject({ opportunityId: id, customerId: survivorId, changed: ['customerId'], version: 2 });
    }
    const { event: leadUpdated } = await kit.watchers.lead!.find((e) => e.subject === leadId && e.type === 'lead.updated' && e.data.changed?.includes('customerId'));
    expect(leadUpdated.data).toMatchObject({ leadId, changed: ['customerId'] });

    // Through the API: the survivor has them, the merged id none.
    const CUSTOMER = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id opportunities { totalCount } leads { totalCount } } } }`;
    const read = await call(CUSTOMER, { r: [{ __typename: 'Customer', id: survivorId }, { __typename: 'Customer', id: mergedId }] });
    expect(read.data!._entities).toEqual([
      { id: survivorId, opportunities: { totalCount: 2 }, leads: { totalCount: 1 } },
      { id: mergedId, opportunities: { totalCount: 0 }, leads: { totalCount: 0 } },
    ]);

    // Redelivered (same id) and replayed (new id): nothing moves again.
    await customersService.publish([event, customerMerged(survivorId, mergedId)]);
    const processed = db.collection('processed_events');
    await eventually(async () => (await processed.countDocuments({ groupId: customerLinkGroupId(prefix, 'sales') })) === 2, 10_000);
    await eventually(async () => (await db.collection('opportunities').countDocuments({ 'pendingEvents.0': { $exists: true } })) === 0, 5_000);
    for (const id of opportunityIds) {
      expect(distinctTypes(kit.watchers.opportunity!.seen, id)).toEqual(['opportunity.created', 'opportunity.updated']);
      expect((await db.collection('opportunities').findOne({ _id: new Types.ObjectId(id) }))?.version).toBe(2);
    }
  });

  it('parks a customer.merged without valid ids on the dead-letter topic', async () => {
    const bad = createEvent({ source: '/crm/customers', type: 'customer.merged', subject: 'x', data: { survivorId: 'x', mergedId: null } });
    await customersService.publish([bad]);
    const parked = await deadLetters.find((e) => e.id === bad.id, 15_000);
    expect(parked.headers['x-dlq-reason']).toContain('PoisonEventError');
    expect(parked.headers['x-dlq-group']).toBe(customerLinkGroupId(prefix, 'sales'));
  });

  it('runs every registered module, and refuses registering one twice', async () => {
    const calls: string[] = [];
    const registry = new CustomerLinkRegistry()
      .register('quotes', async (from, to) => (calls.push(`quotes ${from}->${to}`), 3))
      .register('orders', async (from, to) => (calls.push(`orders ${from}->${to}`), 0));
    expect(registry.modules).toEqual(['quotes', 'orders']);
    expect(await registry.repoint('a', 'b')).toEqual({ quotes: 3, orders: 0 });
    expect(calls).toEqual(['quotes a->b', 'orders a->b']);
    expect(() => registry.register('quotes', async () => 0)).toThrow(/twice/);
    expect(kit.running.services.customerLinks.modules).toEqual(expect.arrayContaining(['leads', 'opportunities']));
  });
});

describe('customer.erased erases sales records (customer-link)', () => {
  it('customer.erased redacts the person\'s sales records one document at a time in step with the relay', async () => {
    const customerId = someId();
    const opportunityId = await createOpportunity(customerId, 'Erase me');
    const leadId = await convertedLead(customerId);
    const bulk = vi.spyOn(kit.running.deps.relay, 'updateMatching');
    await customersService.publish([createEvent({ source: '/crm/customers', type: 'customer.erased', subject: customerId, data: { customerId, erasedBy: 'admin', version: 3, portalUserId: null } })]);
    const lead = await eventually(async () => {
      const stored = await db.collection('leads').findOne({ _id: new Types.ObjectId(leadId) });
      return stored?.name === '[erased]' ? stored : undefined;
    }, 30_000, 200);
    expect(lead).toMatchObject({ email: null, phones: [], conversion: expect.objectContaining({ contact: null }) });
    expect(await db.collection('opportunities').findOne({ _id: new Types.ObjectId(opportunityId) })).toMatchObject({ name: '[erased]', description: null });
    // FerretDB v1: a bulk rewrite racing the relay's removal of a record's events could bring the text back.
    expect(new Set(bulk.mock.calls.map(([model]) => model.collection.collectionName))).toEqual(new Set(['leads', 'opportunities', 'quotes', 'contracts', 'orders', 'expenses']));
    bulk.mockRestore();
  });
});
