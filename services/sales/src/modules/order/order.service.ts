import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { z } from 'zod';
import { hasAnyRole, Role, type AuthUser } from '@crm/auth';
import { DomainException, fieldProblems } from '@crm/errors';
import { OUTBOX_FIELD, appendEvents, type CloudEvent, type OutboxRelay } from '@crm/events';
import { formatMoney, moneySchema, type Money } from '@crm/money';
import { findByIds, paginate, PerKeySerializer, type Page, type PageArgs } from '@crm/mongo';
import { isSalesStaff, ownedReadFilter, ownedWriteFilter, ownershipOf, type Ownership } from '../../shared/ownership.js';
import { currencyInput, discountInput, linesInput, OBJECT_ID, priceLines, type Catalog, type Priced } from '../../shared/pricing.js';
import { OrderException } from './order.errors.js';
import { orderEvent, OrderEventType } from './order.events.js';
import {
  ORDER_STATUSES,
  ORDER_TRANSITIONS,
  PAYMENT_METHODS,
  type OrderModel,
  type OrderRecord,
  type OrderStatus,
  type PaymentMethod,
  type StatusChange,
} from './order.model.js';

/**
 * What orders need from stock (implemented by the stock module's `StockService`). All three are
 * idempotent per order id; `reserveForOrder` is all or nothing and fails with a CONFLICT naming the
 * short lines.
 */
export interface StockPort {
  reserveForOrder(orderId: string, lines: Array<{ productId: string; quantity: number }>, user: AuthUser): Promise<void>;
  releaseForOrder(orderId: string, user: AuthUser): Promise<void>;
  shipForOrder(orderId: string, user: AuthUser): Promise<void>;
}

export interface OrderOptions {
  /** Minor units from which an order needs a manager's approval, per currency (`*` for the others). */
  approvalThresholds: Record<string, number>;
}

const DEFAULT_THRESHOLD = 1_000_000;
/** Attempts of a change whose conditional write lost to a concurrent one (without expectedVersion). */
const MAX_ATTEMPTS = 8;
/** A reservation or shipment exists for orders in these states. */
const HOLDS_STOCK: readonly OrderStatus[] = ['APPROVED', 'SHIPPED', 'DELIVERED'];

const objectId = (what: string) => z.string().regex(OBJECT_ID, `Not a${/^[aeiou]/.test(what) ? 'n' : ''} ${what} id`);
const optionalText = (max: number) => z.string().trim().max(max, `At most ${max} characters`).nullish().transform((v) => v || null);
const requiredText = (max: number) => z.string().trim().min(1, 'Required').max(max, `At most ${max} characters`);
const notFuture = (date: Date | null | undefined) => !date || date.getTime() <= Date.now() + 60_000;

export const placeOrderInput = z.object({
  customerId: objectId('customer'),
  opportunityId: objectId('opportunity').nullish(),
  currency: currencyInput,
  lines: linesInput,
  discount: discountInput.nullish(),
  paymentMethod: z.enum(PAYMENT_METHODS).nullish(),
  campaignCode: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, '1 to 64 of letters, digits, . _ -')
    .nullish()
    .transform((v) => v || null),
  notes: optionalText(2000),
});
export type PlaceOrderInput = z.input<typeof placeOrderInput>;

export const shipOrderInput = z.object({
  carrier: requiredText(100),
  trackingNumber: requiredText(100),
  shippedAt: z.date().nullish().refine(notFuture, 'Must not be in the future'),
});
export type ShipOrderInput = z.input<typeof shipOrderInput>;

export const deliverOrderInput = z.object({
  receivedBy: requiredText(200),
  deliveredAt: z.date().nullish().refine(notFuture, 'Must not be in the future'),
});
export type DeliverOrderInput = z.input<typeof deliverOrderInput>;

export const recordPaymentInput = z.object({
  amount: moneySchema().refine((m) => m.amountMinor > 0, { message: 'Must be more than zero', path: ['amountMinor'] }),
  method: z.enum(PAYMENT_METHODS).nullish(),
  paidAt: z.date().nullish().refine(notFuture, 'Must not be in the future'),
  reference: optionalText(200),
});
export type RecordPaymentInput = z.input<typeof recordPaymentInput>;

export const orderFilterInput = z
  .object({
    customerId: objectId('customer').nullish(),
    statuses: z.array(z.enum(ORDER_STATUSES)).max(6).nullish(),
    quoteId: objectId('quote').nullish(),
    campaignCode: z.string().trim().max(64).nullish(),
  })
  .nullish();
export type OrderFilterInput = z.input<typeof orderFilterInput>;

/** What an order made from an accepted quote copies from it. */
export interface OrderFromQuote {
  quoteId: string;
  customerId: string;
  opportunityId: string | null;
  contractId: string | null;
  priced: Priced;
  ownership: Ownership;
}

function invalid(issues: z.core.$ZodIssue[], prefix = 'input'): never {
  throw new OrderException('ORDER_INVALID_INPUT', 'Invalid order', fieldProblems(issues, prefix));
}

/** A stock failure as the order's CONFLICT (the stock module's per-line fields kept). */
function stockProblem(error: unknown): never {
  if (error instanceof DomainException && error.reason.startsWith('STOCK_') && (error.code === 'CONFLICT' || error.code === 'NOT_FOUND')) {
    throw new OrderException('ORDER_STOCK_UNAVAILABLE', `Stock cannot be reserved: ${error.message}`, error.fields);
  }
  throw error;
}

interface Step {
  changes: Partial<OrderRecord>;
  events: (next: OrderRecord) => CloudEvent[];
}

/** The one facade resolvers (and the quote module) call for orders (SAL-6). */
export class OrderService {
  /** One write at a time per order in this process (FerretDB v1 updates are not atomic: see @crm/mongo). */
  readonly serial = new PerKeySerializer();

  constructor(
    private readonly orders: OrderModel,
    private readonly relay: OutboxRelay,
    private readonly catalog: Catalog,
    private readonly stock: StockPort,
    private readonly options: OrderOptions,
  ) {}

  /** The approval threshold of a currency in minor units (env ORDER_APPROVAL_THRESHOLD_MINOR). */
  thresholdFor(currency: string): number {
    return this.options.approvalThresholds[currency] ?? this.options.approvalThresholds['*'] ?? DEFAULT_THRESHOLD;
  }

  outstanding(order: OrderRecord): Money {
    return { amountMinor: order.totals.total.amountMinor - order.paidAmount.amountMinor, currency: order.currency };
  }

  // ---- reads --------------------------------------------------------------------------------------

  async get(id: string, user: AuthUser): Promise<OrderRecord | null> {
    const visible = ownedReadFilter(user);
    if (!visible || !OBJECT_ID.test(id)) return null;
    return this.orders.findOne({ $and: [{ _id: new Types.ObjectId(id) }, visible] }).lean<OrderRecord>().exec();
  }

  async list(args: PageArgs & { filter?: OrderFilterInput; count?: boolean }, user: AuthUser): Promise<Page<OrderRecord>> {
    const visible = ownedReadFilter(user);
    if (!visible) throw new OrderException('ORDER_FORBIDDEN', 'Your role cannot read orders');
    const parsed = orderFilterInput.safeParse(args.filter);
    if (!parsed.success) invalid(parsed.error.issues, 'filter');
    const f = parsed.data ?? {};
    const clauses: Record<string, unknown>[] = [visible];
    if (f.customerId) clauses.push({ customerId: f.customerId.toLowerCase() });
    if (f.quoteId) clauses.push({ quoteId: f.quoteId.toLowerCase() });
    if (f.campaignCode) clauses.push({ campaignCode: f.campaignCode });
    if (f.statuses?.length) clauses.push({ status: { $in: f.statuses } });
    return paginate(this.orders, { $and: clauses }, args, { sort: { field: 'createdAt', direction: -1 }, count: args.count !== false });
  }

  // ---- creation -----------------------------------------------------------------------------------

  /**
   * Places an order directly. Below the approval threshold it is approved at once: stock is reserved
   * first (under the new order's id) and the order is stored APPROVED only if that succeeded — a
   * shortfall is a CONFLICT and nothing is written. At or above the threshold it is stored
   * PENDING_APPROVAL and reserves on `approve`.
   */
  async place(input: PlaceOrderInput, user: AuthUser): Promise<OrderRecord> {
    if (!isSalesStaff(user)) throw new OrderException('ORDER_FORBIDDEN', 'Only sales staff and admins place orders');
    const parsed = placeOrderInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const d = parsed.data;
    const priced = await priceLines(this.catalog, d.currency, d.lines, d.discount);
    if (!priced.priced) throw new OrderException('ORDER_INVALID_INPUT', 'Invalid order', priced.problems);
    const id = new Types.ObjectId();
    const source = {
      customerId: d.customerId.toLowerCase(),
      quoteId: null,
      contractId: null,
      opportunityId: d.opportunityId?.toLowerCase() ?? null,
      campaignCode: d.campaignCode,
      paymentMethod: d.paymentMethod ?? null,
      notes: d.notes,
    };
    const approvalRequired = priced.priced.totals.total.amountMinor >= this.thresholdFor(d.currency);
    if (approvalRequired) return this.insert(this.newRecord(id, source, priced.priced, ownershipOf(user), user, { approved: false, approvalRequired }));

    await this.stock.reserveForOrder(id.toHexString(), this.stockLines(priced.priced), user).catch(stockProblem);
    const record = this.newRecord(id, source, priced.priced, ownershipOf(user), user, { approved: true, approvalRequired });
    try {
      return await this.insert(record);
    } catch (error) {
      // No order, so no reservation either.
      await this.stock.releaseForOrder(id.toHexString(), user).catch(() => undefined);
      throw error;
    }
  }

  /**
   * The order of an accepted quote, with an id derived from the quote's: accepting again returns it.
   * Below the threshold it reserves at once; when stock is short it is stored PENDING_APPROVAL with
   * the reason in its history (accepting the quote does not fail on stock).
   */
  async createFromQuote(id: Types.ObjectId, source: OrderFromQuote, user: AuthUser): Promise<OrderRecord> {
    const existing = await this.orders.findById(id).lean<OrderRecord>().exec();
    if (existing) return existing;
    const fields = {
      customerId: source.customerId,
      quoteId: source.quoteId,
      contractId: source.contractId,
      opportunityId: source.opportunityId,
      campaignCode: null,
      paymentMethod: null,
      notes: null,
    };
    const approvalRequired = source.priced.totals.total.amountMinor >= this.thresholdFor(source.priced.currency);
    let approved = false;
    let note: string | null = null;
    if (!approvalRequired) {
      try {
        await this.stock.reserveForOrder(id.toHexString(), this.stockLines(source.priced), user).catch(stockProblem);
        approved = true;
      } catch (error) {
        if (!(error instanceof OrderException)) throw error;
        note = `Automatic approval failed: ${error.message}`;
      }
    }
    const record = this.newRecord(id, fields, source.priced, source.ownership, user, { approved, approvalRequired, note });
    try {
      return await this.insert(record);
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
      return (await this.orders.findById(id).lean<OrderRecord>().exec())!;
    }
  }

  /** The lines as stock reserves them (stock adds up lines of one product; its errors name `lines.<i>` of these). */
  private stockLines(priced: Pick<Priced, 'lines'>) {
    return priced.lines.map((line) => ({ productId: line.productId, quantity: line.quantity }));
  }

  private newRecord(
    id: Types.ObjectId,
    source: Pick<OrderRecord, 'customerId' | 'quoteId' | 'contractId' | 'opportunityId' | 'campaignCode' | 'paymentMethod' | 'notes'>,
    priced: Priced,
    ownership: Ownership,
    user: AuthUser,
    { approved, approvalRequired, note = null }: { approved: boolean; approvalRequired: boolean; note?: string | null },
  ): OrderRecord {
    const now = new Date();
    const threshold = formatMoney({ amountMinor: this.thresholdFor(priced.currency), currency: priced.currency });
    const history: StatusChange[] = [
      {
        from: null,
        to: approved ? 'APPROVED' : 'PENDING_APPROVAL',
        at: now,
        by: user.id,
        note: approved ? `Approved automatically: total below the approval threshold (${threshold})` : (note ?? (approvalRequired ? `Total at or above ${threshold}: needs approval` : null)),
      },
    ];
    return {
      _id: id,
      ...source,
      ...ownership,
      currency: priced.currency,
      lines: priced.lines,
      discount: priced.discount,
      totals: priced.totals,
      status: approved ? 'APPROVED' : 'PENDING_APPROVAL',
      statusHistory: history,
      approvalRequired,
      approvedAt: approved ? now : null,
      approvedBy: approved ? 'system' : null,
      rejectionReason: null,
      cancelledAt: null,
      cancellationReason: null,
      shipment: null,
      delivery: null,
      paymentStatus: 'UNPAID',
      payments: [],
      paidAmount: { amountMinor: 0, currency: priced.currency },
      refundedAmount: { amountMinor: 0, currency: priced.currency },
      createdBy: user.id,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
  }

  private async insert(record: OrderRecord): Promise<OrderRecord> {
    const events = [orderEvent(OrderEventType.PLACED, record, {}, record.createdAt)];
    if (record.status === 'APPROVED') events.push(orderEvent(OrderEventType.APPROVED, record, { approvedBy: 'system', automatic: true }, record.createdAt));
    // The order and its events are one insert: both are stored or neither is.
    await this.orders.collection.insertOne({ ...record, [OUTBOX_FIELD]: events } as never);
    this.relay.notify(this.orders, record._id);
    return record;
  }

  // ---- changes ------------------------------------------------------------------------------------

  /** Reads an order the caller may change (approvers: sales managers of its department and admins). */
  private async writable(id: string, user: AuthUser, approver = false): Promise<OrderRecord> {
    const allowed = ownedWriteFilter(user);
    if (!allowed || !isSalesStaff(user)) throw new OrderException('ORDER_FORBIDDEN', 'Your role cannot change orders');
    if (approver && !hasAnyRole(user, [Role.SALES_MANAGER])) throw new OrderException('ORDER_FORBIDDEN', 'Only sales managers and admins approve or reject orders');
    if (!OBJECT_ID.test(id)) throw new OrderException('ORDER_NOT_FOUND', `No order ${id}`);
    const found = await this.orders.findOne({ $and: [{ _id: new Types.ObjectId(id) }, allowed] }).lean<OrderRecord>().exec();
    if (found) return found;
    if (await this.get(id, user)) throw new OrderException('ORDER_FORBIDDEN', 'You may not change this order');
    throw new OrderException('ORDER_NOT_FOUND', `No order ${id}`);
  }

  /**
   * Runs one change of an order: serialised per order in this process, then written with a
   * condition on the version read. With `expectedVersion` a mismatch is a CONFLICT; without it a write
   * that lost to a concurrent one (another replica) is re-decided on the fresh order, so concurrent
   * changes never overwrite each other.
   */
  private mutate(
    id: string,
    user: AuthUser,
    expectedVersion: number | null | undefined,
    decide: (current: OrderRecord) => Promise<Step | null> | Step | null,
    approver = false,
  ): Promise<OrderRecord> {
    return this.serial.run(id.toLowerCase(), async () => {
      for (let attempt = 1; ; attempt += 1) {
        const current = await this.writable(id, user, approver);
        if (expectedVersion != null && expectedVersion !== current.version) {
          throw new OrderException('ORDER_VERSION_CONFLICT', `Expected version ${expectedVersion}, found ${current.version}`);
        }
        const step = await decide(current);
        if (!step) return current;
        const next: OrderRecord = { ...current, ...step.changes, version: current.version + 1, updatedAt: new Date() };
        const result = await this.orders.collection.updateOne(
          { _id: current._id, version: current.version } as never,
          { $set: { ...step.changes, version: next.version, updatedAt: next.updatedAt }, ...appendEvents(step.events(next)) } as never,
        );
        if (result.matchedCount === 1) {
          this.relay.notify(this.orders, current._id);
          return next;
        }
        if (expectedVersion != null || attempt >= MAX_ATTEMPTS) {
          throw new OrderException('ORDER_VERSION_CONFLICT', 'The order was changed meanwhile; reload and retry');
        }
      }
    });
  }

  private requireTransition(current: OrderRecord, to: OrderStatus, action: string): void {
    if (!ORDER_TRANSITIONS[current.status].includes(to)) {
      const allowed = ORDER_TRANSITIONS[current.status];
      throw new OrderException('ORDER_INVALID_TRANSITION', `Cannot ${action} an order that is ${current.status}`, [
        { field: 'id', message: `A ${current.status} order can become ${allowed.join(' or ') || 'nothing else (final)'}` },
      ]);
    }
  }

  private moveTo(current: OrderRecord, to: OrderStatus, user: AuthUser, note: string | null, at = new Date()): Pick<OrderRecord, 'status' | 'statusHistory'> {
    return { status: to, statusHistory: [...current.statusHistory, { from: current.status, to, at, by: user.id, note }] };
  }

  /**
   * PENDING_APPROVAL → APPROVED (sales managers of the order's department, admins). Stock is reserved
   * first; if that fails the order stays as it was and the CONFLICT names the short lines.
   */
  async approve(id: string, note: string | null | undefined, user: AuthUser, expectedVersion?: number | null): Promise<OrderRecord> {
    const text = optionalText(1000).safeParse(note);
    if (!text.success) invalid(text.error.issues, 'note');
    let reserved = false;
    try {
      return await this.mutate(
        id,
        user,
        expectedVersion,
        async (current) => {
          this.requireTransition(current, 'APPROVED', 'approve');
          await this.stock.reserveForOrder(current._id.toHexString(), this.stockLines(current), user).catch(stockProblem);
          reserved = true;
          const now = new Date();
          return {
            changes: { ...this.moveTo(current, 'APPROVED', user, text.data, now), approvedAt: now, approvedBy: user.id },
            events: (next) => [orderEvent(OrderEventType.APPROVED, next, { approvedBy: user.id, automatic: false })],
          };
        },
        true,
      );
    } catch (error) {
      if (reserved) {
        // Reserved but not approved (e.g. cancelled meanwhile): give the stock back unless it is approved after all.
        const now = await this.orders.findById(id).lean<OrderRecord>().exec();
        if (!now || !HOLDS_STOCK.includes(now.status)) await this.stock.releaseForOrder(id.toLowerCase(), user).catch(() => undefined);
      }
      throw error;
    }
  }

  /** PENDING_APPROVAL → REJECTED (sales managers of the order's department, admins). */
  async reject(id: string, reason: string, user: AuthUser, expectedVersion?: number | null): Promise<OrderRecord> {
    const why = requiredText(1000).safeParse(reason);
    if (!why.success) invalid(why.error.issues, 'reason');
    const next = await this.mutate(
      id,
      user,
      expectedVersion,
      (current) => {
        this.requireTransition(current, 'REJECTED', 'reject');
        return {
          changes: { ...this.moveTo(current, 'REJECTED', user, why.data), rejectionReason: why.data },
          events: (n) => [orderEvent(OrderEventType.REJECTED, n, { reason: why.data, rejectedBy: user.id })],
        };
      },
      true,
    );
    // A failed approval may have left a reservation behind: releasing is idempotent.
    await this.stock.releaseForOrder(next._id.toHexString(), user).catch(() => undefined);
    return next;
  }

  /** APPROVED → SHIPPED: the reserved stock leaves the warehouse first, then the order records it. */
  ship(id: string, input: ShipOrderInput, user: AuthUser, expectedVersion?: number | null): Promise<OrderRecord> {
    const parsed = shipOrderInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    return this.mutate(id, user, expectedVersion, async (current) => {
      this.requireTransition(current, 'SHIPPED', 'ship');
      await this.stock.shipForOrder(current._id.toHexString(), user).catch(stockProblem);
      const shipment = { carrier: parsed.data.carrier, trackingNumber: parsed.data.trackingNumber, shippedAt: parsed.data.shippedAt ?? new Date(), shippedBy: user.id };
      return {
        changes: { ...this.moveTo(current, 'SHIPPED', user, `${shipment.carrier} ${shipment.trackingNumber}`), shipment },
        events: (next) => [orderEvent(OrderEventType.SHIPPED, next, { carrier: shipment.carrier, trackingNumber: shipment.trackingNumber, shippedAt: shipment.shippedAt.toISOString() })],
      };
    });
  }

  /** SHIPPED → DELIVERED. */
  deliver(id: string, input: DeliverOrderInput, user: AuthUser, expectedVersion?: number | null): Promise<OrderRecord> {
    const parsed = deliverOrderInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    return this.mutate(id, user, expectedVersion, (current) => {
      this.requireTransition(current, 'DELIVERED', 'deliver');
      const deliveredAt = parsed.data.deliveredAt ?? new Date();
      if (current.shipment && deliveredAt.getTime() < new Date(current.shipment.shippedAt).getTime()) {
        throw new OrderException('ORDER_INVALID_INPUT', 'Invalid delivery', [{ field: 'input.deliveredAt', message: 'Must not be before the shipment' }]);
      }
      const delivery = { deliveredAt, receivedBy: parsed.data.receivedBy, recordedBy: user.id };
      return {
        changes: { ...this.moveTo(current, 'DELIVERED', user, `Received by ${delivery.receivedBy}`), delivery },
        events: (next) => [orderEvent(OrderEventType.DELIVERED, next, { deliveredAt: deliveredAt.toISOString(), receivedBy: delivery.receivedBy })],
      };
    });
  }

  /**
   * PENDING_APPROVAL or APPROVED → CANCELLED, then the reservation is released. Cancelling a
   * cancelled order only releases again (a retry after a failed release finishes the job).
   */
  async cancel(id: string, reason: string, user: AuthUser, expectedVersion?: number | null): Promise<OrderRecord> {
    const why = requiredText(1000).safeParse(reason);
    if (!why.success) invalid(why.error.issues, 'reason');
    const next = await this.mutate(id, user, expectedVersion, (current) => {
      if (current.status === 'CANCELLED') return null;
      this.requireTransition(current, 'CANCELLED', 'cancel');
      return {
        changes: { ...this.moveTo(current, 'CANCELLED', user, why.data), cancelledAt: new Date(), cancellationReason: why.data },
        events: (n) => [orderEvent(OrderEventType.CANCELLED, n, { reason: why.data, cancelledBy: user.id, previousStatus: current.status })],
      };
    });
    await this.stock.releaseForOrder(next._id.toHexString(), user);
    return next;
  }

  /** Records a payment: same currency, more than zero, at most what is outstanding. */
  recordPayment(id: string, input: RecordPaymentInput, user: AuthUser, expectedVersion?: number | null): Promise<OrderRecord> {
    const parsed = recordPaymentInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const d = parsed.data;
    return this.mutate(id, user, expectedVersion, (current) => {
      if (current.status === 'CANCELLED' || current.status === 'REJECTED') {
        throw new OrderException('ORDER_INVALID_TRANSITION', `Cannot record a payment on a ${current.status} order`, [{ field: 'id', message: `The order is ${current.status}` }]);
      }
      if (current.paymentStatus === 'REFUNDED') {
        throw new OrderException('ORDER_INVALID_TRANSITION', 'The order was refunded', [{ field: 'id', message: 'The order was refunded' }]);
      }
      if (d.amount.currency !== current.currency) {
        throw new OrderException('ORDER_PAYMENT_INVALID', `The order is in ${current.currency}`, [{ field: 'input.amount.currency', message: `Must be ${current.currency}` }]);
      }
      const outstanding = this.outstanding(current);
      if (d.amount.amountMinor > outstanding.amountMinor) {
        throw new OrderException('ORDER_PAYMENT_INVALID', `More than the outstanding ${formatMoney(outstanding)}`, [
          { field: 'input.amount.amountMinor', message: `At most ${outstanding.amountMinor} (outstanding)` },
        ]);
      }
      const method: PaymentMethod | null = d.method ?? current.paymentMethod;
      if (!method) throw new OrderException('ORDER_INVALID_INPUT', 'Invalid payment', [{ field: 'input.method', message: 'Required: the order has no payment method' }]);
      const now = new Date();
      const payment = { id: randomUUID(), amount: d.amount, method, paidAt: d.paidAt ?? now, reference: d.reference, recordedBy: user.id, recordedAt: now };
      const paid = current.paidAmount.amountMinor + d.amount.amountMinor;
      const full = paid === current.totals.total.amountMinor;
      return {
        changes: {
          payments: [...current.payments, payment],
          paidAmount: { amountMinor: paid, currency: current.currency },
          paymentStatus: full ? 'PAID' : 'PARTIALLY_PAID',
          ...(current.paymentMethod ? {} : { paymentMethod: method }),
        },
        events: (next) => {
          const data = { paymentId: payment.id, amount: payment.amount, method, paidAt: payment.paidAt.toISOString() };
          const events = [orderEvent(OrderEventType.PAYMENT_RECORDED, next, data)];
          if (full) events.push(orderEvent(OrderEventType.PAID, next, { paidAt: payment.paidAt.toISOString() }));
          return events;
        },
      };
    });
  }

  /** Which of these ids are stored orders (for the stock module's release of orphaned reservations). */
  async existingIds(ids: string[]): Promise<Set<string>> {
    const valid = ids.filter((id) => OBJECT_ID.test(id)).map((id) => new Types.ObjectId(id));
    const found = await findByIds<{ _id: Types.ObjectId }>(this.orders, valid, { _id: 1 });
    return new Set(found.map((doc) => doc._id.toHexString()));
  }

  /** customer.merged: moves the orders of a merged-away customer to the survivor (idempotent; `order.updated` each). */
  async repointCustomer(fromId: string, toId: string): Promise<number> {
    const ids = (await this.orders.find({ customerId: fromId }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec()).map((doc) => doc._id);
    let moved = 0;
    for (const id of ids) {
      moved += await this.serial.run(id.toHexString(), async () => {
        for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
          const current = await this.orders.findOne({ _id: id, customerId: fromId }).lean<OrderRecord>().exec();
          if (!current) return 0;
          const next: OrderRecord = { ...current, customerId: toId, version: current.version + 1, updatedAt: new Date() };
          const result = await this.orders.collection.updateOne(
            { _id: id, version: current.version } as never,
            { $set: { customerId: toId, version: next.version, updatedAt: next.updatedAt }, ...appendEvents([orderEvent(OrderEventType.UPDATED, next, { changed: ['customerId'], mergedCustomerId: fromId })]) } as never,
          );
          if (result.matchedCount === 1) {
            this.relay.notify(this.orders, id);
            return 1;
          }
        }
        throw new Error(`Order ${id.toHexString()} kept changing while re-pointing its customer`);
      });
    }
    return moved;
  }

  /** Refunds everything paid: payment status REFUNDED (e.g. after a cancellation). */
  refund(id: string, note: string | null | undefined, user: AuthUser, expectedVersion?: number | null): Promise<OrderRecord> {
    const text = optionalText(1000).safeParse(note);
    if (!text.success) invalid(text.error.issues, 'note');
    return this.mutate(id, user, expectedVersion, (current) => {
      if (current.paymentStatus === 'REFUNDED' || current.paidAmount.amountMinor === 0) {
        throw new OrderException('ORDER_PAYMENT_INVALID', 'Nothing to refund', [{ field: 'id', message: current.paymentStatus === 'REFUNDED' ? 'Already refunded' : 'Nothing was paid' }]);
      }
      return {
        changes: { paymentStatus: 'REFUNDED', refundedAmount: current.paidAmount },
        events: (next) => [orderEvent(OrderEventType.REFUNDED, next, { refundedAmount: current.paidAmount, note: text.data, refundedBy: user.id })],
      };
    });
  }
}
