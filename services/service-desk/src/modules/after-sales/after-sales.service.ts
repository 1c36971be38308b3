import { Types } from 'mongoose';
import { ERASED_TEXT } from '@crm/customer-link';
import { z } from 'zod';
import { hasAnyRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems, type FieldProblem } from '@crm/errors';
import { AggregateWriter, type Change, type OutboxRelay } from '@crm/events';
import { MAX_PAGE_SIZE, paginate, type Page, type PageArgs } from '@crm/mongo';
import type { OrderDirectory } from '../order-directory/order-directory.service.js';
import { isCustomerCaller } from '../ticket/ticket.service.js';
import { AfterSalesException } from './after-sales.errors.js';
import { afterSalesEvent, AfterSalesEventType } from './after-sales.events.js';
import { AFTER_SALES_KINDS, AFTER_SALES_STATUSES, AFTER_SALES_TRANSITIONS, type AfterSalesHistoryEntry, type AfterSalesModel, type AfterSalesRecord, type AfterSalesStatus } from './after-sales.model.js';

/** What after-sales needs to know about callers and tickets (customer directory, ticket module). */
export interface AfterSalesPorts {
  customerIdOf(user: AuthUser): Promise<string | null>;
  /** The ticket as the caller may see it (null: none or hidden). */
  ticketOf(ticketId: string, user: AuthUser): Promise<{ customerId: string } | null>;
}

export interface AfterSalesOptions {
  /** Days after delivery in which a RETURN may be requested (env AFTER_SALES_RETURN_WINDOW_DAYS). */
  returnWindowDays: number;
}

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const DAY_MS = 86_400_000;
const SYSTEM = 'system';
/** Roles that read every record (admins pass every role check). */
const READERS = [Role.SERVICE_AGENT, Role.SERVICE_MANAGER, Role.ANALYST, Role.SALES_MANAGER] as const;
const STAFF = [Role.SERVICE_AGENT, Role.SERVICE_MANAGER] as const;
const MANAGERS = [Role.SERVICE_MANAGER] as const;

const objectId = (what: string) => z.string().regex(OBJECT_ID, `Not a${/^[aeiou]/.test(what) ? 'n' : ''} ${what} id`).transform((v) => v.toLowerCase());
const note = (max: number) => z.string().trim().max(max, `At most ${max} characters`).nullish().transform((v) => v || null);
const requiredText = (max: number) => z.string().trim().min(1, 'Required').max(max, `At most ${max} characters`);

const requestInput = z.object({
  kind: z.enum(AFTER_SALES_KINDS),
  customerId: objectId('customer').nullish(),
  productId: objectId('product'),
  orderId: objectId('order'),
  ticketId: objectId('ticket').nullish().transform((v) => v ?? null),
  quantity: z.number().int('A whole number').min(1, 'At least 1').max(10_000, 'At most 10000').nullish().transform((v) => v ?? 1),
  reason: requiredText(2000),
});
export type RequestAfterSalesInput = z.input<typeof requestInput>;

const filterInput = z
  .object({
    customerId: objectId('customer').nullish(),
    orderId: objectId('order').nullish(),
    productId: objectId('product').nullish(),
    ticketId: objectId('ticket').nullish(),
    kind: z.enum(AFTER_SALES_KINDS).nullish(),
    statuses: z.array(z.enum(AFTER_SALES_STATUSES)).max(AFTER_SALES_STATUSES.length).nullish(),
  })
  .nullish();
export type AfterSalesFilterInput = z.input<typeof filterInput>;

function invalid(fields: FieldProblem[], message = 'Invalid after-sales input'): never {
  throw new AfterSalesException('AFTER_SALES_INVALID_INPUT', message, fields);
}

function parse<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) invalid(fieldProblems(parsed.error.issues, prefix));
  return parsed.data;
}

const entry = (by: string, field: string, from: string | null, to: string, text: string | null, at: Date): AfterSalesHistoryEntry => ({ at, by, field, from, to, note: text });

type Viewer = { kind: 'all' } | { kind: 'customer'; customerId: string | null };

/** Status actions: who may, which event, and whether a note is required. */
const ACTIONS = {
  approve: { to: 'APPROVED', event: AfterSalesEventType.APPROVED, roles: MANAGERS, noteRequired: false },
  reject: { to: 'REJECTED', event: AfterSalesEventType.REJECTED, roles: MANAGERS, noteRequired: true },
  start: { to: 'IN_PROGRESS', event: AfterSalesEventType.STARTED, roles: STAFF, noteRequired: false },
  complete: { to: 'COMPLETED', event: AfterSalesEventType.COMPLETED, roles: STAFF, noteRequired: false },
  cancel: { to: 'CANCELLED', event: AfterSalesEventType.CANCELLED, roles: STAFF, noteRequired: false },
} as const satisfies Record<string, { to: AfterSalesStatus; event: AfterSalesEventType; roles: readonly Role[]; noteRequired: boolean }>;
export type AfterSalesAction = keyof typeof ACTIONS;

/** The one facade resolvers and the customer-link consumer call for returns, repairs and replacements (SVC-6). */
export class AfterSalesService {
  readonly writer: AggregateWriter<AfterSalesRecord>;

  constructor(
    private readonly records: AfterSalesModel,
    relay: OutboxRelay,
    private readonly orders: OrderDirectory,
    private readonly ports: AfterSalesPorts,
    private readonly options: AfterSalesOptions,
  ) {
    this.writer = new AggregateWriter(records, relay, {
      notFound: (id) => new AfterSalesException('AFTER_SALES_NOT_FOUND', `No after-sales record ${id}`),
      conflict: (message) => new AfterSalesException('AFTER_SALES_VERSION_CONFLICT', message),
    });
  }

  get serial() {
    return this.writer.serial;
  }

  private async viewerOf(user: AuthUser): Promise<Viewer> {
    if (isCustomerCaller(user)) return { kind: 'customer', customerId: await this.ports.customerIdOf(user) };
    if (hasAnyRole(user, READERS)) return { kind: 'all' };
    throw new AfterSalesException('AFTER_SALES_FORBIDDEN', 'Your role cannot read after-sales records');
  }

  private readFilter(viewer: Viewer): Record<string, unknown> {
    return viewer.kind === 'all' ? {} : viewer.customerId ? { customerId: viewer.customerId } : { _id: null };
  }

  private loadFor(viewer: Viewer) {
    return async (id: string) => {
      const record = await this.records.findById(id).lean<AfterSalesRecord>().exec();
      return record && (viewer.kind === 'all' || record.customerId === viewer.customerId) ? record : null;
    };
  }

  // ---- reads --------------------------------------------------------------------------------------

  async get(id: string, user: AuthUser): Promise<AfterSalesRecord | null> {
    const viewer = await this.viewerOf(user);
    return OBJECT_ID.test(id) ? this.loadFor(viewer)(id.toLowerCase()) : null;
  }

  async list(args: PageArgs & { filter?: AfterSalesFilterInput; count?: boolean }, user: AuthUser): Promise<Page<AfterSalesRecord>> {
    const viewer = await this.viewerOf(user);
    const f = parse(filterInput, args.filter, 'filter') ?? {};
    const clauses: Record<string, unknown>[] = [this.readFilter(viewer)];
    for (const field of ['customerId', 'orderId', 'productId', 'ticketId', 'kind'] as const) if (f[field]) clauses.push({ [field]: f[field] });
    if (f.statuses?.length) clauses.push({ status: { $in: f.statuses } });
    return paginate(this.records, { $and: clauses }, args, { sort: { field: 'createdAt', direction: -1 }, count: args.count !== false });
  }

  /** `Customer.afterSalesRecords` / `Order.afterSalesRecords`: newest first, as the caller may see them. */
  async listBy(field: 'customerId' | 'orderId', id: string, first: number | null | undefined, user: AuthUser): Promise<AfterSalesRecord[]> {
    const size = first ?? 20;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) invalid([{ field: 'first', message: `Must be 1 to ${MAX_PAGE_SIZE}` }], 'Invalid page size');
    const viewer = await this.viewerOf(user);
    if (!OBJECT_ID.test(id)) return [];
    return this.records.find({ $and: [this.readFilter(viewer), { [field]: id.toLowerCase() }] }).sort({ createdAt: -1, _id: -1 }).limit(size).lean<AfterSalesRecord[]>().exec();
  }

  // ---- requests -----------------------------------------------------------------------------------

  /**
   * A new REQUESTED record: service staff for any customer, a self-service customer for itself. The
   * order must be known from the sales events, be the customer's, contain the product, not be
   * cancelled or rejected, be delivered, and (returns) within the return window after delivery.
   */
  async request(input: RequestAfterSalesInput, user: AuthUser): Promise<AfterSalesRecord> {
    const customerCaller = isCustomerCaller(user);
    if (!customerCaller && !hasAnyRole(user, STAFF)) throw new AfterSalesException('AFTER_SALES_FORBIDDEN', 'Only service staff and customers request after-sales service');
    const d = parse(requestInput, input, 'input');
    let customerId = d.customerId ?? null;
    if (customerCaller) {
      const own = await this.ports.customerIdOf(user);
      if (!own) throw new AfterSalesException('AFTER_SALES_FORBIDDEN', 'Your account is not linked to a customer');
      if (customerId && customerId !== own) throw new AfterSalesException('AFTER_SALES_FORBIDDEN', 'You can only request after-sales service for yourself', [{ field: 'input.customerId', message: 'Not your customer id' }]);
      customerId = own;
    }
    if (!customerId) invalid([{ field: 'input.customerId', message: 'Required' }]);
    await this.checkOrder(d.kind, customerId, d.orderId, d.productId, new Date());
    if (d.ticketId) {
      const ticket = await this.ports.ticketOf(d.ticketId, user);
      if (!ticket) invalid([{ field: 'input.ticketId', message: 'No such ticket' }]);
      if (ticket.customerId !== customerId) invalid([{ field: 'input.ticketId', message: "Not this customer's ticket" }]);
    }
    const now = new Date();
    const record: AfterSalesRecord = {
      _id: new Types.ObjectId(),
      kind: d.kind,
      customerId,
      productId: d.productId,
      orderId: d.orderId,
      ticketId: d.ticketId,
      quantity: d.quantity,
      reason: d.reason,
      status: 'REQUESTED',
      statusNote: null,
      history: [entry(user.id, 'status', null, 'REQUESTED', d.reason, now)],
      requestedBy: user.id,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    return this.writer.insert(record, [afterSalesEvent(AfterSalesEventType.REQUESTED, record, { reason: d.reason, requestedBy: user.id })]);
  }

  private async checkOrder(kind: AfterSalesRecord['kind'], customerId: string, orderId: string, productId: string, now: Date): Promise<void> {
    const order = await this.orders.get(orderId);
    if (!order) invalid([{ field: 'input.orderId', message: 'Unknown order (not yet seen from the sales service)' }]);
    if (order.customerId !== customerId) invalid([{ field: 'input.orderId', message: "Not this customer's order" }]);
    if (!order.productIds.includes(productId)) invalid([{ field: 'input.productId', message: 'The order does not contain this product' }]);
    const ineligible = (message: string, detail: string) => {
      throw new AfterSalesException('AFTER_SALES_ORDER_INELIGIBLE', message, [{ field: 'input.orderId', message: detail }]);
    };
    if (order.status === 'CANCELLED' || order.status === 'REJECTED') ineligible(`The order is ${order.status}`, `The order is ${order.status.toLowerCase()}`);
    if (order.status !== 'DELIVERED' || !order.deliveredAt) ineligible('The order has not been delivered yet', `The order is ${order.status}`);
    if (kind === 'RETURN') {
      const until = new Date(new Date(order.deliveredAt!).getTime() + this.options.returnWindowDays * DAY_MS);
      if (now.getTime() > until.getTime()) ineligible('The return window has passed', `Returns within ${this.options.returnWindowDays} days of delivery (until ${until.toISOString()})`);
    }
  }

  // ---- status -------------------------------------------------------------------------------------

  /**
   * One status action. Approve and reject: service managers; start, complete, cancel: service staff;
   * the record's customer may also cancel while it is REQUESTED. A note is kept in the history (and
   * required to reject).
   */
  async act(action: AfterSalesAction, id: string, text: string | null | undefined, user: AuthUser, expectedVersion?: number | null): Promise<AfterSalesRecord> {
    const spec = ACTIONS[action];
    const customerCaller = isCustomerCaller(user);
    const customerCancel = action === 'cancel' && customerCaller;
    if (!customerCancel && (customerCaller || !hasAnyRole(user, spec.roles))) throw new AfterSalesException('AFTER_SALES_FORBIDDEN', `Your role cannot ${action} after-sales records`);
    const why = parse(spec.noteRequired ? requiredText(2000) : note(2000), text, 'note');
    const viewer = await this.viewerOf(user);
    return this.writer.mutate(
      id,
      expectedVersion,
      (current): Change<AfterSalesRecord> => {
        if (!AFTER_SALES_TRANSITIONS[current.status].includes(spec.to) || (customerCancel && current.status !== 'REQUESTED')) {
          const allowed = customerCancel ? (current.status === 'REQUESTED' ? ['CANCELLED'] : []) : AFTER_SALES_TRANSITIONS[current.status];
          throw new AfterSalesException('AFTER_SALES_INVALID_TRANSITION', `Cannot ${action} a record that is ${current.status}`, [
            { field: 'id', message: `A ${current.status} record can become ${allowed.join(' or ') || 'nothing else'}${customerCancel ? ' by you' : ''}` },
          ]);
        }
        const now = new Date();
        return {
          changes: { status: spec.to, statusNote: why, history: [...current.history, entry(user.id, 'status', current.status, spec.to, why, now)] },
          events: (next) => [afterSalesEvent(spec.event, next, { previousStatus: current.status, note: why, by: user.id }, now)],
        };
      },
      this.loadFor(viewer),
    );
  }

  // ---- customer merges ----------------------------------------------------------------------------

  /** customer.erased: the reason and notes go (kind, product, order, quantity, status and times stay); no event. Idempotent. */
  async eraseCustomer(customerId: string): Promise<number> {
    const docs = await this.records.collection.find({ customerId: customerId.toLowerCase() } as never, { projection: { _id: 1 } }).toArray();
    // Read afresh and rewritten inside the record's queue (shared with the relay; FerretDB v1).
    for (const { _id } of docs) await this.writer.serial.run(String(_id), async () => {
      const record = (await this.records.collection.findOne({ _id } as never)) as unknown as AfterSalesRecord | null;
      if (!record) return;
      await this.records.collection.updateOne({ _id: record._id } as never, {
        $set: { reason: ERASED_TEXT, statusNote: record.statusNote ? ERASED_TEXT : null, history: record.history.map((h) => ({ ...h, note: h.note ? ERASED_TEXT : null })) },
      } as never);
    });
    return docs.length;
  }

  /** customer.merged (via @crm/customer-link): the merged-away customer's records move to the survivor, each with `after-sales.updated`. */
  async repointCustomer(fromId: string, toId: string): Promise<number> {
    const [from, to] = [fromId.toLowerCase(), toId.toLowerCase()];
    const ids = (await this.records.find({ customerId: from }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec()).map((d) => d._id.toHexString());
    let moved = 0;
    for (const id of ids) {
      await this.writer.mutate(id, null, (current) => {
        if (current.customerId !== from) return null;
        moved += 1;
        const now = new Date();
        return {
          changes: { customerId: to, history: [...current.history, entry(SYSTEM, 'customer', from, to, 'Customers merged', now)] },
          events: (next) => [afterSalesEvent(AfterSalesEventType.UPDATED, next, { changed: ['customerId'], mergedCustomerId: from }, now)],
        };
      });
    }
    return moved;
  }
}
