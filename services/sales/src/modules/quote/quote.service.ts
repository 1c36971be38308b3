import { Types } from 'mongoose';
import { z } from 'zod';
import type { AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { OUTBOX_FIELD, appendEvents, type CloudEvent, type OutboxRelay } from '@crm/events';
import { paginate, PerKeySerializer, type Page, type PageArgs } from '@crm/mongo';
import { isSalesStaff, ownedReadFilter, ownedWriteFilter, ownershipOf } from '../../shared/ownership.js';
import {
  currencyInput,
  derivedObjectId,
  discountInput,
  linesInput,
  OBJECT_ID,
  priceLines,
  type Catalog,
  type ParsedDiscount,
  type ParsedLine,
  type Priced,
} from '../../shared/pricing.js';
import type { OnceClaims } from '@crm/scheduler';
import type { ContractRecord } from '../contract/contract.model.js';
import type { ContractService } from '../contract/contract.service.js';
import type { OrderRecord } from '../order/order.model.js';
import type { OrderService } from '../order/order.service.js';
import { QuoteException } from './quote.errors.js';
import { quoteEvent, QuoteEventType } from './quote.events.js';
import { QUOTE_STATUSES, type QuoteModel, type QuoteRecord, type QuoteStatus, type QuoteVersionRecord } from './quote.model.js';

const DAY_MS = 86_400_000;
const MAX_REVISIONS = 100;
const objectId = (what: string) => z.string().regex(OBJECT_ID, `Not a${/^[aeiou]/.test(what) ? 'n' : ''} ${what} id`);
const optionalText = (max: number) => z.string().trim().max(max, `At most ${max} characters`).nullish().transform((v) => v || null);
const future = z.date().refine((d) => d.getTime() > Date.now(), 'Must be in the future');

export const createQuoteInput = z.object({
  customerId: objectId('customer'),
  opportunityId: objectId('opportunity').nullish(),
  title: optionalText(200),
  currency: currencyInput,
  lines: linesInput,
  discount: discountInput.nullish(),
  validUntil: future.nullish(),
  notes: optionalText(2000),
});
export type CreateQuoteInput = z.input<typeof createQuoteInput>;

export const updateQuoteInput = z.object({
  title: optionalText(200),
  lines: linesInput.nullish(),
  discount: discountInput.nullish(),
  validUntil: future.nullish(),
  notes: optionalText(2000),
});
export type UpdateQuoteInput = z.input<typeof updateQuoteInput>;

export const quoteFilterInput = z
  .object({ customerId: objectId('customer').nullish(), opportunityId: objectId('opportunity').nullish(), statuses: z.array(z.enum(QUOTE_STATUSES)).max(5).nullish() })
  .nullish();
export type QuoteFilterInput = z.input<typeof quoteFilterInput>;

export interface QuoteOptions {
  /** Default validity of a new quote (env QUOTE_VALIDITY_DAYS). */
  validityDays: number;
  claims: OnceClaims;
}

export interface AcceptedQuote {
  quote: QuoteRecord;
  contract: ContractRecord | null;
  order: OrderRecord | null;
}

function invalid(issues: z.core.$ZodIssue[], prefix = 'input'): never {
  throw new QuoteException('QUOTE_INVALID_INPUT', 'Invalid quote', fieldProblems(issues, prefix));
}

/** Stored priced lines back as input, for re-pricing a quote whose lines were not changed (prices kept). */
function asInput(quote: QuoteRecord): ParsedLine[] {
  return quote.lines.map((l) => ({
    productId: l.productId,
    description: l.description,
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    discount: l.discount,
    taxRateBasisPoints: l.taxRateBasisPoints,
  }));
}

/** The one facade resolvers call for quotes (SAL-4); accepting one makes its contract and order. */
export class QuoteService {
  /** One write at a time per quote in this process (FerretDB v1 updates are not atomic). */
  readonly serial = new PerKeySerializer();

  constructor(
    private readonly quotes: QuoteModel,
    private readonly relay: OutboxRelay,
    private readonly catalog: Catalog,
    private readonly contracts: ContractService,
    private readonly orders: OrderService,
    private readonly options: QuoteOptions,
  ) {}

  /** The status as of `now`: a SENT quote past `validUntil` reads EXPIRED before the scheduler stores it. */
  statusOf(quote: QuoteRecord, now = new Date()): QuoteStatus {
    return quote.status === 'SENT' && quote.validUntil.getTime() <= now.getTime() ? 'EXPIRED' : quote.status;
  }

  async get(id: string, user: AuthUser): Promise<QuoteRecord | null> {
    const visible = ownedReadFilter(user);
    if (!visible || !OBJECT_ID.test(id)) return null;
    return this.quotes.findOne({ $and: [{ _id: new Types.ObjectId(id) }, visible] }).lean<QuoteRecord>().exec();
  }

  async list(args: PageArgs & { filter?: QuoteFilterInput; count?: boolean }, user: AuthUser): Promise<Page<QuoteRecord>> {
    const visible = ownedReadFilter(user);
    if (!visible) throw new QuoteException('QUOTE_FORBIDDEN', 'Your role cannot read quotes');
    const parsed = quoteFilterInput.safeParse(args.filter);
    if (!parsed.success) invalid(parsed.error.issues, 'filter');
    const f = parsed.data ?? {};
    const clauses: Record<string, unknown>[] = [visible];
    if (f.customerId) clauses.push({ customerId: f.customerId.toLowerCase() });
    if (f.opportunityId) clauses.push({ opportunityId: f.opportunityId.toLowerCase() });
    if (f.statuses?.length) clauses.push({ status: { $in: f.statuses } });
    return paginate(this.quotes, { $and: clauses }, args, { sort: { field: 'createdAt', direction: -1 }, count: args.count !== false });
  }

  async versions(quoteId: string, user: AuthUser): Promise<QuoteVersionRecord[] | null> {
    return (await this.get(quoteId, user))?.versions ?? null;
  }

  private async price(currency: string, lines: ParsedLine[], discount: ParsedDiscount | null | undefined): Promise<Priced> {
    const result = await priceLines(this.catalog, currency, lines, discount);
    if (!result.priced) throw new QuoteException('QUOTE_INVALID_INPUT', 'Invalid quote', result.problems);
    return result.priced;
  }

  async create(input: CreateQuoteInput, user: AuthUser): Promise<QuoteRecord> {
    if (!isSalesStaff(user)) throw new QuoteException('QUOTE_FORBIDDEN', 'Only sales staff and admins create quotes');
    const parsed = createQuoteInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const d = parsed.data;
    const priced = await this.price(d.currency, d.lines, d.discount);
    const now = new Date();
    const record: QuoteRecord = {
      _id: new Types.ObjectId(),
      customerId: d.customerId.toLowerCase(),
      opportunityId: d.opportunityId?.toLowerCase() ?? null,
      title: d.title,
      ...priced,
      status: 'DRAFT',
      revision: 1,
      versions: [],
      validUntil: d.validUntil ?? new Date(now.getTime() + this.options.validityDays * DAY_MS),
      notes: d.notes,
      sentAt: null,
      acceptedAt: null,
      acceptedBy: null,
      rejectedAt: null,
      rejectionReason: null,
      expiredAt: null,
      contractId: null,
      orderId: null,
      ...ownershipOf(user),
      createdBy: user.id,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    // The record and its event are one insert: both are stored or neither is.
    await this.quotes.collection.insertOne({ ...record, [OUTBOX_FIELD]: [quoteEvent(QuoteEventType.CREATED, record, {}, now)] } as never);
    this.relay.notify(this.quotes, record._id);
    return record;
  }

  /** Reads a quote the caller may change, or explains why not (NOT_FOUND when it is not visible either). */
  private async writable(id: string, user: AuthUser): Promise<QuoteRecord> {
    const allowed = ownedWriteFilter(user);
    if (!allowed || !isSalesStaff(user)) throw new QuoteException('QUOTE_FORBIDDEN', 'Your role cannot change quotes');
    if (!OBJECT_ID.test(id)) throw new QuoteException('QUOTE_NOT_FOUND', `No quote ${id}`);
    const found = await this.quotes.findOne({ $and: [{ _id: new Types.ObjectId(id) }, allowed] }).lean<QuoteRecord>().exec();
    if (found) return found;
    if (await this.get(id, user)) throw new QuoteException('QUOTE_FORBIDDEN', 'You may not change this quote');
    throw new QuoteException('QUOTE_NOT_FOUND', `No quote ${id}`);
  }

  /** Writes `changes` and their events in one update conditional on the version read; null if it changed meanwhile. */
  private async commit(current: QuoteRecord, changes: Partial<QuoteRecord>, events: (next: QuoteRecord) => CloudEvent[], condition: Record<string, unknown> = {}): Promise<QuoteRecord | null> {
    const next: QuoteRecord = { ...current, ...changes, version: current.version + 1, updatedAt: new Date() };
    const result = await this.quotes.collection.updateOne(
      { _id: current._id, version: current.version, ...condition } as never,
      { $set: { ...changes, version: next.version, updatedAt: next.updatedAt }, ...appendEvents(events(next)) } as never,
    );
    if (result.matchedCount === 0) return null;
    this.relay.notify(this.quotes, current._id);
    return next;
  }

  private change(
    id: string,
    user: AuthUser,
    expectedVersion: number | null | undefined,
    decide: (current: QuoteRecord) => Promise<{ changes: Partial<QuoteRecord>; events: (next: QuoteRecord) => CloudEvent[] }>,
  ): Promise<QuoteRecord> {
    return this.serial.run(id.toLowerCase(), async () => {
      const current = await this.writable(id, user);
      if (expectedVersion != null && expectedVersion !== current.version) {
        throw new QuoteException('QUOTE_VERSION_CONFLICT', `Expected version ${expectedVersion}, found ${current.version}`);
      }
      const { changes, events } = await decide(current);
      const next = await this.commit(current, changes, events);
      if (!next) throw new QuoteException('QUOTE_VERSION_CONFLICT', 'The quote was changed meanwhile; reload and retry');
      return next;
    });
  }

  private transitionError(current: QuoteRecord, action: string, allowedFrom: string): never {
    const status = this.statusOf(current);
    if (status === 'EXPIRED') throw new QuoteException('QUOTE_EXPIRED', `The quote expired on ${current.validUntil.toISOString()}`, [{ field: 'id', message: 'Expired' }]);
    throw new QuoteException('QUOTE_INVALID_TRANSITION', `Cannot ${action} a ${status} quote`, [{ field: 'id', message: `Only a ${allowedFrom} quote` }]);
  }

  /**
   * Edits a quote. A DRAFT changes in place (`quote.updated`); a SENT one is kept as it was in
   * `versions` and the edit becomes its next revision, a DRAFT to be sent again (`quote.revised`).
   */
  update(id: string, input: UpdateQuoteInput, user: AuthUser, expectedVersion?: number | null): Promise<QuoteRecord> {
    const parsed = updateQuoteInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const d = parsed.data;
    const given = new Set(Object.keys(input));
    return this.change(id, user, expectedVersion, async (current) => {
      const status = this.statusOf(current);
      if (status !== 'DRAFT' && status !== 'SENT') {
        if (status === 'EXPIRED') this.transitionError(current, 'edit', 'DRAFT or SENT');
        throw new QuoteException('QUOTE_NOT_EDITABLE', `A ${status} quote cannot be edited`, [{ field: 'id', message: 'Only DRAFT and SENT quotes can be edited' }]);
      }
      const changes: Partial<QuoteRecord> = {};
      if (given.has('title')) changes.title = d.title;
      if (given.has('notes')) changes.notes = d.notes;
      if (d.validUntil) changes.validUntil = d.validUntil;
      if (given.has('lines') || given.has('discount')) {
        if (given.has('lines') && !d.lines) invalid([{ path: ['lines'], message: 'Required', code: 'custom', input: null } as z.core.$ZodIssue]);
        const priced = await this.price(current.currency, d.lines ?? asInput(current), given.has('discount') ? d.discount : current.discount);
        Object.assign(changes, { lines: priced.lines, discount: priced.discount, totals: priced.totals });
      }
      const changed = Object.keys(changes);
      if (status === 'DRAFT') return { changes, events: (next) => [quoteEvent(QuoteEventType.UPDATED, next, { changed })] };
      if (current.revision >= MAX_REVISIONS) throw new QuoteException('QUOTE_NOT_EDITABLE', `At most ${MAX_REVISIONS} revisions`);
      const snapshot: QuoteVersionRecord = {
        revision: current.revision,
        title: current.title,
        currency: current.currency,
        lines: current.lines,
        discount: current.discount,
        totals: current.totals,
        validUntil: current.validUntil,
        sentAt: current.sentAt,
        supersededAt: new Date(),
        supersededBy: user.id,
      };
      return {
        changes: { ...changes, status: 'DRAFT', revision: current.revision + 1, versions: [...current.versions, snapshot], sentAt: null },
        events: (next) => [quoteEvent(QuoteEventType.REVISED, next, { changed, previousRevision: current.revision, previousTotals: current.totals })],
      };
    });
  }

  /** DRAFT → SENT (its `validUntil` must still be ahead). */
  send(id: string, user: AuthUser, expectedVersion?: number | null): Promise<QuoteRecord> {
    return this.change(id, user, expectedVersion, async (current) => {
      if (current.status !== 'DRAFT') this.transitionError(current, 'send', 'DRAFT');
      if (current.validUntil.getTime() <= Date.now()) {
        throw new QuoteException('QUOTE_INVALID_INPUT', 'The quote is no longer valid', [{ field: 'validUntil', message: 'In the past: set a new validUntil first' }]);
      }
      const now = new Date();
      return { changes: { status: 'SENT', sentAt: now }, events: (next) => [quoteEvent(QuoteEventType.SENT, next, { sentAt: now.toISOString() })] };
    });
  }

  reject(id: string, reason: string | null | undefined, user: AuthUser, expectedVersion?: number | null): Promise<QuoteRecord> {
    const why = optionalText(1000).safeParse(reason);
    if (!why.success) invalid(why.error.issues, 'reason');
    return this.change(id, user, expectedVersion, async (current) => {
      if (this.statusOf(current) !== 'SENT') this.transitionError(current, 'reject', 'SENT');
      return {
        changes: { status: 'REJECTED', rejectedAt: new Date(), rejectionReason: why.data },
        events: (next) => [quoteEvent(QuoteEventType.REJECTED, next, { reason: why.data })],
      };
    });
  }

  /**
   * SENT → ACCEPTED, then the contract and/or order of the quote. Their ids derive from the quote's
   * id, and every step checks what already exists, so accepting again (a retry after a crash, a
   * double click, or to ask for the order now) never creates anything twice.
   */
  accept(id: string, wants: { createContract: boolean; createOrder: boolean }, user: AuthUser): Promise<AcceptedQuote> {
    return this.serial.run(id.toLowerCase(), async () => {
      let quote = await this.writable(id, user);
      const quoteId = quote._id.toHexString();
      const contractId = derivedObjectId('contract', quoteId);
      const orderId = derivedObjectId('order', quoteId);
      const hasContract = wants.createContract || quote.contractId !== null;
      const hasOrder = wants.createOrder || quote.orderId !== null;
      const links = { contractId: hasContract ? contractId.toHexString() : null, orderId: hasOrder ? orderId.toHexString() : null };
      if (quote.status === 'ACCEPTED') {
        if (links.contractId !== quote.contractId || links.orderId !== quote.orderId) {
          const next = await this.commit(quote, links, (n) => [quoteEvent(QuoteEventType.UPDATED, n, { changed: ['contractId', 'orderId'] })]);
          if (!next) throw new QuoteException('QUOTE_VERSION_CONFLICT', 'The quote was changed meanwhile; retry');
          quote = next;
        }
      } else {
        if (this.statusOf(quote) !== 'SENT') this.transitionError(quote, 'accept', 'SENT');
        const now = new Date();
        const next = await this.commit(
          quote,
          { status: 'ACCEPTED', acceptedAt: now, acceptedBy: user.id, ...links },
          (n) => [quoteEvent(QuoteEventType.ACCEPTED, n, { acceptedBy: user.id, contractId: links.contractId, orderId: links.orderId })],
          { status: 'SENT' },
        );
        if (!next) throw new QuoteException('QUOTE_VERSION_CONFLICT', 'The quote was changed meanwhile; reload and retry');
        quote = next;
      }
      const ownership = { ownerId: quote.ownerId, department: quote.department, ownerTeams: quote.ownerTeams };
      const priced: Priced = { currency: quote.currency, lines: quote.lines, discount: quote.discount, totals: quote.totals };
      const contract = links.contractId
        ? await this.contracts.createFromQuote(contractId, {
            quoteId,
            customerId: quote.customerId,
            title: quote.title ?? `Contract for quote ${quoteId}`,
            value: quote.totals.total,
            ownership,
            orderIds: links.orderId ? [links.orderId] : [],
          }, user)
        : null;
      const order = links.orderId
        ? await this.orders.createFromQuote(orderId, { quoteId, customerId: quote.customerId, opportunityId: quote.opportunityId, contractId: links.contractId, priced, ownership }, user)
        : null;
      if (contract && links.orderId && !contract.orderIds.includes(links.orderId)) await this.contracts.linkOrder(contractId, links.orderId);
      return { quote, contract: contract && links.orderId && !contract.orderIds.includes(links.orderId) ? { ...contract, orderIds: [...contract.orderIds, links.orderId] } : contract, order };
    });
  }

  /** The order of an ACCEPTED quote (made now if `acceptQuote` did not make it). */
  async orderFor(quoteId: string, user: AuthUser): Promise<OrderRecord> {
    const quote = await this.writable(quoteId, user);
    if (quote.status !== 'ACCEPTED') this.transitionError(quote, 'order from', 'ACCEPTED');
    const { order } = await this.accept(quoteId, { createContract: false, createOrder: true }, user);
    return order!;
  }

  /** customer.merged: moves the quotes of a merged-away customer to the survivor (idempotent; `quote.updated` each). */
  async repointCustomer(fromId: string, toId: string): Promise<number> {
    const ids = (await this.quotes.find({ customerId: fromId }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec()).map((doc) => doc._id);
    let moved = 0;
    for (const id of ids) {
      moved += await this.serial.run(id.toHexString(), async () => {
        for (let attempt = 0; attempt < 5; attempt += 1) {
          const current = await this.quotes.findOne({ _id: id, customerId: fromId }).lean<QuoteRecord>().exec();
          if (!current) return 0;
          if (await this.commit(current, { customerId: toId }, (next) => [quoteEvent(QuoteEventType.UPDATED, next, { changed: ['customerId'], mergedCustomerId: fromId })])) return 1;
        }
        throw new Error(`Quote ${id.toHexString()} kept changing while re-pointing its customer`);
      });
    }
    return moved;
  }

  /**
   * Scheduler job: SENT quotes past `validUntil` become EXPIRED with `quote.expired`, each claimed
   * first so that one replica does it once.
   */
  async expireOverdue(now = new Date()): Promise<number> {
    const overdue = await this.quotes.find({ status: 'SENT', validUntil: { $lte: now } }).limit(500).lean<QuoteRecord[]>().exec();
    let changed = 0;
    for (const quote of overdue) {
      const id = quote._id.toHexString();
      const key = `quote-expired:${id}:${quote.revision}`;
      if (!(await this.options.claims.claim(key, now))) continue;
      const done = await this.serial.run(id, async () => {
        const current = await this.quotes.findById(quote._id).lean<QuoteRecord>().exec();
        if (!current || current.status !== 'SENT' || current.validUntil.getTime() > now.getTime()) return false;
        return Boolean(await this.commit(current, { status: 'EXPIRED', expiredAt: now }, (n) => [quoteEvent(QuoteEventType.EXPIRED, n)], { status: 'SENT' }));
      });
      if (done) changed += 1;
      else await this.options.claims.release(key);
    }
    return changed;
  }
}
