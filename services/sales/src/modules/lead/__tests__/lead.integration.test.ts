import { Types } from 'mongoose';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { eventually } from '@crm/testing';
import { cny, distinctTypes, fieldsOf, someId, startSalesKit, type User } from '../../opportunity/__tests__/sales-kit.js';
import { customerIdForLead, opportunityIdForLead } from '../lead.service.js';

const kit = await startSalesKit(['lead', 'opportunity']);
const { call, db, idOf, opened } = kit;
const leadEvents = kit.watchers.lead!;
const opportunityEvents = kit.watchers.opportunity!;
const leads = () => db.collection('leads');
const opportunities = () => db.collection('opportunities');

afterAll(() => kit.stop());

const LEAD = `id name email phones company title notes source campaignCode status disqualifiedReason ownerId department ownerTeams
  customerId customer { id } opportunityId convertedAt convertedBy version createdAt updatedAt`;
const create = (input: Record<string, unknown>, as: User = 'sales.rep') => call(`mutation($input: CreateLeadInput!) { createLead(input: $input) { ${LEAD} } }`, { input }, as);
const status = (id: string, s: string, extra: { reason?: string; expectedVersion?: number } = {}, as: User = 'sales.rep') =>
  call(`mutation($id: ID!, $s: LeadStatus!, $r: String, $v: Int) { changeLeadStatus(id: $id, status: $s, reason: $r, expectedVersion: $v) { ${LEAD} } }`, { id, s, r: extra.reason, v: extra.expectedVersion }, as);
const CONVERT = `mutation($id: ID!, $input: ConvertLeadInput!, $v: Int) { convertLead(id: $id, input: $input, expectedVersion: $v) {
  customerId newCustomer lead { ${LEAD} }
  opportunity { id name customerId leadId amount { amountMinor currency } stage probability ownerId campaignCode stageHistory { from to by } } } }`;
const convert = (id: string, input: Record<string, unknown>, as: User = 'sales.rep', expectedVersion?: number) => call(CONVERT, { id, input, v: expectedVersion }, as);
const get = (id: string, as: User) => call(`query($id: ID!) { lead(id: $id) { id status } }`, { id }, as);
/** A lead of `as`, moved to QUALIFIED. */
async function qualifiedLead(input: Record<string, unknown>, as: User = 'sales.rep') {
  const created = await create({ source: 'WEBSITE', ...input }, as);
  expect(created.errors).toBeUndefined();
  const id = created.data!.createLead.id as string;
  expect((await status(id, 'CONTACTED', {}, as)).errors).toBeUndefined();
  const qualified = await status(id, 'QUALIFIED', {}, as);
  expect(qualified.errors).toBeUndefined();
  return qualified.data!.changeLeadStatus;
}

describe('leads (SAL-2)', () => {
  it('creates a lead with normalised contact details, owned by its creator, and publishes lead.created', async () => {
    const result = await create({
      name: '  王芳 ',
      email: ' Wang.Fang@Example.CN ',
      phones: ['138 0013 8000', '+86 138-0013-8000', '+1 (212) 555-0100'],
      company: ' 复旦大学 ',
      title: 'Head of IT',
      source: 'CAMPAIGN',
      campaignCode: 'spring-26',
    });
    expect(result.errors).toBeUndefined();
    const lead = result.data!.createLead;
    expect(lead).toMatchObject({
      name: '王芳',
      email: 'wang.fang@example.cn',
      // Chinese mobile typed without country code, the same number in E.164, a US number: two distinct.
      phones: ['+8613800138000', '+12125550100'],
      company: '复旦大学',
      source: 'CAMPAIGN',
      campaignCode: 'SPRING-26',
      status: 'NEW',
      ownerId: idOf('sales.rep'),
      department: 'sales',
      ownerTeams: ['sales-east'],
      customerId: null,
      customer: null,
      version: 1,
    });
    const { key, event } = await leadEvents.find((e) => e.subject === lead.id && e.type === 'lead.created');
    expect(key).toBe(lead.id);
    // The name and company travel sealed with the lead's own key (SYS-6); opened, they are the lead's.
    expect(event.data).toMatchObject({ leadId: lead.id, source: 'CAMPAIGN', status: 'NEW', sealed: { fields: ['name', 'company'] } });
    for (const value of ['王芳', '复旦大学']) expect(JSON.stringify(event)).not.toContain(value);
    expect(await opened(event)).toMatchObject({ source: '/crm/sales', data: { leadId: lead.id, name: '王芳', company: '复旦大学', source: 'CAMPAIGN', campaignCode: 'SPRING-26', status: 'NEW', ownerId: idOf('sales.rep'), version: 1 } });
    // Contact details stay in this service except in lead.converted.
    expect(JSON.stringify((await opened(event)).data)).not.toContain('13800138000');
    await eventually(async () => ((await leads().findOne({ name: '王芳' }))?.pendingEvents ?? [1]).length === 0);
  });

  it('refuses invalid leads with BAD_USER_INPUT per field, writing nothing', async () => {
    const before = await leads().countDocuments();
    const bad = await create({ name: ' ', email: 'not-an-email', phones: ['12345'], source: 'WEBSITE', campaignCode: '-x' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'LEAD_INVALID_INPUT' });
    expect(fieldsOf(bad)).toEqual(['input.campaignCode', 'input.email', 'input.name', 'input.phones.0']);
    const unreachable = await create({ name: 'No contact', source: 'OTHER' });
    expect(fieldsOf(unreachable)).toEqual(['input.email']);
    expect(await leads().countDocuments()).toBe(before);
  });

  it('moves through the allowed statuses only, with a reason to disqualify and version checks', async () => {
    const { id } = (await create({ name: 'Li Lei', phones: ['13900139000'], source: 'EVENT' })).data!.createLead;
    const skip = await status(id, 'QUALIFIED');
    expect(skip.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEAD_STATUS_TRANSITION', fields: [{ field: 'status' }] });
    const contacted = await status(id, 'CONTACTED', { expectedVersion: 1 });
    expect(contacted.data!.changeLeadStatus).toMatchObject({ status: 'CONTACTED', version: 2 });
    const stale = await status(id, 'QUALIFIED', { expectedVersion: 1 });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEAD_VERSION_CONFLICT' });
    const noReason = await status(id, 'DISQUALIFIED');
    expect(noReason.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'reason' }] });
    const disqualified = await status(id, 'DISQUALIFIED', { reason: 'No budget this year' });
    expect(disqualified.data!.changeLeadStatus).toMatchObject({ status: 'DISQUALIFIED', disqualifiedReason: 'No budget this year', version: 3 });
    expect((await status(id, 'QUALIFIED')).errors?.[0]?.extensions?.reason).toBe('LEAD_STATUS_TRANSITION');
    const reopened = await status(id, 'CONTACTED');
    expect(reopened.data!.changeLeadStatus).toMatchObject({ status: 'CONTACTED', disqualifiedReason: null });
    const qualified = await status(id, 'QUALIFIED');
    expect(qualified.data!.changeLeadStatus).toMatchObject({ status: 'QUALIFIED', version: 5 });
    const direct = await status(id, 'CONVERTED');
    expect(direct.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'status' }] });

    await leadEvents.find((e) => e.subject === id && e.type === 'lead.qualified');
    expect(distinctTypes(leadEvents.seen, id)).toEqual(['lead.created', 'lead.updated', 'lead.disqualified', 'lead.updated', 'lead.qualified']);
    const disqualifiedEvent = leadEvents.seen.find((s) => s.event.subject === id && s.event.type === 'lead.disqualified')!.event;
    expect(disqualifiedEvent.data).toMatchObject({ leadId: id, status: 'DISQUALIFIED', reason: 'No budget this year', version: 3 });
  });

  it('updates contact details with a version check; a lead keeps an email or a phone', async () => {
    const { id } = (await create({ name: 'Han Mei', email: 'han.mei@example.cn', source: 'REFERRAL' })).data!.createLead;
    const updated = await call(`mutation($id: ID!, $input: UpdateLeadInput!, $v: Int) { updateLead(id: $id, input: $input, expectedVersion: $v) { ${LEAD} } }`, {
      id,
      input: { phones: ['021 6543 2100'], email: null, notes: 'Met at the fair' },
      v: 1,
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateLead).toMatchObject({ phones: ['+862165432100'], email: null, notes: 'Met at the fair', version: 2 });
    const cleared = await call(`mutation($id: ID!) { updateLead(id: $id, input: { phones: [] }) { id } }`, { id });
    expect(cleared.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'input.phones' }] });
    const stale = await call(`mutation($id: ID!) { updateLead(id: $id, input: { notes: "x" }, expectedVersion: 1) { id } }`, { id });
    expect(stale.errors?.[0]?.extensions?.reason).toBe('LEAD_VERSION_CONFLICT');
    const { event } = await leadEvents.find((e) => e.subject === id && e.type === 'lead.updated');
    expect(event.data.changed.sort()).toEqual(['email', 'notes', 'phones']);

    // An id in capitals is the same lead and the same queue as the relay's (it keys by the stored
    // lower-case id): otherwise the change could race the removal of published events (FerretDB v1).
    const queued = vi.spyOn(kit.running.services.leads.serial, 'run');
    const upper = await call(`mutation($id: ID!) { updateLead(id: $id, input: { notes: "Called back" }) { id notes } }`, { id: id.toUpperCase() });
    expect(upper.data!.updateLead).toEqual({ id, notes: 'Called back' });
    expect(queued.mock.calls.map(([key]) => key)).toContain(id);
    queued.mockRestore();
  });

  it('converts a qualified lead into a new customer and an opportunity in one step, once', async () => {
    const lead = await qualifiedLead({ name: '赵敏', email: 'zhao.min@example.cn', phones: ['13700137000'], company: 'Tongji', notes: 'Wants 40 seats', campaignCode: 'EXPO-26' });
    const result = await convert(lead.id, {
      customerOverrides: { company: '同济大学' },
      opportunity: { name: 'Tongji campus licence', amount: cny(12_000_000), expectedCloseDate: '2026-09-30T00:00:00+08:00', need: 'HIGH', competitors: ['Acme CRM'] },
    });
    expect(result.errors).toBeUndefined();
    const payload = result.data!.convertLead;
    const customerId = customerIdForLead(lead.id);
    const opportunityId = opportunityIdForLead(lead.id);
    expect(payload).toMatchObject({ customerId, newCustomer: true });
    expect(payload.lead).toMatchObject({ status: 'CONVERTED', customerId, customer: { id: customerId }, opportunityId, convertedBy: idOf('sales.rep'), version: lead.version + 1 });
    expect(payload.opportunity).toMatchObject({
      id: opportunityId,
      name: 'Tongji campus licence',
      customerId,
      leadId: lead.id,
      amount: cny(12_000_000),
      stage: 'QUALIFICATION',
      probability: 10,
      ownerId: idOf('sales.rep'),
      // The lead's campaign carries over.
      campaignCode: 'EXPO-26',
      stageHistory: [{ from: null, to: 'QUALIFICATION', by: idOf('sales.rep') }],
    });

    const { event } = await leadEvents.find((e) => e.subject === lead.id && e.type === 'lead.converted');
    expect(JSON.stringify(event)).not.toContain('zhao.min@example.cn');
    expect((await opened(event)).data).toMatchObject({
      leadId: lead.id,
      status: 'CONVERTED',
      customerId,
      newCustomer: true,
      contact: { name: '赵敏', email: 'zhao.min@example.cn', phones: ['+8613700137000'], company: '同济大学' },
      notes: 'Wants 40 seats',
      source: 'WEBSITE',
      opportunityId,
      ownerId: idOf('sales.rep'),
      department: 'sales',
      ownerTeams: ['sales-east'],
    });
    const created = await opportunityEvents.find((e) => e.subject === opportunityId && e.type === 'opportunity.created');
    expect(created.event.data).toMatchObject({ opportunityId, customerId, leadId: lead.id, amount: cny(12_000_000), stage: 'QUALIFICATION', probability: 10, competitors: ['Acme CRM'] });

    const again = await convert(lead.id, {});
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEAD_ALREADY_CONVERTED' });
    const update = await call(`mutation($id: ID!) { updateLead(id: $id, input: { notes: "late" }) { id } }`, { id: lead.id });
    expect(update.errors?.[0]?.extensions?.reason).toBe('LEAD_ALREADY_CONVERTED');
    expect(await opportunities().countDocuments({ leadId: lead.id })).toBe(1);
    // Published once: one lead.converted.
    await eventually(async () => ((await leads().findOne({ customerId }))?.pendingEvents ?? [1]).length === 0);
    expect(distinctTypes(leadEvents.seen, lead.id).filter((t) => t === 'lead.converted')).toHaveLength(1);
  });

  it('a conversion interrupted after the lead was marked completes on retry, then refuses', async () => {
    const lead = await qualifiedLead({ name: 'Crash Test', email: 'crash@example.cn' });
    const opportunityId = opportunityIdForLead(lead.id);
    expect((await convert(lead.id, { opportunity: { name: 'Retry deal', amount: cny(500_00), expectedCloseDate: '2026-12-01T00:00:00Z', stage: 'PROPOSAL' } })).errors).toBeUndefined();
    // The crash window: the lead is CONVERTED (with its event) but the opportunity insert never happened.
    const deleted = await opportunities().deleteOne({ _id: (await opportunities().findOne({ leadId: lead.id }))!._id });
    expect(deleted.deletedCount).toBe(1);

    const retried = await convert(lead.id, { opportunity: { name: 'Ignored: the recorded one is created', amount: cny(1), expectedCloseDate: '2027-01-01T00:00:00Z' } });
    expect(retried.errors).toBeUndefined();
    expect(retried.data!.convertLead.opportunity).toMatchObject({ id: opportunityId, name: 'Retry deal', amount: cny(500_00), stage: 'PROPOSAL', probability: 50, leadId: lead.id });
    expect(retried.data!.convertLead.lead).toMatchObject({ status: 'CONVERTED', opportunityId, version: lead.version + 1 });
    expect(await opportunities().countDocuments({ leadId: lead.id })).toBe(1);

    const third = await convert(lead.id, {});
    expect(third.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEAD_ALREADY_CONVERTED' });
    // Only one conversion event: the retry wrote nothing to the lead.
    await eventually(async () => (await opportunities().findOne({ leadId: lead.id }))?.pendingEvents?.length === 0);
    expect(distinctTypes(leadEvents.seen, lead.id).filter((t) => t === 'lead.converted')).toHaveLength(1);
  });

  it('converts into an existing customer without an opportunity; refuses bad conversions, writing nothing', async () => {
    const existing = someId();
    const lead = await qualifiedLead({ name: 'Known Customer', phones: ['13600136000'] });
    const notQualified = (await create({ name: 'Too early', email: 'early@example.cn', source: 'OTHER' })).data!.createLead;
    const early = await convert(notQualified.id, {});
    expect(early.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'LEAD_STATUS_TRANSITION' });

    const both = await convert(lead.id, { customerId: existing, customerOverrides: { name: 'X' } });
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'LEAD_INVALID_INPUT' });
    expect(fieldsOf(both)).toEqual(['input.customerOverrides']);
    const badOpportunity = await convert(lead.id, { customerId: 'nope', opportunity: { name: '', amount: { amountMinor: -1, currency: 'cny' }, expectedCloseDate: '2026-10-01T00:00:00Z', stage: 'WON' } });
    expect(fieldsOf(badOpportunity)).toEqual(['input.customerId', 'input.opportunity.amount.amountMinor', 'input.opportunity.amount.currency', 'input.opportunity.name']);
    const wonStage = await convert(lead.id, { opportunity: { name: 'Closed already', amount: cny(1), expectedCloseDate: '2026-10-01T00:00:00Z', stage: 'WON' } });
    expect(fieldsOf(wonStage)).toEqual(['input.opportunity.stage']);
    const stale = await convert(lead.id, { customerId: existing }, 'sales.rep', lead.version - 1);
    expect(stale.errors?.[0]?.extensions?.reason).toBe('LEAD_VERSION_CONFLICT');
    expect(await leads().findOne({ _id: (await leads().findOne({ name: 'Known Customer' }))!._id })).toMatchObject({ status: 'QUALIFIED', version: lead.version });

    const result = await convert(lead.id, { customerId: existing.toUpperCase() }, 'sales.rep', lead.version);
    expect(result.errors).toBeUndefined();
    expect(result.data!.convertLead).toMatchObject({ customerId: existing, newCustomer: false, opportunity: null, lead: { status: 'CONVERTED', customerId: existing, opportunityId: null } });
    const { event } = await leadEvents.find((e) => e.subject === lead.id && e.type === 'lead.converted');
    expect((await opened(event)).data).toMatchObject({ customerId: existing, newCustomer: false, contact: null, opportunityId: null });
  });

  it('shows reps their own and their teams\' leads, managers their department\'s, admins and analysts all; only owners change them', async () => {
    const repLead = (await create({ name: 'Rep lead', email: 'rep.lead@example.cn', source: 'COLD_CALL' }, 'sales.rep')).data!.createLead;
    const rep2Lead = (await create({ name: 'Rep2 lead', email: 'rep2.lead@example.cn', source: 'COLD_CALL' }, 'sales.rep2')).data!.createLead;
    const adminLead = (await create({ name: 'Admin lead', email: 'admin.lead@example.cn', source: 'COLD_CALL' }, 'admin')).data!.createLead;
    expect(rep2Lead).toMatchObject({ ownerId: idOf('sales.rep2'), department: 'sales', ownerTeams: ['sales-east'] });
    expect(adminLead).toMatchObject({ department: 'management', ownerTeams: [] });
    // Another rep of the sales department in another team (no demo user is).
    const template = (await leads().findOne({ name: 'Rep lead' }))!;
    await leads().insertOne({ ...template, _id: new Types.ObjectId(), name: 'West lead', ownerId: 'west-rep', ownerTeams: ['sales-west'], pendingEvents: [] });
    const visible = async (as: User) => {
      const result = await call(`{ leads(filter: { sources: [COLD_CALL] }, first: 100) { totalCount edges { node { name } } } }`, {}, as);
      expect(result.errors).toBeUndefined();
      return result.data!.leads.edges.map((e: any) => e.node.name).sort();
    };
    // Both demo reps are in team sales-east.
    expect(await visible('sales.rep')).toEqual(['Rep lead', 'Rep2 lead']);
    expect(await visible('sales.rep2')).toEqual(['Rep lead', 'Rep2 lead']);
    expect(await visible('sales.manager')).toEqual(['Rep lead', 'Rep2 lead', 'West lead']);
    expect(await visible('admin')).toEqual(['Admin lead', 'Rep lead', 'Rep2 lead', 'West lead']);
    expect(await visible('analyst')).toEqual(['Admin lead', 'Rep lead', 'Rep2 lead', 'West lead']);
    const marketer = await call(`{ leads { totalCount } }`, {}, 'marketer');
    expect(marketer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await get(adminLead.id, 'sales.rep')).data!.lead).toBeNull();
    expect((await get(adminLead.id, 'sales.manager')).data!.lead).toBeNull();
    expect((await get(repLead.id, 'sales.rep2')).data!.lead).toMatchObject({ id: repLead.id });
    expect((await get(repLead.id, 'customer')).data!.lead).toBeNull();

    // Not visible: NOT_FOUND (existence not revealed); visible but read-only: FORBIDDEN.
    expect((await status(adminLead.id, 'CONTACTED', {}, 'sales.rep')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await status(repLead.id, 'CONTACTED', {}, 'analyst')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await create({ name: 'By analyst', email: 'a@example.cn', source: 'OTHER' }, 'analyst')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // A team-mate may work the lead; the manager too.
    expect((await status(repLead.id, 'CONTACTED', {}, 'sales.rep2')).data!.changeLeadStatus.status).toBe('CONTACTED');
    expect((await status(repLead.id, 'DISQUALIFIED', { reason: 'Duplicate' }, 'sales.manager')).data!.changeLeadStatus.status).toBe('DISQUALIFIED');

    // Lead entities for other subgraphs: the same visibility.
    const entities = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Lead { id name email phones } } }`, {
      r: [{ __typename: 'Lead', id: repLead.id }, { __typename: 'Lead', id: adminLead.id }],
    }, 'sales.rep');
    expect(entities.errors).toBeUndefined();
    expect(entities.data!._entities).toEqual([{ id: repLead.id, name: 'Rep lead', email: 'rep.lead@example.cn', phones: [] }, null]);
  });

  it('lists with filters, search on name, company, email and phone digits, and cursor paging', async () => {
    for (const [name, phone, company] of [['Search Alpha', '13500135001', 'Peking University'], ['Search Beta', '13500135002', 'Zhejiang'], ['Search Gamma', '13500135003', 'Peking Union']]) {
      expect((await create({ name, phones: [phone], company, source: 'REFERRAL', campaignCode: 'FIND-ME' })).errors).toBeUndefined();
    }
    const LIST = `query($search: String, $after: String, $filter: LeadFilter) { leads(search: $search, first: 2, after: $after, filter: $filter) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } }`;
    const names = (r: any) => r.data!.leads.edges.map((e: any) => e.node.name);
    expect(names(await call(LIST, { search: 'peking', filter: { campaignCode: 'find-me' } }))).toEqual(['Search Gamma', 'Search Alpha']);
    expect(names(await call(LIST, { search: '135 0013 5002' }))).toEqual(['Search Beta']);
    const first = await call(LIST, { filter: { campaignCode: 'FIND-ME' } });
    expect(first.data!.leads).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    expect(names(first)).toEqual(['Search Gamma', 'Search Beta']);
    const second = await call(LIST, { filter: { campaignCode: 'FIND-ME' }, after: first.data!.leads.pageInfo.endCursor });
    expect(names(second)).toEqual(['Search Alpha']);
    expect(second.data!.leads.pageInfo.hasNextPage).toBe(false);
    const statuses = await call(`{ leads(filter: { statuses: [CONVERTED] }, first: 100) { totalCount } }`);
    expect(statuses.data!.leads.totalCount).toBe(3);
    const empty = await call(LIST, { search: '   ' });
    expect(empty.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'search' }] });
  });

  it('adds Customer.leads: the leads converted into a customer', async () => {
    const lead = await qualifiedLead({ name: 'Into customer', email: 'into@example.cn' });
    const customerId = someId();
    expect((await convert(lead.id, { customerId })).errors).toBeUndefined();
    const result = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id leads { totalCount edges { node { id name } } } } } }`, {
      r: [{ __typename: 'Customer', id: customerId }],
    });
    expect(result.errors).toBeUndefined();
    expect(result.data!._entities).toEqual([{ id: customerId, leads: { totalCount: 1, edges: [{ node: { id: lead.id, name: 'Into customer' } }] } }]);
    // Same visibility as the leads list: outside the department, none.
    const other = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { leads { totalCount } } } }`, { r: [{ __typename: 'Customer', id: customerId }] }, 'admin');
    expect(other.data!._entities).toEqual([{ leads: { totalCount: 1 } }]);
    const marketer = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { leads { totalCount } } } }`, { r: [{ __typename: 'Customer', id: customerId }] }, 'marketer');
    expect(marketer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
