import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { createEvent, KafkaClient, KafkaEventPublisher, type CloudEvent } from '@crm/events';
import { createLogger } from '@crm/logger';
import { eventually, login, testInfra, uniqueName, watchTopic } from '@crm/testing';
import { startTestCustomers } from '../../customer/__tests__/helpers.js';
import { leadConversionGroupId } from '../lead-conversion.consumer.js';

const infra = await testInfra();
const { running, rawEnv, call, opened } = await startTestCustomers(infra);
const prefix = rawEnv.KAFKA_TOPIC_PREFIX!;
const token = await login(infra, 'sales.rep');
const managerToken = await login(infra, 'sales.manager');
const repId = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub as string;
// Stands for the sales service: the same topic namespace as the service under test.
const kafka = new KafkaClient({ brokers: infra.kafkaBrokers, clientId: uniqueName('sales-stand-in'), logger: createLogger({ service: 'test', level: 'silent' }), topicPrefix: prefix });
const sales = new KafkaEventPublisher(kafka);
const customerEvents = await watchTopic(infra, `${prefix}.customer`);
const deadLetters = await watchTopic(infra, `${prefix}.lead.dlq`);
const customers = () => running.deps.connection.collection('customers');
const processed = () => running.deps.connection.collection('processed_events');

afterAll(async () => {
  await Promise.all([customerEvents.stop(), deadLetters.stop()]);
  await kafka.disconnect();
  await running.deps.connection.dropDatabase();
  await running.stop();
});

/** A 24-hex id as the sales service derives it from the lead id. */
const derived = (leadId: string) => createHash('sha256').update(`test/${leadId}`).digest('hex').slice(0, 24);
/** `lead.converted` as services/sales publishes it (LeadConvertedData). */
const leadConverted = (leadId: string, data: Record<string, unknown> = {}): CloudEvent =>
  createEvent({
    source: '/crm/sales',
    type: 'lead.converted',
    subject: leadId,
    data: {
      leadId,
      name: '赵敏',
      company: 'Tongji',
      source: 'REFERRAL',
      campaignCode: null,
      status: 'CONVERTED',
      ownerId: repId,
      department: 'sales',
      ownerTeams: ['sales-east'],
      createdAt: new Date().toISOString(),
      version: 4,
      customerId: derived(leadId),
      newCustomer: true,
      contact: { name: '赵敏', email: 'zhao.min@example.cn', phones: ['+8613700137000'], company: '同济大学' },
      notes: 'Wants 40 seats',
      opportunityId: null,
      convertedBy: repId,
      convertedAt: new Date().toISOString(),
      ...data,
    },
  });

describe('customers from converted leads (lead.converted)', () => {
  it('creates the customer with the derived id, owned by the lead owner, and publishes customer.created', async () => {
    const leadId = new Types.ObjectId().toHexString();
    const customerId = derived(leadId);
    await sales.publish([leadConverted(leadId)]);
    const { event } = await customerEvents.find((e) => e.subject === customerId && e.type === 'customer.created', 15_000);
    expect((await opened(event)).data).toMatchObject({ customerId, name: '赵敏', organization: '同济大学', lifecycleStage: 'PROSPECT', source: 'REFERRAL', ownerId: repId, department: 'sales' });

    // The lead's owner sees it as their own customer.
    const read = await call(`query($id: ID!) { customer(id: $id) { id name email phones { number } organization source notes lifecycleStage ownerId department } }`, { id: customerId }, token);
    expect(read.errors).toBeUndefined();
    expect(read.data!.customer).toEqual({
      id: customerId,
      name: '赵敏',
      email: 'zhao.min@example.cn',
      phones: [{ number: '+8613700137000' }],
      organization: '同济大学',
      source: 'REFERRAL',
      notes: 'Wants 40 seats',
      lifecycleStage: 'PROSPECT',
      ownerId: repId,
      department: 'sales',
    });
    expect(await customers().findOne({ _id: new Types.ObjectId(customerId) })).toMatchObject({ ownerTeams: ['sales-east'] });
    expect((await call(`query($id: ID!) { customer(id: $id) { id } }`, { id: customerId }, managerToken)).data!.customer).toEqual({ id: customerId });
  });

  it('creates nothing twice: a redelivered or replayed conversion skips the stored id', async () => {
    const leadId = new Types.ObjectId().toHexString();
    const customerId = derived(leadId);
    const first = leadConverted(leadId);
    await sales.publish([first, first, leadConverted(leadId, { contact: { name: 'Changed', email: null, phones: [], company: null } })]);
    const group = leadConversionGroupId(prefix);
    await eventually(async () => (await processed().countDocuments({ groupId: group, eventId: { $in: [first.id] } })) === 1, 15_000);
    await eventually(async () => (await processed().countDocuments({ groupId: group })) >= 3, 15_000);
    expect(await customers().countDocuments({ _id: new Types.ObjectId(customerId) })).toBe(1);
    expect(await customers().findOne({ _id: new Types.ObjectId(customerId) })).toMatchObject({ name: '赵敏', version: 1 });
    await eventually(async () => ((await customers().findOne({ _id: new Types.ObjectId(customerId) }))?.pendingEvents ?? [1]).length === 0, 10_000);
    const distinct = new Set(customerEvents.seen.filter((s) => s.event.subject === customerId).map((s) => s.event.id));
    expect(distinct.size).toBe(1);
  });

  it('does nothing for a conversion into an existing customer and parks malformed events', async () => {
    const leadId = new Types.ObjectId().toHexString();
    const existing = new Types.ObjectId().toHexString();
    const before = await customers().countDocuments();
    const intoExisting = leadConverted(leadId, { customerId: existing, newCustomer: false, contact: null });
    const broken = leadConverted(new Types.ObjectId().toHexString(), { customerId: 'not-an-id' });
    const invalid = leadConverted(new Types.ObjectId().toHexString(), { contact: { name: 'Bad email', email: 'no', phones: [], company: null } });
    await sales.publish([intoExisting, broken, invalid]);
    await eventually(async () => (await processed().countDocuments({ eventId: intoExisting.id })) === 1, 15_000);
    const parked = await deadLetters.find((e) => e.id === broken.id, 15_000);
    expect(parked.headers['x-dlq-reason']).toContain('PoisonEventError');
    const parkedInvalid = await deadLetters.find((e) => e.id === invalid.id, 15_000);
    expect(parkedInvalid.headers['x-dlq-reason']).toContain('"field":"email"');
    expect(await customers().countDocuments()).toBe(before);
  });
});
