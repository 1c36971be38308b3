import { afterAll, describe, expect, it } from 'vitest';
import { cny, fieldsOf, someId, startSalesKit, type User } from '../../opportunity/__tests__/sales-kit.js';

const kit = await startSalesKit();
const { call, db } = kit;

afterAll(() => kit.stop());

const PIPELINE = 'stages { key label probability kind position } version updatedAt';
const read = (as: User = 'sales.rep') => call(`{ pipelineStages { ${PIPELINE} } }`, {}, as);
const replace = (stages: Array<{ key: string; label: string; probability: number }>, expectedVersion?: number, as: User = 'sales.manager') =>
  call(`mutation($stages: [PipelineStageInput!]!, $v: Int) { updatePipelineStages(stages: $stages, expectedVersion: $v) { ${PIPELINE} } }`, { stages, v: expectedVersion }, as);
const DEFAULTS = [
  { key: 'QUALIFICATION', label: 'Qualification', probability: 10 },
  { key: 'NEEDS_ANALYSIS', label: 'Needs analysis', probability: 25 },
  { key: 'PROPOSAL', label: 'Proposal', probability: 50 },
  { key: 'NEGOTIATION', label: 'Negotiation', probability: 75 },
  { key: 'WON', label: 'Won', probability: 100 },
  { key: 'LOST', label: 'Lost', probability: 0 },
];

describe('pipeline stages (SAL-3)', () => {
  it('is seeded with the default stages and probabilities (whole percent) on first read, for every staff role', async () => {
    const result = await read();
    expect(result.errors).toBeUndefined();
    expect(result.data!.pipelineStages).toMatchObject({
      version: 1,
      stages: DEFAULTS.map((stage, position) => ({ ...stage, position, kind: stage.key === 'WON' ? 'WON' : stage.key === 'LOST' ? 'LOST' : 'OPEN' })),
    });
    expect(await db.collection('pipelines').countDocuments()).toBe(1);
    for (const as of ['analyst', 'marketer', 'admin'] as const) expect((await read(as)).data!.pipelineStages.version).toBe(1);
    expect((await read('customer')).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('validates a new configuration per field: unique keys, percent 0 to 100, WON 100 and LOST 0 present after the open stages', async () => {
    const bad = await replace([
      { key: 'qualification', label: 'Q', probability: 10 },
      { key: 'QUALIFICATION', label: 'Again', probability: 150 },
      { key: 'WON', label: 'Won', probability: 90 },
      { key: 'PROPOSAL', label: '', probability: -1 },
    ]);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'PIPELINE_INVALID_INPUT' });
    expect(fieldsOf(bad)).toEqual(['stages', 'stages.1.key', 'stages.1.probability', 'stages.2.key', 'stages.2.probability', 'stages.3.label', 'stages.3.probability']);
    const noOpen = await replace([{ key: 'WON', label: 'Won', probability: 100 }, { key: 'LOST', label: 'Lost', probability: 0 }, { key: 'X1', label: 'x', probability: 5 }]);
    expect(fieldsOf(noOpen)).toEqual(['stages.0.key', 'stages.1.key']);
    const tooFew = await replace([{ key: 'WON', label: 'Won', probability: 100 }, { key: 'LOST', label: 'Lost', probability: 0 }]);
    expect(fieldsOf(tooFew)).toEqual(['stages', 'stages']);
    expect((await read()).data!.pipelineStages.version).toBe(1);
  });

  it('lets admins and sales managers change it with a version check; opportunities follow the new defaults', async () => {
    const created = await call(`mutation($input: CreateOpportunityInput!) { createOpportunity(input: $input) { id probability } }`, {
      input: { customerId: someId(), name: 'Follows the pipeline', amount: cny(1_000), expectedCloseDate: '2026-10-01T00:00:00Z', stage: 'PROPOSAL' },
    });
    expect(created.data!.createOpportunity.probability).toBe(50);
    const id = created.data!.createOpportunity.id;

    const stages = [
      { key: 'QUALIFICATION', label: 'Qualification', probability: 5 },
      { key: 'DEMO', label: 'Demo', probability: 30 },
      { key: 'PROPOSAL', label: 'Proposal', probability: 60 },
      { key: 'NEGOTIATION', label: 'Negotiation', probability: 80 },
      { key: 'NEEDS_ANALYSIS', label: 'Needs analysis', probability: 20 },
      { key: 'WON', label: 'Won', probability: 100 },
      { key: 'LOST', label: 'Lost', probability: 0 },
    ];
    for (const as of ['sales.rep', 'analyst', 'marketer'] as const) {
      expect((await replace(stages, 1, as)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', reason: 'MISSING_ROLE' });
    }
    expect((await replace(stages, 7)).errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'PIPELINE_VERSION_CONFLICT' });
    const changed = await replace(stages, 1);
    console.log('DBG', JSON.stringify(changed));
    expect(changed.errors).toBeUndefined();
    expect(changed.data!.updatePipelineStages.version).toBe(2);
    expect(changed.data!.updatePipelineStages.stages.map((s: any) => `${s.key}:${s.probability}`)).toEqual(stages.map((s) => `${s.key}:${s.probability}`));
    const opportunity = await call(`query($id: ID!) { opportunity(id: $id) { probability weightedAmount { amountMinor } } }`, { id });
    expect(opportunity.data!.opportunity).toEqual({ probability: 60, weightedAmount: { amountMinor: 600 } });
    const moved = await call(`mutation($id: ID!) { moveOpportunity(id: $id, stage: "DEMO", expectedVersion: 1) { stage probability } }`, { id });
    expect(moved.data!.moveOpportunity).toEqual({ stage: 'DEMO', probability: 30 });
    const board = await call(`{ opportunityBoard(perStage: 0) { columns { stage { key position } count } } }`);
    expect(board.data!.opportunityBoard.columns.map((c: any) => `${c.stage.key}:${c.count}`)).toEqual(['QUALIFICATION:0', 'DEMO:1', 'PROPOSAL:0', 'NEGOTIATION:0', 'NEEDS_ANALYSIS:0', 'WON:0', 'LOST:0']);
  });

  it('refuses to remove a stage opportunities are still in', async () => {
    const withoutDemo = DEFAULTS;
    const refused = await replace(withoutDemo, 2, 'admin');
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', reason: 'PIPELINE_STAGE_IN_USE', fields: [{ field: 'stages', message: 'Still in use: DEMO' }] });
    const withDemo = [...DEFAULTS.slice(0, 4), { key: 'DEMO', label: 'Demo', probability: 35 }, ...DEFAULTS.slice(4)];
    const kept = await replace(withDemo, 2, 'admin');
    expect(kept.errors).toBeUndefined();
    expect(kept.data!.updatePipelineStages).toMatchObject({ version: 3, stages: [{ key: 'QUALIFICATION' }, { key: 'NEEDS_ANALYSIS' }, { key: 'PROPOSAL' }, { key: 'NEGOTIATION' }, { key: 'DEMO', position: 4 }, { key: 'WON' }, { key: 'LOST' }] });
  });
});
