import { Types } from 'mongoose';
import type { z } from 'zod';
import type { AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { appendEvents, OUTBOX_FIELD, type CloudEvent, type OutboxRelay } from '@crm/events';
import type { Money } from '@crm/money';
import { paginate, PerKeySerializer, type Page, type PageArgs } from '@crm/mongo';
import { isSalesStaff, ownedReadFilter, ownedWriteFilter, ownershipOf, type Ownership } from '../../shared/ownership.js';
import { kindOf, type PipelineRecord, type PipelineStageRecord, type StageKind } from '../pipeline/pipeline.model.js';
import type { PipelineService } from '../pipeline/pipeline.service.js';
import { CurrencyTotals, weightedMinor } from './opportunity.amounts.js';
import { opportunityCreated, opportunityLost, opportunityStageChanged, opportunityUpdated, opportunityWon } from './opportunity.events.js';
import { OpportunityException } from './opportunity.errors.js';
import type { OpportunityModel, OpportunityRecord } from './opportunity.model.js';
import {
  conversionOpportunityInput,
  createOpportunityInput,
  opportunityFilterInput,
  priorityOf,
  updateOpportunityInput,
  type ConversionOpportunityInput,
  type CreateOpportunityInput,
  type OpportunityDraft,
  type OpportunityFilterInput,
  type UpdateOpportunityInput,
} from './opportunity.validation.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const DUPLICATE_KEY = 11000;
const NEWEST_FIRST = { field: 'createdAt', direction: -1 } as const;
/** Most opportunities one board column lists (its count and sums always cover all). */
export const MAX_PER_STAGE = 100;

function invalid(issues: z.core.$ZodIssue[], prefix = 'input'): never {
  throw new OpportunityException('OPPORTUNITY_INVALID_INPUT', 'Invalid opportunity', fieldProblems(issues, prefix));
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface OpportunityListArgs extends PageArgs {
  filter?: OpportunityFilterInput;
  count?: boolean;
}

export interface BoardColumn {
  stage: PipelineStageRecord & { kind: StageKind; position: number };
  count: number;
  totals: Money[];
  weightedTotals: Money[];
  opportunities: OpportunityRecord[];
  hasMore: boolean;
}

/** Who and what a new opportunity belongs to, besides its validated fields. */
export interface OpportunityOrigin {
  id?: Types.ObjectId;
  customerId: string;
  leadId: string | null;
  ownership: Ownership;
  createdBy: string;
}

/** The one facade resolvers (and the lead conversion, forecast and customer-link) call for opportunities (SAL-3). */
export class OpportunityService {
  /** Writes to one lead (or opportunity) one at a time in this process (FerretDB v1); the outbox relay joins it. */
  readonly serial = new PerKeySerializer();

  constructor(
    private readonly opportunities: OpportunityModel,
    private readonly pipeline: PipelineService,
    private readonly relay: OutboxRelay,
  ) {}

  /** Effective probability in whole percent: 100 won, 0 lost, else the override or the stage's default. */
  probabilityIn(opportunity: Pick<OpportunityRecord, 'status' | 'stage' | 'probabilityOverride'>, pipeline: PipelineRecord): number {
    if (opportunity.status === 'WON') return 100;
    if (opportunity.status === 'LOST') return 0;
    return opportunity.probabilityOverride ?? pipeline.stages.find((stage) => stage.key === opportunity.stage)?.probability ?? 0;
  }

  async probabilityOf(opportunity: OpportunityRecord): Promise<number> {
    return this.probabilityIn(opportunity, await this.pipeline.current());
  }

  /**
   * Validates a new opportunity's fields and resolves its stage (an open stage of the pipeline; the
   * first open one when none is given). Used by `create` and by the lead conversion (`prefix` names
   * the input path in field errors).
   */
  async draft(input: ConversionOpportunityInput, prefix = 'input'): Promise<OpportunityDraft> {
    const parsed = conversionOpportunityInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues, prefix);
    const pipeline = await this.pipeline.current();
    const open = pipeline.stages.filter((stage) => kindOf(stage.key) === 'OPEN');
    const stage = parsed.data.stage ?? open[0]!.key;
    if (!open.some((s) => s.key === stage)) {
      throw new OpportunityException('OPPORTUNITY_INVALID_INPUT', 'Invalid opportunity', [
        { field: `${prefix}.stage`, message: `One of the open stages: ${open.map((s) => s.key).join(', ')}` },
      ]);
    }
    return { ...parsed.data, stage };
  }

  async create(input: CreateOpportunityInput, user: AuthUser): Promise<OpportunityRecord> {
    if (!isSalesStaff(user)) throw new OpportunityException('OPPORTUNITY_FORBIDDEN', 'Only sales staff and admins create opportunities');
    const parsed = createOpportunityInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const { customerId, ...fields } = parsed.data;
    const draft = await this.draft(fields);
    return (await this.insert(draft, { customerId, leadId: null, ownership: ownershipOf(user), createdBy: user.id })).record;
  }

  /**
   * Stores a new opportunity with its `opportunity.created` event in one insert. With a given id that is
   * already stored (a retried lead conversion) nothing is written and the stored one is returned.
   */
  async insert(draft: OpportunityDraft, origin: OpportunityOrigin): Promise<{ record: OpportunityRecord; created: boolean }> {
    const now = new Date();
    const { probability, stage, ...fields } = draft;
    const record: OpportunityRecord = {
      ...fields,
      _id: origin.id ?? new Types.ObjectId(),
      customerId: origin.customerId,
      leadId: origin.leadId,
      stage,
      status: 'OPEN',
      probabilityOverride: probability,
      stageHistory: [{ from: null, to: stage, at: now, by: origin.createdBy }],
      ...this.priorityFields(draft),
      closedAt: null,
      closeReason: null,
      ...origin.ownership,
      createdBy: origin.createdBy,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const event = opportunityCreated(record, this.probabilityIn(record, await this.pipeline.current()));
    try {
      // The record and its event are one insert: both are stored or neither is.
      await this.opportunities.collection.insertOne({ ...record, [OUTBOX_FIELD]: [event] } as never);
    } catch (error) {
      if ((error as { code?: number }).code === DUPLICATE_KEY && origin.id) {
        const existing = await this.opportunities.findById(origin.id).lean<OpportunityRecord>().exec();
        if (existing) return { record: existing, created: false };
      }
      throw error;
    }
    this.relay.notify(this.opportunities, record._id);
    return { record, created: true };
  }

  private priorityFields(levels: Pick<OpportunityRecord, 'need' | 'budget' | 'decisionProcess'>) {
    const { score, priority } = priorityOf(levels);
    return { priority, priorityScore: score };
  }

  async exists(id: string): Promise<boolean> {
    return OBJECT_ID.test(id) && (await this.opportunities.countDocuments({ _id: new Types.ObjectId(id) }).exec()) > 0;
  }

  /** An opportunity the caller may read, else null. */
  async get(id: string, user: AuthUser): Promise<OpportunityRecord | null> {
    const visible = ownedReadFilter(user);
    if (!visible || !OBJECT_ID.test(id)) return null;
    return this.opportunities.findOne({ $and: [{ _id: new Types.ObjectId(id) }, visible] }).lean<OpportunityRecord>().exec();
  }

  /** The MongoDB filter of what `user` may read and `filter` selects; FORBIDDEN when the role reads none. */
  where(filter: OpportunityFilterInput, user: AuthUser, prefix = 'filter'): Record<string, unknown> {
    const visible = ownedReadFilter(user);
    if (!visible) throw new OpportunityException('OPPORTUNITY_FORBIDDEN', 'Your role cannot see opportunities');
    const parsed = opportunityFilterInput.safeParse(filter);
    if (!parsed.success) invalid(parsed.error.issues, prefix);
    const f = parsed.data ?? {};
    const clauses: Record<string, unknown>[] = [visible];
    if (f.statuses?.length) clauses.push({ status: { $in: f.statuses } });
    if (f.stages?.length) clauses.push({ stage: { $in: f.stages } });
    if (f.priorities?.length) clauses.push({ priority: { $in: f.priorities } });
    if (f.ownerId) clauses.push({ ownerId: f.ownerId });
    if (f.customerId) clauses.push({ customerId: f.customerId.toLowerCase() });
    if (f.campaignCode) clauses.push({ campaignCode: f.campaignCode });
    if (f.currency) clauses.push({ 'amount.currency': f.currency });
    if (f.expectedCloseAfter || f.expectedCloseBefore) {
      clauses.push({ expectedCloseDate: { ...(f.expectedCloseAfter ? { $gte: f.expectedCloseAfter } : {}), ...(f.expectedCloseBefore ? { $lt: f.expectedCloseBefore } : {}) } });
    }
    if (f.search) clauses.push({ name: { $regex: escapeRegex(f.search), $options: 'i' } });
    return clauses.length === 1 ? clauses[0]! : { $and: clauses };
  }

  /** Opportunities newest first. */
  async list(args: OpportunityListArgs, user: AuthUser): Promise<Page<OpportunityRecord>> {
    const where = this.where(args.filter, user);
    return paginate(this.opportunities, where, args, { sort: NEWEST_FIRST, count: args.count !== false });
  }

  /** A customer's opportunities the caller may see (Customer.opportunities). */
  forCustomer(customerId: string, args: OpportunityListArgs, user: AuthUser): Promise<Page<OpportunityRecord>> {
    return this.list({ ...args, filter: { ...args.filter, customerId } }, user);
  }

  /**
   * The kanban board: every pipeline stage in order with the number of matching opportunities, their
   * amounts and weighted amounts summed per currency (over all of them), and the first `perStage`
   * (soonest expected close first).
   */
  async board(filter: OpportunityFilterInput, perStage: number, user: AuthUser): Promise<BoardColumn[]> {
    if (!Number.isInteger(perStage) || perStage < 0 || perStage > MAX_PER_STAGE) {
      throw new OpportunityException('OPPORTUNITY_INVALID_INPUT', 'Invalid page size', [{ field: 'perStage', message: `Must be 0 to ${MAX_PER_STAGE}` }]);
    }
    const where = this.where(filter, user);
    const pipeline = await this.pipeline.current();
    // Sums in this process: FerretDB v1's $group counts wrongly ($sum: 1 and $count give 0).
    const rows = await this.opportunities
      .find(where, { stage: 1, status: 1, amount: 1, probabilityOverride: 1 })
      .lean<Array<Pick<OpportunityRecord, '_id' | 'stage' | 'status' | 'amount' | 'probabilityOverride'>>>()
      .exec();
    const perKey = new Map(pipeline.stages.map((stage) => [stage.key, { count: 0, totals: new CurrencyTotals(), weighted: new CurrencyTotals() }]));
    for (const row of rows) {
      const column = perKey.get(row.stage);
      if (!column) continue;
      column.count += 1;
      column.totals.add(row.amount.currency, row.amount.amountMinor);
      column.weighted.add(row.amount.currency, weightedMinor(row.amount.amountMinor, this.probabilityIn(row, pipeline)));
    }
    return Promise.all(
      pipeline.stages.map(async (stage, position) => {
        const column = perKey.get(stage.key)!;
        const opportunities =
          perStage > 0 && column.count > 0
            ? await this.opportunities
                .find({ $and: [where, { stage: stage.key }] })
                .sort({ expectedCloseDate: 1, _id: 1 })
                .limit(perStage)
                .lean<OpportunityRecord[]>()
                .exec()
            : [];
        return {
          stage: { ...stage, kind: kindOf(stage.key), position },
          count: column.count,
          totals: column.totals.toMoney(),
          weightedTotals: column.weighted.toMoney(),
          opportunities,
          hasMore: column.count > opportunities.length,
        };
      }),
    );
  }

  /** Reads an opportunity the caller may change, or explains why not. */
  private async writable(id: string, user: AuthUser): Promise<OpportunityRecord> {
    const allowed = ownedWriteFilter(user);
    if (!allowed || !isSalesStaff(user)) throw new OpportunityException('OPPORTUNITY_FORBIDDEN', 'Your role cannot change opportunities');
    if (!OBJECT_ID.test(id)) throw new OpportunityException('OPPORTUNITY_NOT_FOUND', `No opportunity ${id}`);
    const found = await this.opportunities.findOne({ $and: [{ _id: new Types.ObjectId(id) }, allowed] }).lean<OpportunityRecord>().exec();
    if (found) return found;
    // Visible but not yours to change, or not visible at all (do not reveal it exists).
    if (await this.get(id, user)) throw new OpportunityException('OPPORTUNITY_FORBIDDEN', 'You may not change this opportunity');
    throw new OpportunityException('OPPORTUNITY_NOT_FOUND', `No opportunity ${id}`);
  }

  /**
   * Applies `changes` and their events in one update conditional on the version read: a concurrent
   * change makes it CONFLICT instead of overwriting. Callers run it inside `serial` (FerretDB v1).
   */
  private async commit(
    current: OpportunityRecord,
    changes: Partial<OpportunityRecord>,
    events: (next: OpportunityRecord, pipeline: PipelineRecord) => CloudEvent[],
    push: Record<string, unknown> = {},
  ): Promise<OpportunityRecord> {
    const pipeline = await this.pipeline.current();
    const next: OpportunityRecord = { ...current, ...changes, version: current.version + 1, updatedAt: new Date() };
    const outbox = appendEvents(events(next, pipeline));
    const result = await this.opportunities.collection.updateOne(
      { _id: current._id, version: current.version } as never,
      { $set: { ...changes, version: next.version, updatedAt: next.updatedAt }, $push: { ...outbox.$push, ...push } } as never,
    );
    if (result.matchedCount === 0) throw new OpportunityException('OPPORTUNITY_VERSION_CONFLICT', 'The opportunity was changed meanwhile; reload and retry');
    this.relay.notify(this.opportunities, current._id);
    return next;
  }

  private checkVersion(current: OpportunityRecord, expectedVersion: number | null | undefined): void {
    if (expectedVersion != null && expectedVersion !== current.version) {
      throw new OpportunityException('OPPORTUNITY_VERSION_CONFLICT', `Expected version ${expectedVersion}, found ${current.version}`);
    }
  }

  async update(id: string, input: UpdateOpportunityInput, expectedVersion: number | null | undefined, user: AuthUser): Promise<OpportunityRecord> {
    return this.serial.run(id.toLowerCase(), async () => {
      const current = await this.writable(id, user);
      this.checkVersion(current, expectedVersion);
      if (current.status !== 'OPEN') throw new OpportunityException('OPPORTUNITY_CLOSED', `The opportunity is ${current.status}; it no longer changes`);
      const parsed = updateOpportunityInput.safeParse(input);
      if (!parsed.success) invalid(parsed.error.issues);
      const given = Object.keys(input).filter((key) => key in parsed.data) as Array<keyof typeof parsed.data>;
      const problems = (['name', 'amount', 'expectedCloseDate'] as const).filter((key) => given.includes(key) && parsed.data[key] == null);
      if (problems.length) throw new OpportunityException('OPPORTUNITY_INVALID_INPUT', 'Invalid opportunity', problems.map((key) => ({ field: `input.${key}`, message: 'Cannot be cleared' })));
      const changes: Partial<OpportunityRecord> = {};
      for (const key of given) {
        if (key === 'probability') changes.probabilityOverride = parsed.data.probability ?? null;
        else (changes as Record<string, unknown>)[key] = parsed.data[key];
      }
      if (given.some((key) => key === 'need' || key === 'budget' || key === 'decisionProcess')) Object.assign(changes, this.priorityFields({ ...current, ...changes }));
      if (given.length === 0) return current;
      return this.commit(current, changes, (next, pipeline) => [opportunityUpdated(next, this.probabilityIn(next, pipeline), given.map(String))]);
    });
  }

  /**
   * Moves an opportunity to another stage (`expectedVersion` required: the board may be stale). A move
   * clears a probability override (the stage's default applies again); WON and LOST close it (LOST needs a
   * reason) and nothing moves it out of them.
   */
  async move(id: string, stage: string, expectedVersion: number, reason: string | null | undefined, user: AuthUser): Promise<OpportunityRecord> {
    return this.serial.run(id.toLowerCase(), async () => {
      const current = await this.writable(id, user);
      this.checkVersion(current, expectedVersion);
      if (current.status !== 'OPEN') throw new OpportunityException('OPPORTUNITY_CLOSED', `The opportunity is ${current.status}; it no longer moves`);
      const pipeline = await this.pipeline.current();
      const to = stage.trim().toUpperCase();
      const problems = [];
      if (!pipeline.stages.some((s) => s.key === to)) problems.push({ field: 'stage', message: `One of ${pipeline.stages.map((s) => s.key).join(', ')}` });
      else if (to === current.stage) problems.push({ field: 'stage', message: `Already in ${to}` });
      const why = reason?.trim() || null;
      if (why && why.length > 500) problems.push({ field: 'reason', message: 'At most 500 characters' });
      if (kindOf(to) === 'LOST' && !why) problems.push({ field: 'reason', message: 'Say why the opportunity was lost' });
      if (problems.length) throw new OpportunityException('OPPORTUNITY_INVALID_INPUT', 'Invalid stage move', problems);
      const kind = kindOf(to);
      const at = new Date();
      const changes: Partial<OpportunityRecord> = {
        stage: to,
        status: kind,
        probabilityOverride: null,
        ...(kind === 'OPEN' ? {} : { closedAt: at, closeReason: why }),
      };
      const change = { from: current.stage, to, at, by: user.id };
      const next = await this.commit(
        current,
        changes,
        (moved, p) => {
          const events: CloudEvent[] = [opportunityStageChanged(moved, this.probabilityIn(moved, p), current.stage)];
          if (kind === 'WON') events.push(opportunityWon(moved));
          if (kind === 'LOST') events.push(opportunityLost(moved));
          return events;
        },
        { stageHistory: change },
      );
      return { ...next, stageHistory: [...current.stageHistory, change] };
    });
  }

  /** Which of `keys` open opportunities are in (a pipeline change may not remove those). */
  async stagesInUse(keys: string[]): Promise<string[]> {
    const used = (await this.opportunities.distinct('stage', { stage: { $in: keys } }).exec()) as string[];
    return keys.filter((key) => used.includes(key));
  }

  /**
   * customer.merged: every opportunity of `fromId` now belongs to `toId`, each with its
   * `opportunity.updated` event (changed: customerId). Idempotent: a redelivery finds none left.
   */
  async repointCustomer(fromId: string, toId: string): Promise<number> {
    const ids = (await this.opportunities.find({ customerId: fromId }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec()).map((doc) => doc._id);
    let moved = 0;
    for (const id of ids) {
      moved += await this.serial.run(id.toHexString(), async () => {
        for (let attempt = 0; attempt < 5; attempt += 1) {
          const current = await this.opportunities.findOne({ _id: id, customerId: fromId }).lean<OpportunityRecord>().exec();
          if (!current) return 0;
          try {
            await this.commit(current, { customerId: toId }, (next, pipeline) => [opportunityUpdated(next, this.probabilityIn(next, pipeline), ['customerId'])]);
            return 1;
          } catch (error) {
            if (!(error instanceof OpportunityException) || error.reason !== 'OPPORTUNITY_VERSION_CONFLICT') throw error;
          }
        }
        throw new Error(`Opportunity ${id.toHexString()} kept changing while re-pointing its customer`);
      });
    }
    return moved;
  }

  /** The collection, for the forecast's read-only queries. */
  get model(): OpportunityModel {
    return this.opportunities;
  }
}
