import { Types } from 'mongoose';
import { z } from 'zod';
import type { AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { OUTBOX_FIELD, appendEvents, type CloudEvent, type OutboxRelay } from '@crm/events';
import { moneySchema, type Money } from '@crm/money';
import { paginate, PerKeySerializer, type Page, type PageArgs } from '@crm/mongo';
import { isSalesStaff, ownedReadFilter, ownedWriteFilter, ownershipOf, type Ownership } from '../../shared/ownership.js';
import { OBJECT_ID } from '../../shared/pricing.js';
import type { OnceClaims } from '@crm/scheduler';
import { ContractException } from './contract.errors.js';
import { contractEvent, ContractEventType } from './contract.events.js';
import { CONTRACT_STATUSES, CONTRACT_TRANSITIONS, type ContractModel, type ContractRecord, type ContractStatus } from './contract.model.js';

const DAY_MS = 86_400_000;
const objectId = (what: string) => z.string().regex(OBJECT_ID, `Not a${/^[aeiou]/.test(what) ? 'n' : ''} ${what} id`);
const signatoryInput = z.object({
  name: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
  title: z.string().trim().max(200, 'At most 200 characters').nullish().transform((v) => v || null),
});
const optionalText = (max: number) => z.string().trim().max(max, `At most ${max} characters`).nullish().transform((v) => v || null);

const contractFields = {
  title: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
  value: moneySchema(),
  startDate: z.date(),
  endDate: z.date(),
  companyName: optionalText(200),
  customerPartyName: optionalText(200),
  companySignatory: signatoryInput.nullish(),
  customerSignatory: signatoryInput.nullish(),
  orderIds: z.array(objectId('order')).max(50, 'At most 50 orders').nullish(),
  notes: optionalText(2000),
};
const endAfterStart = (value: { startDate?: Date | null; endDate?: Date | null }, ctx: z.RefinementCtx) => {
  if (value.startDate && value.endDate && value.endDate.getTime() <= value.startDate.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['endDate'], message: 'Must be after the start date' });
  }
};

export const createContractInput = z
  .object({ customerId: objectId('customer'), quoteId: objectId('quote').nullish(), ...contractFields })
  .superRefine(endAfterStart);
export type CreateContractInput = z.input<typeof createContractInput>;
const notCleared = <T extends z.ZodType>(schema: T) => schema.nullish().refine((v) => v !== null, 'Cannot be cleared');
export const updateContractInput = z
  .object({
    ...contractFields,
    title: notCleared(contractFields.title),
    value: notCleared(contractFields.value),
    startDate: notCleared(contractFields.startDate),
    endDate: notCleared(contractFields.endDate),
  })
  .partial()
  .superRefine(endAfterStart);
export type UpdateContractInput = z.input<typeof updateContractInput>;
export const activateContractInput = z.object({
  signedAt: z.date().nullish(),
  companySignatory: signatoryInput.nullish(),
  customerSignatory: signatoryInput.nullish(),
});
export type ActivateContractInput = z.input<typeof activateContractInput>;

export const contractFilterInput = z
  .object({ customerId: objectId('customer').nullish(), statuses: z.array(z.enum(CONTRACT_STATUSES)).max(4).nullish(), quoteId: objectId('quote').nullish() })
  .nullish();
export type ContractFilterInput = z.input<typeof contractFilterInput>;

export interface ContractOptions {
  /** Days before the end date at which `contract.renewal-due` is raised (env CONTRACT_RENEWAL_LEAD_DAYS). */
  renewalLeadDays: number;
  /** Party A on new contracts unless given (env SALES_COMPANY_NAME). */
  companyName: string;
  /** Claims that make scheduled changes happen once across replicas. */
  claims: OnceClaims;
}

/** What a contract made from an accepted quote copies from it. */
export interface ContractFromQuote {
  quoteId: string;
  customerId: string;
  title: string;
  value: Money;
  ownership: Ownership;
  orderIds: string[];
}

function invalid(issues: z.core.$ZodIssue[], prefix = 'input'): never {
  throw new ContractException('CONTRACT_INVALID_INPUT', 'Invalid contract', fieldProblems(issues, prefix));
}

/** The one facade resolvers (and the quote module, and the scheduler) call for contracts (SAL-5). */
export class ContractService {
  /** One write at a time per contract in this process (FerretDB v1 updates are not atomic). */
  readonly serial = new PerKeySerializer();

  constructor(
    private readonly contracts: ContractModel,
    private readonly relay: OutboxRelay,
    private readonly options: ContractOptions,
  ) {}

  get renewalLeadDays(): number {
    return this.options.renewalLeadDays;
  }

  /**
   * The status as of `now`: an ACTIVE contract past its end date reads EXPIRED even before the
   * scheduler has stored that (and raised `contract.expired`).
   */
  statusOf(contract: ContractRecord, now = new Date()): ContractStatus {
    return contract.status === 'ACTIVE' && contract.endDate.getTime() <= now.getTime() ? 'EXPIRED' : contract.status;
  }

  async get(id: string, user: AuthUser): Promise<ContractRecord | null> {
    const visible = ownedReadFilter(user);
    if (!visible || !OBJECT_ID.test(id)) return null;
    return this.contracts.findOne({ $and: [{ _id: new Types.ObjectId(id) }, visible] }).lean<ContractRecord>().exec();
  }

  async list(args: PageArgs & { filter?: ContractFilterInput; count?: boolean }, user: AuthUser): Promise<Page<ContractRecord>> {
    const visible = ownedReadFilter(user);
    if (!visible) throw new ContractException('CONTRACT_FORBIDDEN', 'Your role cannot read contracts');
    const parsed = contractFilterInput.safeParse(args.filter);
    if (!parsed.success) invalid(parsed.error.issues, 'filter');
    const f = parsed.data ?? {};
    const clauses: Record<string, unknown>[] = [visible];
    if (f.customerId) clauses.push({ customerId: f.customerId.toLowerCase() });
    if (f.quoteId) clauses.push({ quoteId: f.quoteId.toLowerCase() });
    if (f.statuses?.length) clauses.push({ status: { $in: f.statuses } });
    return paginate(this.contracts, { $and: clauses }, args, { sort: { field: 'createdAt', direction: -1 }, count: args.count !== false });
  }

  /** Active contracts the caller sees whose end date falls within the next `withinDays` days. */
  async dueForRenewal(withinDays: number, user: AuthUser, now = new Date()): Promise<ContractRecord[]> {
    if (!Number.isInteger(withinDays) || withinDays < 0 || withinDays > 3660) {
      throw new ContractException('CONTRACT_INVALID_INPUT', 'Invalid window', [{ field: 'withinDays', message: 'Whole days, 0 to 3660' }]);
    }
    const visible = ownedReadFilter(user);
    if (!visible) throw new ContractException('CONTRACT_FORBIDDEN', 'Your role cannot read contracts');
    return this.contracts
      .find({ $and: [visible, { status: 'ACTIVE', endDate: { $gt: now, $lte: new Date(now.getTime() + withinDays * DAY_MS) } }] })
      .sort({ endDate: 1, _id: 1 })
      .limit(500)
      .lean<ContractRecord[]>()
      .exec();
  }

  async create(input: CreateContractInput, user: AuthUser): Promise<ContractRecord> {
    if (!isSalesStaff(user)) throw new ContractException('CONTRACT_FORBIDDEN', 'Only sales staff and admins create contracts');
    const parsed = createContractInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const d = parsed.data;
    const now = new Date();
    const record = this.newRecord(new Types.ObjectId(), {
      customerId: d.customerId.toLowerCase(),
      title: d.title,
      value: d.value,
      startDate: d.startDate,
      endDate: d.endDate,
      company: { name: d.companyName ?? this.options.companyName, signatory: d.companySignatory ?? null },
      customerParty: { name: d.customerPartyName, signatory: d.customerSignatory ?? null },
      quoteId: d.quoteId?.toLowerCase() ?? null,
      orderIds: (d.orderIds ?? []).map((id) => id.toLowerCase()),
      notes: d.notes,
      ownership: ownershipOf(user),
      createdBy: user.id,
      now,
    });
    await this.insert(record);
    return record;
  }

  /**
   * The contract of an accepted quote (a draft to be signed: one year from today, the quote's total
   * as value). Its id derives from the quote's, so accepting again returns it instead of a second one.
   */
  async createFromQuote(id: Types.ObjectId, source: ContractFromQuote, user: AuthUser): Promise<ContractRecord> {
    const existing = await this.contracts.findById(id).lean<ContractRecord>().exec();
    if (existing) return existing;
    const now = new Date();
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const end = new Date(Date.UTC(start.getUTCFullYear() + 1, start.getUTCMonth(), start.getUTCDate()));
    const record = this.newRecord(id, {
      customerId: source.customerId,
      title: source.title,
      value: source.value,
      startDate: start,
      endDate: end,
      company: { name: this.options.companyName, signatory: null },
      customerParty: { name: null, signatory: null },
      quoteId: source.quoteId,
      orderIds: source.orderIds,
      notes: null,
      ownership: source.ownership,
      createdBy: user.id,
      now,
    });
    try {
      await this.insert(record);
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
      return (await this.contracts.findById(id).lean<ContractRecord>().exec())!;
    }
    return record;
  }

  private newRecord(
    id: Types.ObjectId,
    d: Pick<ContractRecord, 'customerId' | 'title' | 'value' | 'startDate' | 'endDate' | 'company' | 'customerParty' | 'quoteId' | 'orderIds' | 'notes' | 'createdBy'> & {
      ownership: Ownership;
      now: Date;
    },
  ): ContractRecord {
    const { ownership, now, ...fields } = d;
    return {
      _id: id,
      ...fields,
      ...ownership,
      status: 'DRAFT',
      signedAt: null,
      activatedBy: null,
      terminatedAt: null,
      terminationReason: null,
      expiredAt: null,
      renewalReminderSentAt: null,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
  }

  private async insert(record: ContractRecord): Promise<void> {
    // The record and its event are one insert: both are stored or neither is.
    await this.contracts.collection.insertOne({ ...record, [OUTBOX_FIELD]: [contractEvent(ContractEventType.CREATED, record, {}, record.createdAt)] } as never);
    this.relay.notify(this.contracts, record._id);
  }

  /** Reads a contract the caller may change, or explains why not (NOT_FOUND when it is not visible either). */
  private async writable(id: string, user: AuthUser): Promise<ContractRecord> {
    const allowed = ownedWriteFilter(user);
    if (!allowed || !isSalesStaff(user)) throw new ContractException('CONTRACT_FORBIDDEN', 'Your role cannot change contracts');
    if (!OBJECT_ID.test(id)) throw new ContractException('CONTRACT_NOT_FOUND', `No contract ${id}`);
    const found = await this.contracts.findOne({ $and: [{ _id: new Types.ObjectId(id) }, allowed] }).lean<ContractRecord>().exec();
    if (found) return found;
    if (await this.get(id, user)) throw new ContractException('CONTRACT_FORBIDDEN', 'You may not change this contract');
    throw new ContractException('CONTRACT_NOT_FOUND', `No contract ${id}`);
  }

  /** Applies `changes` and its event in one update conditional on the version read. */
  private async commit(current: ContractRecord, changes: Partial<ContractRecord>, type: ContractEventType, extra: Record<string, unknown> = {}, condition: Record<string, unknown> = {}): Promise<ContractRecord | null> {
    const next: ContractRecord = { ...current, ...changes, version: current.version + 1, updatedAt: new Date() };
    const event: CloudEvent = contractEvent(type, next, extra);
    const result = await this.contracts.collection.updateOne(
      { _id: current._id, version: current.version, ...condition } as never,
      { $set: { ...changes, version: next.version, updatedAt: next.updatedAt }, ...appendEvents([event]) } as never,
    );
    if (result.matchedCount === 0) return null;
    this.relay.notify(this.contracts, current._id);
    return next;
  }

  /** A user's change: serialised per contract, version-checked, CONFLICT when it changed meanwhile. */
  private change(
    id: string,
    user: AuthUser,
    expectedVersion: number | null | undefined,
    decide: (current: ContractRecord) => { changes: Partial<ContractRecord>; type: ContractEventType; extra?: Record<string, unknown> },
  ): Promise<ContractRecord> {
    return this.serial.run(id.toLowerCase(), async () => {
      const current = await this.writable(id, user);
      if (expectedVersion != null && expectedVersion !== current.version) {
        throw new ContractException('CONTRACT_VERSION_CONFLICT', `Expected version ${expectedVersion}, found ${current.version}`);
      }
      const { changes, type, extra } = decide(current);
      const next = await this.commit(current, changes, type, extra);
      if (!next) throw new ContractException('CONTRACT_VERSION_CONFLICT', 'The contract was changed meanwhile; reload and retry');
      return next;
    });
  }

  private requireTransition(current: ContractRecord, to: ContractStatus): void {
    const from = this.statusOf(current);
    if (!CONTRACT_TRANSITIONS[from].includes(to)) {
      throw new ContractException('CONTRACT_INVALID_TRANSITION', `A ${from} contract cannot become ${to}`, [
        { field: 'id', message: `From ${from} only to ${CONTRACT_TRANSITIONS[from].join(', ') || 'nothing (final)'}` },
      ]);
    }
  }

  update(id: string, input: UpdateContractInput, user: AuthUser, expectedVersion?: number | null): Promise<ContractRecord> {
    const parsed = updateContractInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    return this.change(id, user, expectedVersion, (current) => {
      if (current.status !== 'DRAFT') throw new ContractException('CONTRACT_NOT_EDITABLE', `A ${current.status} contract cannot be edited; only drafts can`);
      const d = parsed.data;
      const given = new Set(Object.keys(input));
      const changes: Partial<ContractRecord> = {};
      if (d.title) changes.title = d.title;
      if (d.value) changes.value = d.value;
      if (d.startDate) changes.startDate = d.startDate;
      if (d.endDate) changes.endDate = d.endDate;
      if (given.has('notes')) changes.notes = d.notes ?? null;
      if (given.has('orderIds')) changes.orderIds = (d.orderIds ?? []).map((o) => o.toLowerCase());
      if (given.has('companyName') || given.has('companySignatory')) {
        changes.company = {
          name: given.has('companyName') ? (d.companyName ?? this.options.companyName) : current.company.name,
          signatory: given.has('companySignatory') ? (d.companySignatory ?? null) : current.company.signatory,
        };
      }
      if (given.has('customerPartyName') || given.has('customerSignatory')) {
        changes.customerParty = {
          name: given.has('customerPartyName') ? (d.customerPartyName ?? null) : current.customerParty.name,
          signatory: given.has('customerSignatory') ? (d.customerSignatory ?? null) : current.customerParty.signatory,
        };
      }
      const start = changes.startDate ?? current.startDate;
      const end = changes.endDate ?? current.endDate;
      if (end.getTime() <= start.getTime()) {
        throw new ContractException('CONTRACT_INVALID_INPUT', 'Invalid contract', [{ field: 'input.endDate', message: 'Must be after the start date' }]);
      }
      return { changes, type: ContractEventType.UPDATED, extra: { changed: Object.keys(changes) } };
    });
  }

  /** Signing: DRAFT → ACTIVE; records the signing date and both signatories (each required by then). */
  activate(id: string, input: ActivateContractInput | null | undefined, user: AuthUser, expectedVersion?: number | null): Promise<ContractRecord> {
    const parsed = activateContractInput.safeParse(input ?? {});
    if (!parsed.success) invalid(parsed.error.issues);
    return this.change(id, user, expectedVersion, (current) => {
      this.requireTransition(current, 'ACTIVE');
      const now = new Date();
      const signedAt = parsed.data.signedAt ?? now;
      const company = { ...current.company, signatory: parsed.data.companySignatory ?? current.company.signatory };
      const customerParty = { ...current.customerParty, signatory: parsed.data.customerSignatory ?? current.customerParty.signatory };
      const problems = [];
      if (!company.signatory) problems.push({ field: 'input.companySignatory', message: 'Required to sign' });
      if (!customerParty.signatory) problems.push({ field: 'input.customerSignatory', message: 'Required to sign' });
      if (signedAt.getTime() > now.getTime() + 60_000) problems.push({ field: 'input.signedAt', message: 'Must not be in the future' });
      if (current.endDate.getTime() <= now.getTime()) problems.push({ field: 'id', message: 'The contract has already ended; change its end date first' });
      if (problems.length) throw new ContractException('CONTRACT_INVALID_INPUT', 'The contract cannot be signed yet', problems);
      return { changes: { status: 'ACTIVE', signedAt, activatedBy: user.id, company, customerParty }, type: ContractEventType.ACTIVATED };
    });
  }

  terminate(id: string, reason: string, user: AuthUser, expectedVersion?: number | null): Promise<ContractRecord> {
    const why = z.string().trim().min(1, 'Required').max(1000, 'At most 1000 characters').safeParse(reason);
    if (!why.success) invalid(why.error.issues, 'reason');
    return this.change(id, user, expectedVersion, (current) => {
      this.requireTransition(current, 'TERMINATED');
      return { changes: { status: 'TERMINATED', terminatedAt: new Date(), terminationReason: why.data }, type: ContractEventType.TERMINATED, extra: { reason: why.data } };
    });
  }

  /** Links an order made from the same quote (idempotent). */
  async linkOrder(contractId: Types.ObjectId, orderId: string): Promise<void> {
    await this.serial.run(contractId.toHexString(), async () => {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const current = await this.contracts.findById(contractId).lean<ContractRecord>().exec();
        if (!current || current.orderIds.includes(orderId)) return;
        if (await this.commit(current, { orderIds: [...current.orderIds, orderId] }, ContractEventType.UPDATED, { changed: ['orderIds'] })) return;
      }
    });
  }

  /** customer.merged: moves the contracts of a merged-away customer to the survivor (idempotent; `contract.updated` each). */
  async repointCustomer(fromId: string, toId: string): Promise<number> {
    const ids = (await this.contracts.find({ customerId: fromId }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec()).map((doc) => doc._id);
    let moved = 0;
    for (const id of ids) {
      moved += await this.serial.run(id.toHexString(), async () => {
        for (let attempt = 0; attempt < 5; attempt += 1) {
          const current = await this.contracts.findOne({ _id: id, customerId: fromId }).lean<ContractRecord>().exec();
          if (!current) return 0;
          if (await this.commit(current, { customerId: toId }, ContractEventType.UPDATED, { changed: ['customerId'], mergedCustomerId: fromId })) return 1;
        }
        throw new Error(`Contract ${id.toHexString()} kept changing while re-pointing its customer`);
      });
    }
    return moved;
  }

  /**
   * Scheduler job: ACTIVE contracts past their end date become EXPIRED with `contract.expired`. Each
   * is claimed first (`expired:<id>` in scheduler_claims), so two replicas never both expire one.
   */
  async expireEnded(now = new Date()): Promise<number> {
    const ended = await this.contracts.find({ status: 'ACTIVE', endDate: { $lte: now } }).limit(500).lean<ContractRecord[]>().exec();
    let changed = 0;
    for (const contract of ended) {
      const id = contract._id.toHexString();
      if (!(await this.options.claims.claim(`contract-expired:${id}`, now))) continue;
      const done = await this.serial.run(id, async () => {
        const current = await this.contracts.findById(contract._id).lean<ContractRecord>().exec();
        if (!current || current.status !== 'ACTIVE' || current.endDate.getTime() > now.getTime()) return false;
        return Boolean(await this.commit(current, { status: 'EXPIRED', expiredAt: now }, ContractEventType.EXPIRED, {}, { status: 'ACTIVE' }));
      });
      if (done) changed += 1;
      else await this.options.claims.release(`contract-expired:${id}`);
    }
    return changed;
  }

  /**
   * Scheduler job: raises `contract.renewal-due` once per contract, `renewalLeadDays` before its end.
   * Exactly once across replicas and restarts: the replica that wins the claim (an insert keyed
   * `renewal-due:<id>`) sets `renewalReminderSentAt` from null to now in one conditional update that
   * also appends the event; everyone else skips the contract.
   */
  async sendRenewalReminders(now = new Date()): Promise<number> {
    const horizon = new Date(now.getTime() + this.options.renewalLeadDays * DAY_MS);
    const due = await this.contracts
      .find({ status: 'ACTIVE', renewalReminderSentAt: null, endDate: { $gt: now, $lte: horizon } })
      .limit(500)
      .lean<ContractRecord[]>()
      .exec();
    let sent = 0;
    for (const contract of due) {
      const id = contract._id.toHexString();
      const key = `renewal-due:${id}`;
      if (!(await this.options.claims.claim(key, now))) continue;
      let done = false;
      try {
        done = await this.serial.run(id, async () => {
          for (let attempt = 0; attempt < 3; attempt += 1) {
            const current = await this.contracts.findById(contract._id).lean<ContractRecord>().exec();
            if (!current || current.status !== 'ACTIVE' || current.renewalReminderSentAt) return false;
            const daysLeft = Math.ceil((current.endDate.getTime() - now.getTime()) / DAY_MS);
            const next = await this.commit(current, { renewalReminderSentAt: now }, ContractEventType.RENEWAL_DUE, { daysLeft, leadDays: this.options.renewalLeadDays }, {
              status: 'ACTIVE',
              renewalReminderSentAt: null,
            });
            if (next) return true;
          }
          return false;
        });
      } finally {
        if (!done) await this.options.claims.release(key).catch(() => undefined);
      }
      if (done) sent += 1;
    }
    return sent;
  }
}
