import { Types } from 'mongoose';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from '@crm/testing';
import { cny, distinctTypes, fieldsOf, someId, startSalesKit, usd, type User } from './sales-kit.js';

const kit = await startSalesKit(['opportunity']);
const { call, db, idOf } = kit;
const events = kit.watchers.opportunity!;
const opportunities = () => db.collection('opportunities');

afterAll(() => kit.stop());

const OPPORTUNITY = `id name customerId customer { id } leadId amount { amountMinor currency } expectedCloseDate stage status probability probabilityOverridden
  weightedAmount { amountMinor currency } stageHistory { from to at by } need budget decisionProcess priority priorityScore competitors campaignCode
  description closedAt closeReason ownerId department ownerTeams version createdAt updatedAt`;
const create = (input: Record<string, unknown>, as: User = 'sales.rep') =>
  call(`mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { ${OPPORTUNITY} } }`, { input: { customerId: someId(), expectedCloseDate: '2026-10-15T00:00:00Z', ...input } }, as);
const move = (id: string, stage: string, expectedVersion: number, reason?: string, as: User = 'sales.rep') =>
  call(`mutation($id: ID!, $stage: String!, $v: Int!, $reason: String) { moveOpportunity(id: $id, stage: $stage, expectedVersion: $v, reason: $reason) { ${OPPORTUNITY} } }`, { id, stage, v: expectedVersion, reason }, as);
const update = (id: string, input: Record<string, unknown>, expectedVersion?: number, as: User = 'sales.rep') =>
  call(`mutation($id: ID!, $input: UpdateOpportunityInput!, $v: Int) { updateOpportunity(id: $id, input: $input, expectedVersion: $v) { ${OPPORTUNITY} } }`, { id, input, v: expectedVersion }, as);

describe('opportunities (SAL-3)', () => {
  it('creates an opportunity in the first stage with its default probability, a computed priority and opportunity.created', async () => {
    const customerId = someId();
    const result = await create({
      customerId,
      name: '  Campus CRM rollout ',
      amount: cny(9_007_199_254_740_99),
      need: 'HIGH',
      budget: 'HIGH',
      decisionProcess: 'MEDIUM',
      competitors: ['Acme CRM', ' acme crm', 'Globex'],
      campaignCode: 'expo-26',
    });
    expect(result.errors).toBeUndefined();
    const opportunity = result.data!.createOpportunity;
    expect(opportunity).toMatchObject({
      name: 'Campus CRM rollout',
      customerId,
      customer: { id: customerId },
      leadId: null,
      amount: cny(9_007_199_254_740_99),
      expectedCloseDate: '2026-10-15T00:00:00.000Z',
      stage: 'QUALIFICATION',
      status: 'OPEN',
      probability: 10,
      probabilityOverridden: false,
      // 90071992547409.9 rounded half up.
      weightedAmount: cny(90_071_992_547_410),
      // HIGH 3 + HIGH 3 + MEDIUM 2 = 8: P1.
      priority: 'P1',
      priorityScore: 8,
      competitors: ['Acme CRM', 'Globex'],
      campaignCode: 'EXPO-26',
      ownerId: idOf('sales.rep'),
      department: 'sales',
      ownerTeams: ['sales-east'],
      version: 1,
      stageHistory: [{ from: null, to: 'QUALIFICATION', by: idOf('sales.rep') }],
    });
    const { key, event } = await events.find((e) => e.subject === opportunity.id && e.type === 'opportunity.created');
    expect(key).toBe(opportunity.id);
    expect(event).toMatchObject({
      source: '/crm/sales',
      data: { opportunityId: opportunity.id, customerId, ownerId: idOf('sales.rep'), amount: cny(9_007_199_254_740_99), stage: 'QUALIFICATION', status: 'OPEN', probability: 10, priority: 'P1', competitors: ['Acme CRM', 'Globex'] },
    });

    // Priorities at the edges: nothing answered is LOW+LOW+LOW = 3 (P3); 6 is P2; 5 is P3.
    const priorities = await Promise.all([
      create({ name: 'p-none', amount: cny(1) }),
      create({ name: 'p-six', amount: cny(1), need: 'MEDIUM', budget: 'MEDIUM', decisionProcess: 'MEDIUM' }),
      create({ name: 'p-five', amount: cny(1), need: 'HIGH', budget: 'LOW', decisionProcess: 'LOW' }),
      create({ name: 'p-nine', amount: cny(1), need: 'HIGH', budget: 'HIGH', decisionProcess: 'HIGH', stage: 'PROPOSAL', probability: 35 }),
    ]);
    expect(priorities.map((r) => [r.data!.createOpportunity.priority, r.data!.createOpportunity.priorityScore])).toEqual([['P3', 3], ['P2', 6], ['P3', 5], ['P1', 9]]);
    expect(priorities[3]!.data!.createOpportunity).toMatchObject({ stage: 'PROPOSAL', probability: 35, probabilityOverridden: true });
  });

  it('refuses invalid opportunities per field, writing nothing', async () => {
    const before = await opportunities().countDocuments();
    const bad = await call(`mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id } }`, {
      input: { customerId: 'x', name: '', amount: { amountMinor: -5, currency: 'yuan' }, expectedCloseDate: '2026-01-01T00:00:00Z', probability: 101, competitors: [''] },
    });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'OPPORTUNITY_INVALID_INPUT' });
    expect(fieldsOf(bad)).toEqual(['input.amount.amountMinor', 'input.amount.currency', 'input.competitors.0', 'input.customerId', 'input.name', 'input.probability']);
    for (const stage of ['WON', 'LOST', 'NOPE']) {
      expect(fieldsOf(await create({ name: 'Bad stage', amount: cny(1), stage }))).toEqual(['input.stage']);
    }
    const byAnalyst = await create({ name: 'Analyst', amount: cny(1) }, 'analyst');
    expect(byAnalyst.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await opportunities().countDocuments()).toBe(before);
  });

  it('moves through stages with a version check and history; the override gives way to the stage default', async () => {
    const { id } = (await create({ name: 'Move me', amount: cny(100_000), probability: 15 })).data!.createOpportunity;
    const missingVersion = await call(`mutation($id: ID!) { moveOpportunity(id: $id, stage: "PROPOSAL") { id } }`, { id });
    expect(missingVersion.status).toBe(400);
    const stale = await move(id, 'NEEDS_ANALYSIS', 7);
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'OPPORTUNITY_VERSION_CONFLICT' });
    expect(fieldsOf(await move(id, 'NOWHERE', 1))).toEqual(['stage']);
    expect(fieldsOf(await move(id, 'QUALIFICATION', 1))).toEqual(['stage']);

    const moved = await move(id, 'needs_analysis', 1);
    expect(moved.errors).toBeUndefined();
    expect(moved.data!.moveOpportunity).toMatchObject({ stage: 'NEEDS_ANALYSIS', status: 'OPEN', probability: 25, probabilityOverridden: false, weightedAmount: cny(25_000), version: 2 });
    const proposal = (await move(id, 'PROPOSAL', 2, undefined, 'sales.manager')).data!.moveOpportunity;
    expect(proposal).toMatchObject({ stage: 'PROPOSAL', probability: 50, version: 3 });
    expect(proposal.stageHistory.map((h: any) => [h.from, h.to, h.by])).toEqual([
      [null, 'QUALIFICATION', idOf('sales.rep')],
      ['QUALIFICATION', 'NEEDS_ANALYSIS', idOf('sales.rep')],
      ['NEEDS_ANALYSIS', 'PROPOSAL', idOf('sales.manager')],
    ]);
    const read = await call(`query($id: ID!) { opportunity(id: $id) { stageHistory { to } version } }`, { id });
    expect(read.data!.opportunity).toEqual({ stageHistory: [{ to: 'QUALIFICATION' }, { to: 'NEEDS_ANALYSIS' }, { to: 'PROPOSAL' }], version: 3 });

    const { event } = await events.find((e) => e.subject === id && e.type === 'opportunity.stage-changed' && e.data.toStage === 'PROPOSAL');
    expect(event.data).toMatchObject({ opportunityId: id, fromStage: 'NEEDS_ANALYSIS', toStage: 'PROPOSAL', stage: 'PROPOSAL', probability: 50, version: 3 });
  });

  it('lets exactly one of two concurrent moves from the same version win', async () => {
    const { id } = (await create({ name: 'Race', amount: cny(1_000) })).data!.createOpportunity;
    const results = await Promise.all([move(id, 'PROPOSAL', 1), move(id, 'NEGOTIATION', 1, undefined, 'sales.rep2')]);
    const won = results.filter((r) => !r.errors);
    const lost = results.filter((r) => r.errors);
    expect(won).toHaveLength(1);
    expect(lost[0]!.errors?.[0]?.extensions?.reason).toBe('OPPORTUNITY_VERSION_CONFLICT');
    const stored = await opportunities().findOne({ _id: new Types.ObjectId(id) });
    expect(stored).toMatchObject({ version: 2, stage: won[0]!.data!.moveOpportunity.stage });
    expect(stored!.stageHistory).toHaveLength(2);
  });

  it('wins and loses (a reason required to lose); closed opportunities neither move nor change', async () => {
    const customerId = someId();
    const winner = (await create({ customerId, name: 'Winner', amount: usd(250_000), competitors: ['Initech'] })).data!.createOpportunity;
    const won = await move(winner.id, 'WON', 1, 'Best price');
    expect(won.data!.moveOpportunity).toMatchObject({ stage: 'WON', status: 'WON', probability: 100, weightedAmount: usd(250_000), closeReason: 'Best price' });
    expect(won.data!.moveOpportunity.closedAt).toMatch(/Z$/);
    const wonEvent = await events.find((e) => e.subject === winner.id && e.type === 'opportunity.won');
    expect(wonEvent.event.data).toMatchObject({ customerId, ownerId: idOf('sales.rep'), amount: usd(250_000), stage: 'WON', status: 'WON', reason: 'Best price', competitors: ['Initech'] });
    expect(distinctTypes(events.seen, winner.id)).toEqual(['opportunity.created', 'opportunity.stage-changed', 'opportunity.won']);

    const again = await move(winner.id, 'NEGOTIATION', 2);
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'OPPORTUNITY_CLOSED' });
    expect((await update(winner.id, { name: 'Renamed' })).errors?.[0]?.extensions?.reason).toBe('OPPORTUNITY_CLOSED');

    const loser = (await create({ customerId, name: 'Loser', amount: cny(70_000), competitors: ['Globex'] })).data!.createOpportunity;
    const noReason = await move(loser.id, 'LOST', 1, '  ');
    expect(noReason.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', fields: [{ field: 'reason' }] });
    const lost = await move(loser.id, 'LOST', 1, 'Went with Globex');
    expect(lost.data!.moveOpportunity).toMatchObject({ status: 'LOST', probability: 0, weightedAmount: cny(0), closeReason: 'Went with Globex' });
    const lostEvent = await events.find((e) => e.subject === loser.id && e.type === 'opportunity.lost');
    expect(lostEvent.event.data).toMatchObject({ customerId, amount: cny(70_000), stage: 'LOST', reason: 'Went with Globex', competitors: ['Globex'] });
  });

  it('updates open opportunities: override probability, recompute priority, version check, opportunity.updated', async () => {
    const { id } = (await create({ name: 'Editable', amount: cny(10_000), stage: 'NEGOTIATION' })).data!.createOpportunity;
    const edited = await update(id, { probability: 90, need: 'HIGH', budget: 'HIGH', amount: usd(20_000), competitors: ['Umbrella'] }, 1);
    expect(edited.errors).toBeUndefined();
    expect(edited.data!.updateOpportunity).toMatchObject({ probability: 90, probabilityOverridden: true, priority: 'P2', priorityScore: 7, amount: usd(20_000), weightedAmount: usd(18_000), competitors: ['Umbrella'], version: 2 });
    const back = await update(id, { probability: null }, 2);
    expect(back.data!.updateOpportunity).toMatchObject({ probability: 75, probabilityOverridden: false, version: 3 });
    expect((await update(id, { name: 'Stale' }, 2)).errors?.[0]?.extensions?.reason).toBe('OPPORTUNITY_VERSION_CONFLICT');
    expect(fieldsOf(await update(id, { amount: null, probability: -1 }))).toEqual(['input.amount', 'input.probability']);
    const { event } = await events.find((e) => e.subject === id && e.type === 'opportunity.updated' && e.data.version === 2);
    expect(event.data.changed.sort()).toEqual(['amount', 'budget', 'competitors', 'need', 'probability']);
    expect(event.data).toMatchObject({ probability: 90, priority: 'P2' });
    const notMine = await update(id, { name: 'Hijack' }, undefined, 'admin');
    expect(notMine.data!.updateOpportunity.name).toBe('Hijack');
  });

  it('groups the board by stage in pipeline order with counts and sums per currency over all, listing the first perStage', async () => {
    // Own rows for this test: a campaign code nobody else uses.
    const make = (name: string, amount: { amountMinor: number; currency: string }, stage: string, close: string, probability?: number) =>
      create({ name, amount, stage, expectedCloseDate: close, campaignCode: 'BOARD', ...(probability != null ? { probability } : {}) });
    const rows = await Promise.all([
      make('b1', cny(333), 'NEEDS_ANALYSIS', '2026-11-03T00:00:00Z'),
      make('b2', cny(2), 'NEEDS_ANALYSIS', '2026-11-01T00:00:00Z'),
      make('b3', usd(1), 'NEEDS_ANALYSIS', '2026-11-02T00:00:00Z', 50),
      make('b4', cny(9_000_000_000_000), 'PROPOSAL', '2026-12-01T00:00:00Z'),
      make('b5', cny(1), 'PROPOSAL', '2026-12-02T00:00:00Z'),
    ]);
    expect(rows.every((r) => !r.errors)).toBe(true);
    const b5 = rows[4]!.data!.createOpportunity;
    expect((await move(b5.id, 'LOST', 1, 'No budget')).errors).toBeUndefined();
    const BOARD = `query($perStage: Int) { opportunityBoard(filter: { campaignCode: "BOARD" }, perStage: $perStage) { columns {
      stage { key probability kind position } count hasMore totals { amountMinor currency } weightedTotals { amountMinor currency } opportunities { name } } } }`;
    const board = await call(BOARD, { perStage: 2 });
    expect(board.errors).toBeUndefined();
    const columns = board.data!.opportunityBoard.columns;
    expect(columns.map((c: any) => [c.stage.key, c.stage.kind, c.stage.position, c.count])).toEqual([
      ['QUALIFICATION', 'OPEN', 0, 0],
      ['NEEDS_ANALYSIS', 'OPEN', 1, 3],
      ['PROPOSAL', 'OPEN', 2, 1],
      ['NEGOTIATION', 'OPEN', 3, 0],
      ['WON', 'WON', 4, 0],
      ['LOST', 'LOST', 5, 1],
    ]);
    const needs = columns[1];
    // 333 + 2 fen; 1 cent. Weighted at 25%: 83.25 → 83, 0.5 → 1 (each rounded half up); the override 50% of 1 cent: 0.5 → 1.
    expect(needs.totals).toEqual([cny(335), usd(1)]);
    expect(needs.weightedTotals).toEqual([cny(84), usd(1)]);
    // Soonest expected close first, capped at perStage, the count still covering all.
    expect(needs.opportunities.map((o: any) => o.name)).toEqual(['b2', 'b3']);
    expect(needs.hasMore).toBe(true);
    expect(columns[2]).toMatchObject({ totals: [cny(9_000_000_000_000)], weightedTotals: [cny(4_500_000_000_000)], hasMore: false, opportunities: [{ name: 'b4' }] });
    expect(columns[5]).toMatchObject({ totals: [cny(1)], weightedTotals: [cny(0)], opportunities: [{ name: 'b5' }] });

    const sumsOnly = await call(BOARD, { perStage: 0 });
    expect(sumsOnly.data!.opportunityBoard.columns[1]).toMatchObject({ count: 3, opportunities: [], hasMore: true });
    expect(fieldsOf(await call(BOARD, { perStage: 101 }))).toEqual(['perStage']);
    // Visibility: the admin's own opportunity in the same campaign is not on a rep's board.
    expect((await create({ name: 'admin-b', amount: cny(5), stage: 'NEEDS_ANALYSIS', campaignCode: 'BOARD' }, 'admin')).errors).toBeUndefined();
    const repBoard = (await call(BOARD, { perStage: 0 })).data!.opportunityBoard.columns[1];
    const adminBoard = (await call(BOARD, { perStage: 0 }, 'admin')).data!.opportunityBoard.columns[1];
    expect([repBoard.count, adminBoard.count]).toEqual([3, 4]);
    expect(adminBoard.totals).toEqual([cny(340), usd(1)]);
    expect((await call(BOARD, {}, 'marketer')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lists with filters and paging, with the sales visibility rules, and adds Customer.opportunities', async () => {
    const customerId = someId();
    const mine = (await create({ customerId, name: 'Cust A', amount: cny(1) })).data!.createOpportunity;
    await create({ customerId, name: 'Cust B', amount: cny(2) }, 'sales.rep2');
    await create({ customerId, name: 'Cust C', amount: cny(3) }, 'admin');
    const LIST = `query($filter: OpportunityFilter, $after: String) { opportunities(filter: $filter, first: 2, after: $after) { totalCount edges { node { name } } pageInfo { hasNextPage endCursor } } }`;
    const names = (r: any) => r.data!.opportunities.edges.map((e: any) => e.node.name);
    const page = await call(LIST, { filter: { customerId } }, 'admin');
    expect(page.data!.opportunities).toMatchObject({ totalCount: 3, pageInfo: { hasNextPage: true } });
    expect(names(page)).toEqual(['Cust C', 'Cust B']);
    expect(names(await call(LIST, { filter: { customerId }, after: page.data!.opportunities.pageInfo.endCursor }, 'admin'))).toEqual(['Cust A']);
    expect(names(await call(LIST, { filter: { customerId } }, 'sales.rep'))).toEqual(['Cust B', 'Cust A']);
    expect(names(await call(LIST, { filter: { search: 'cust a', customerId } }))).toEqual(['Cust A']);
    expect(fieldsOf(await call(LIST, { filter: { customerId: 'nope' } }))).toEqual(['filter.customerId']);
    expect((await call(`query($id: ID!) { opportunity(id: $id) { id } }`, { id: mine.id }, 'marketer')).data!.opportunity).toBeNull();

    const CUSTOMER = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id opportunities(first: 10) { totalCount edges { node { name amount { amountMinor } } } } } } }`;
    const customer = await call(CUSTOMER, { r: [{ __typename: 'Customer', id: customerId }] }, 'analyst');
    expect(customer.errors).toBeUndefined();
    expect(customer.data!._entities[0].opportunities).toMatchObject({ totalCount: 3, edges: [{ node: { name: 'Cust C' } }, { node: { name: 'Cust B' } }, { node: { name: 'Cust A' } }] });
    const repView = await call(CUSTOMER, { r: [{ __typename: 'Customer', id: customerId }] }, 'sales.rep');
    expect(repView.data!._entities[0].opportunities.totalCount).toBe(2);
    const entity = await call(`query($r: [_Any!]!) { _entities(representations: $r) { ... on Opportunity { id name } } }`, { r: [{ __typename: 'Opportunity', id: mine.id }] }, 'sales.manager');
    expect(entity.data!._entities).toEqual([{ id: mine.id, name: 'Cust A' }]);
    await eventually(async () => (await opportunities().countDocuments({ 'pendingEvents.0': { $exists: true } })) === 0);
  });
});
