import { randomUUID } from 'node:crypto';
import { ERASED_TEXT } from '@crm/customer-link';
import { Types } from 'mongoose';
import { z } from 'zod';
import { hasAnyRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { AggregateWriter, type Change, type CloudEvent, type OutboxRelay } from '@crm/events';
import { MAX_PAGE_SIZE, paginate, type Page, type PageArgs } from '@crm/mongo';
import { USER_ID, type QueueService } from '../queue/queue.service.js';
import type { QueueRecord } from '../queue/queue.model.js';
import { TicketException } from './ticket.errors.js';
import { ticketEvent, TicketEventType } from './ticket.events.js';
import {
  OPEN_STATUSES,
  TICKET_CHANNELS,
  TICKET_PRIORITIES,
  TICKET_STATUSES,
  TICKET_TRANSITIONS,
  TICKET_TYPES,
  VISIBILITIES,
  type TicketComment,
  type TicketHistoryEntry,
  type TicketModel,
  type TicketRecord,
  type TicketStatus,
  type TicketType,
  type Visibility,
} from './ticket.model.js';
import { noSlaHooks, type TicketSlaHooks } from './ticket.sla.js';

/** What tickets need from the customer directory (src/modules/customer-directory). */
export interface CustomerDirectoryPort {
  customerIdOf(user: AuthUser): Promise<string | null>;
  ownerOf(customerId: string): Promise<string | null>;
}

export interface TicketOptions {
  /** Ticket types that need a service manager's approval before dispatch (env TICKET_APPROVAL_TYPES). */
  approvalTypes: readonly TicketType[];
  /** Days after resolution in which a RESOLVED or CLOSED ticket can be reopened (env TICKET_REOPEN_WINDOW_DAYS). */
  reopenWindowDays: number;
}

export const DEFAULT_TICKET_OPTIONS: TicketOptions = { approvalTypes: ['COMPLAINT'], reopenWindowDays: 14 };

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const SYSTEM = 'system';
const DAY_MS = 86_400_000;
/** Attempts of a change whose conditional write lost to a concurrent one (without expectedVersion). */
const MAX_ATTEMPTS = 8;
/** Roles that read every ticket. */
const READ_ALL = [Role.SERVICE_MANAGER, Role.ANALYST, Role.SALES_MANAGER] as const;
/** Roles that work on tickets (admins pass every role check). */
const STAFF = [Role.SERVICE_AGENT, Role.SERVICE_MANAGER] as const;
const MANAGERS = [Role.SERVICE_MANAGER] as const;
/** Roles that open tickets for any customer. */
const OPENERS = [Role.SERVICE_AGENT, Role.SERVICE_MANAGER, Role.SALES_MANAGER, Role.SALES_REP] as const;

const objectId = (what: string) => z.string().regex(OBJECT_ID, `Not a${/^[aeiou]/.test(what) ? 'n' : ''} ${what} id`).transform((v) => v.toLowerCase());
const requiredText = (max: number) => z.string().trim().min(1, 'Required').max(max, `At most ${max} characters`);
const optionalText = (max: number) => z.string().trim().max(max, `At most ${max} characters`).nullish().transform((v) => v || null);

export const createTicketInput = z.object({
  customerId: objectId('customer').nullish(),
  subject: requiredText(200),
  description: optionalText(10_000),
  type: z.enum(TICKET_TYPES),
  priority: z.enum(TICKET_PRIORITIES).nullish().transform((v) => v ?? 'NORMAL'),
  channel: z.enum(TICKET_CHANNELS).nullish().transform((v) => v ?? 'WEB'),
  productId: objectId('product').nullish().transform((v) => v ?? null),
  orderId: objectId('order').nullish().transform((v) => v ?? null),
  queueId: objectId('queue').nullish().transform((v) => v ?? null),
});
export type CreateTicketInput = z.input<typeof createTicketInput>;

export const ticketFilterInput = z
  .object({
    customerId: objectId('customer').nullish(),
    productId: objectId('product').nullish(),
    orderId: objectId('order').nullish(),
    queueId: objectId('queue').nullish(),
    assigneeId: z.string().regex(USER_ID, 'Not a Keycloak user id').nullish(),
    statuses: z.array(z.enum(TICKET_STATUSES)).max(TICKET_STATUSES.length).nullish(),
  })
  .nullish();
export type TicketFilterInput = z.input<typeof ticketFilterInput>;

export const assignTicketInput = z
  .object({
    queueId: objectId('queue').nullish(),
    assigneeId: z.string().trim().toLowerCase().regex(USER_ID, 'Not a Keycloak user id').nullish(),
    note: optionalText(1000),
  })
  .refine((v) => v.queueId || v.assigneeId, { message: 'Give a queueId, an assigneeId or both', path: ['queueId'] });
export type AssignTicketInput = z.input<typeof assignTicketInput>;

export const addCommentInput = z.object({
  body: requiredText(10_000),
  visibility: z.enum(VISIBILITIES).nullish().transform((v) => v ?? 'PUBLIC'),
});
export type AddCommentInput = z.input<typeof addCommentInput>;

export const rateTicketInput = z.object({
  rating: z.number().int('A whole number').min(1, 'At least 1').max(5, 'At most 5'),
  comment: optionalText(2000),
});
export type RateTicketInput = z.input<typeof rateTicketInput>;

export const conversationHandOverInput = z.object({
  customerId: objectId('customer'),
  subject: requiredText(200),
  transcript: requiredText(50_000),
  productId: objectId('product').nullish().transform((v) => v ?? null),
  conversationId: z.string().trim().min(1, 'Required').max(100, 'At most 100 characters'),
});
export interface ConversationHandOver {
  customerId: string;
  subject: string;
  transcript: string;
  productId?: string | null;
  conversationId: string;
}

function invalid(issues: z.core.$ZodIssue[], prefix = 'input'): never {
  throw new TicketException('TICKET_INVALID_INPUT', 'Invalid ticket input', fieldProblems(issues, prefix));
}

function parse<T extends z.ZodType>(schema: T, value: unknown, prefix = 'input'): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) invalid(parsed.error.issues, prefix);
  return parsed.data;
}

/** Whom a caller acts as, for reading tickets. */
type Viewer =
  | { kind: 'all' }
  | { kind: 'agent'; queueIds: string[] }
  | { kind: 'rep' }
  | { kind: 'customer'; customerId: string | null };

/** A self-service caller: the customer role and no staff role. */
export function isCustomerCaller(user: AuthUser): boolean {
  return user.roles.includes(Role.CUSTOMER) && !hasAnyRole(user, [...OPENERS, Role.ANALYST]);
}

const isStaff = (user: AuthUser) => hasAnyRole(user, STAFF);
const isManager = (user: AuthUser) => hasAnyRole(user, MANAGERS);

type Step = Change<TicketRecord>;

/** History entries whose from/to values are free text. */
const TEXT_FIELDS = new Set(['subject', 'description', 'resolution', 'closeReason']);

/** The one facade resolvers (and the conversation module, the SLA scheduler, consumers) call for tickets (SVC-1, SVC-3). */
export class TicketService {
  private readonly writer: AggregateWriter<TicketRecord>;

  constructor(
    private readonly tickets: TicketModel,
    relay: OutboxRelay,
    private readonly queues: QueueService,
    private readonly directory: CustomerDirectoryPort,
    private readonly options: TicketOptions = DEFAULT_TICKET_OPTIONS,
    private sla: TicketSlaHooks = noSlaHooks,
  ) {
    this.writer = new AggregateWriter(tickets, relay, {
      notFound: (id) => new TicketException('TICKET_NOT_FOUND', `No ticket ${id}`),
      conflict: (message) => new TicketException('TICKET_VERSION_CONFLICT', message),
      maxAttempts: MAX_ATTEMPTS,
    });
  }

  /** One write at a time per ticket in this process (FerretDB v1 updates are not atomic: see @crm/mongo). */
  get serial() {
    return this.writer.serial;
  }

  /** Wires the SLA module's clock functions (app.ts). */
  useSla(hooks: TicketSlaHooks): void {
    this.sla = hooks;
  }

  reopenableUntil(ticket: TicketRecord): Date | null {
    if ((ticket.status !== 'RESOLVED' && ticket.status !== 'CLOSED') || !ticket.resolvedAt) return null;
    return new Date(new Date(ticket.resolvedAt).getTime() + this.options.reopenWindowDays * DAY_MS);
  }

  // ---- visibility ---------------------------------------------------------------------------------

  private async viewerOf(user: AuthUser): Promise<Viewer> {
    if (hasAnyRole(user, READ_ALL)) return { kind: 'all' };
    if (hasAnyRole(user, [Role.SERVICE_AGENT])) return { kind: 'agent', queueIds: await this.queues.queueIdsOf(user.id) };
    if (hasAnyRole(user, [Role.SALES_REP])) return { kind: 'rep' };
    if (user.roles.includes(Role.CUSTOMER)) return { kind: 'customer', customerId: await this.directory.customerIdOf(user) };
    throw new TicketException('TICKET_FORBIDDEN', 'Your role cannot read tickets');
  }

  /** The tickets a viewer may see, as a query (sales reps: those they opened; see `customerFilter`). */
  private readFilter(viewer: Viewer, user: AuthUser): Record<string, unknown> {
    switch (viewer.kind) {
      case 'all':
        return {};
      case 'agent':
        return { $or: [{ queueId: { $in: viewer.queueIds } }, { assigneeId: user.id }, { createdById: user.id }] };
      case 'rep':
        return { createdById: user.id };
      case 'customer':
        return viewer.customerId ? { customerId: viewer.customerId } : { _id: null };
    }
  }

  /** A read filter for one customer's tickets: sales reps see all tickets of customers they own. */
  private async customerFilter(viewer: Viewer, user: AuthUser, customerId: string): Promise<Record<string, unknown>> {
    if (viewer.kind === 'rep' && (await this.directory.ownerOf(customerId)) === user.id) return { customerId };
    return { $and: [this.readFilter(viewer, user), { customerId }] };
  }

  private async canSee(ticket: TicketRecord, viewer: Viewer, user: AuthUser): Promise<boolean> {
    switch (viewer.kind) {
      case 'all':
        return true;
      case 'agent':
        return (ticket.queueId !== null && viewer.queueIds.includes(ticket.queueId)) || ticket.assigneeId === user.id || ticket.createdById === user.id;
      case 'rep':
        return ticket.createdById === user.id || (await this.directory.ownerOf(ticket.customerId)) === user.id;
      case 'customer':
        return viewer.customerId !== null && ticket.customerId === viewer.customerId;
    }
  }

  // ---- reads --------------------------------------------------------------------------------------

  async get(id: string, user: AuthUser): Promise<TicketRecord | null> {
    const viewer = await this.viewerOf(user);
    if (!OBJECT_ID.test(id)) return null;
    const ticket = await this.tickets.findById(id.toLowerCase()).lean<TicketRecord>().exec();
    return ticket && (await this.canSee(ticket, viewer, user)) ? ticket : null;
  }

  async list(args: PageArgs & { filter?: TicketFilterInput; count?: boolean }, user: AuthUser): Promise<Page<TicketRecord>> {
    const viewer = await this.viewerOf(user);
    const f = parse(ticketFilterInput, args.filter, 'filter') ?? {};
    const clauses: Record<string, unknown>[] = [f.customerId ? await this.customerFilter(viewer, user, f.customerId) : this.readFilter(viewer, user)];
    if (f.productId) clauses.push({ productId: f.productId });
    if (f.orderId) clauses.push({ orderId: f.orderId });
    if (f.queueId) clauses.push({ queueId: f.queueId });
    if (f.assigneeId) clauses.push({ assigneeId: f.assigneeId.toLowerCase() });
    if (f.statuses?.length) clauses.push({ status: { $in: f.statuses } });
    return paginate(this.tickets, { $and: clauses }, args, { sort: { field: 'createdAt', direction: -1 }, count: args.count !== false });
  }

  private pageSize(first: number | null | undefined): number {
    const size = first ?? 20;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      throw new TicketException('TICKET_INVALID_INPUT', 'Invalid page size', [{ field: 'first', message: `Must be 1 to ${MAX_PAGE_SIZE}` }]);
    }
    return size;
  }

  /** A customer's newest tickets the caller may see (the `Customer.tickets` field). */
  async ofCustomer(customerId: string, first: number | null | undefined, user: AuthUser): Promise<TicketRecord[]> {
    const size = this.pageSize(first);
    const viewer = await this.viewerOf(user);
    if (!OBJECT_ID.test(customerId)) return [];
    const filter = await this.customerFilter(viewer, user, customerId.toLowerCase());
    return this.tickets.find(filter).sort({ createdAt: -1, _id: -1 }).limit(size).lean<TicketRecord[]>().exec();
  }

  /** A product's newest tickets the caller may see (the `Product.tickets` field). */
  async ofProduct(productId: string, first: number | null | undefined, user: AuthUser): Promise<TicketRecord[]> {
    const size = this.pageSize(first);
    const viewer = await this.viewerOf(user);
    if (!OBJECT_ID.test(productId)) return [];
    return this.tickets
      .find({ $and: [this.readFilter(viewer, user), { productId: productId.toLowerCase() }] })
      .sort({ createdAt: -1, _id: -1 })
      .limit(size)
      .lean<TicketRecord[]>()
      .exec();
  }

  /**
   * Average rating and count over all of a customer's rated tickets (`Customer.satisfaction`), for
   * callers who may see the customer's tickets at all: service staff, analysts, sales managers, the
   * owning sales rep and the customer itself; anyone else gets FORBIDDEN.
   */
  async satisfactionOf(customerId: string, user: AuthUser): Promise<{ average: number | null; count: number }> {
    const viewer = await this.viewerOf(user);
    const id = customerId.toLowerCase();
    const allowed =
      viewer.kind === 'all' ||
      viewer.kind === 'agent' ||
      (viewer.kind === 'customer' && viewer.customerId === id) ||
      (viewer.kind === 'rep' && (await this.directory.ownerOf(id)) === user.id);
    if (!allowed) throw new TicketException('TICKET_FORBIDDEN', "You may not see this customer's satisfaction");
    const rated = await this.tickets.find({ customerId: id, satisfaction: { $ne: null } }, { satisfaction: 1 }).lean<Array<Pick<TicketRecord, 'satisfaction'>>>().exec();
    const ratings = rated.map((t) => t.satisfaction?.rating).filter((r): r is number => typeof r === 'number');
    if (ratings.length === 0) return { average: null, count: 0 };
    return { average: Math.round((ratings.reduce((a, b) => a + b, 0) / ratings.length) * 100) / 100, count: ratings.length };
  }

  /** The comments and history the caller may see: customers only PUBLIC ones. */
  visibleComments(ticket: TicketRecord, user: AuthUser): TicketComment[] {
    return isCustomerCaller(user) ? ticket.comments.filter((c) => c.visibility === 'PUBLIC') : ticket.comments;
  }

  visibleHistory(ticket: TicketRecord, user: AuthUser): TicketHistoryEntry[] {
    return isCustomerCaller(user) ? ticket.history.filter((h) => h.visibility === 'PUBLIC') : ticket.history;
  }

  // ---- opening ------------------------------------------------------------------------------------

  /**
   * Opens a ticket. Staff and sales open for any customer; a self-service customer only for itself
   * (the customer id may be left out; another customer's is FORBIDDEN). Types that need approval
   * wait in PENDING_APPROVAL; the others are dispatched at once: to `queueId` (service managers) or
   * the queue the routing rule picks, and within it to the next agent in round-robin order.
   */
  async create(input: CreateTicketInput, user: AuthUser): Promise<TicketRecord> {
    const customerCaller = isCustomerCaller(user);
    if (!customerCaller && !hasAnyRole(user, OPENERS)) throw new TicketException('TICKET_FORBIDDEN', 'Your role cannot open tickets');
    const d = parse(createTicketInput, input);
    let customerId = d.customerId ?? null;
    if (customerCaller) {
      const own = await this.directory.customerIdOf(user);
      if (!own) throw new TicketException('TICKET_FORBIDDEN', 'Your account is not linked to a customer');
      if (customerId && customerId !== own) throw new TicketException('TICKET_FORBIDDEN', 'You can only open tickets for yourself', [{ field: 'input.customerId', message: 'Not your customer id' }]);
      if (d.queueId) throw new TicketException('TICKET_FORBIDDEN', 'Only service managers choose the queue', [{ field: 'input.queueId', message: 'Leave it out' }]);
      customerId = own;
    }
    if (!customerId) invalid([{ path: ['customerId'], message: 'Required' } as z.core.$ZodIssue]);
    let queue: QueueRecord | null = null;
    if (d.queueId) {
      if (!isManager(user)) throw new TicketException('TICKET_FORBIDDEN', 'Only service managers choose the queue', [{ field: 'input.queueId', message: 'Leave it out' }]);
      queue = await this.queues.byId(d.queueId);
      if (!queue) throw new TicketException('TICKET_INVALID_INPUT', 'Invalid ticket input', [{ field: 'input.queueId', message: 'No such queue' }]);
    }
    return this.open({ customerId, subject: d.subject, description: d.description, type: d.type, priority: d.priority, channel: d.channel, productId: d.productId, orderId: d.orderId }, queue, user);
  }

  private async open(
    fields: Pick<TicketRecord, 'customerId' | 'subject' | 'description' | 'type' | 'priority' | 'channel' | 'productId' | 'orderId'>,
    explicitQueue: QueueRecord | null,
    user: AuthUser,
    extra: { comments?: TicketComment[]; conversationIds?: string[] } = {},
  ): Promise<TicketRecord> {
    const id = new Types.ObjectId();
    const now = new Date();
    const approvalRequired = this.options.approvalTypes.includes(fields.type);
    const history: TicketHistoryEntry[] = [entry(user.id, 'status', null, 'NEW', null, 'PUBLIC', now)];
    let record: TicketRecord = {
      _id: id,
      ...fields,
      status: 'NEW',
      queueId: null,
      assigneeId: null,
      approval: { required: approvalRequired, decidedBy: null, decidedAt: null, approved: null, note: null },
      closeReason: null,
      resolution: null,
      slaBreaches: [],
      comments: extra.comments ?? [],
      history,
      satisfaction: null,
      sla: this.sla.start({ priority: fields.priority, createdAt: now }, now),
      conversationIds: extra.conversationIds ?? [],
      firstResponseAt: null,
      resolvedAt: null,
      closedAt: null,
      reopenCount: 0,
      createdById: user.id,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    const events: CloudEvent[] = [];
    // No subject: it is the customer's own words and no consumer needs it (readers ask the Ticket).
    const opened = () => ticketEvent(TicketEventType.OPENED, { ...record, status: 'NEW', queueId: null, assigneeId: null }, { createdById: user.id }, now);
    if (approvalRequired) {
      record = { ...record, status: 'PENDING_APPROVAL', history: [...history, entry(SYSTEM, 'status', 'NEW', 'PENDING_APPROVAL', `${fields.type} tickets need a service manager's approval`, 'PUBLIC', now)] };
      events.push(opened(), ticketEvent(TicketEventType.STATUS_CHANGED, record, { from: 'NEW', to: 'PENDING_APPROVAL' }, now));
    } else {
      const dispatch = await this.autoDispatch(record, explicitQueue, now);
      record = { ...record, ...dispatch.changes };
      events.push(opened(), ...dispatch.events(record));
    }
    // The ticket and its events are one insert: both are stored or neither is.
    return this.writer.insert(record, events);
  }

  /**
   * Hand-over from online service (SVC-5): a CHAT ticket for the conversation's customer with the
   * transcript as its first public comment. The customer itself or service staff hand over; the
   * same conversation handed over again returns its ticket (idempotent by conversation id).
   */
  async openFromConversation(input: ConversationHandOver, user: AuthUser): Promise<TicketRecord> {
    const d = parse(conversationHandOverInput, input);
    if (isCustomerCaller(user)) {
      if ((await this.directory.customerIdOf(user)) !== d.customerId) throw new TicketException('TICKET_FORBIDDEN', 'You can only hand over your own conversations', [{ field: 'input.customerId', message: 'Not your customer id' }]);
    } else if (!isStaff(user)) {
      throw new TicketException('TICKET_FORBIDDEN', 'Only the customer or service staff hand a conversation over');
    }
    const existing = await this.tickets.findOne({ conversationIds: d.conversationId, customerId: d.customerId }).lean<TicketRecord>().exec();
    if (existing) return existing;
    return this.serial.run(`conversation:${d.conversationId}`, async () => {
      const again = await this.tickets.findOne({ conversationIds: d.conversationId, customerId: d.customerId }).lean<TicketRecord>().exec();
      if (again) return again;
      const comment: TicketComment = { id: randomUUID(), body: d.transcript, visibility: 'PUBLIC', authorId: user.id, authorKind: 'CONVERSATION', createdAt: new Date() };
      return this.open(
        { customerId: d.customerId, subject: d.subject, description: null, type: 'CONSULTATION', priority: 'NORMAL', channel: 'CHAT', productId: d.productId, orderId: null },
        null,
        user,
        { comments: [comment], conversationIds: [d.conversationId] },
      );
    });
  }

  /** A message of a handed-over conversation, as a public comment (authorKind CONVERSATION). */
  async addConversationMessage(ticketId: string, text: string, user: AuthUser): Promise<void> {
    const body = parse(requiredText(10_000), text, 'text');
    await this.comment(ticketId, body, 'PUBLIC', 'CONVERSATION', user, null);
  }

  // ---- dispatch -----------------------------------------------------------------------------------

  /**
   * Automatic dispatch: the ticket's queue, or the one the routing rule picks, and in it the next
   * agent in round-robin order. No changes when no queue matches or the queue has no members.
   */
  private async autoDispatch(current: TicketRecord, queue: QueueRecord | null, now: Date): Promise<Step> {
    const target = queue ?? (current.queueId ? await this.queues.byId(current.queueId) : await this.queues.route({ type: current.type, productId: current.productId }));
    if (!target) return { changes: {}, events: () => [] };
    const agent = await this.queues.nextAgent(target._id.toHexString(), current._id.toHexString());
    return this.dispatchTo(current, target, agent, SYSTEM, now, null);
  }

  /**
   * The changes and events of moving a ticket to a queue (null: keep) and an agent (null: keep):
   * internal history entries, NEW/APPROVED → ASSIGNED once it has an agent, `ticket.assigned` and
   * `ticket.status-changed`. No changes when nothing moves.
   */
  private dispatchTo(current: TicketRecord, queue: QueueRecord | null, agent: string | null, by: string, now: Date, note: string | null): Step {
    const queueId = queue ? queue._id.toHexString() : current.queueId;
    const history: TicketHistoryEntry[] = [];
    const changes: Partial<TicketRecord> = {};
    if (queueId !== current.queueId) {
      changes.queueId = queueId;
      history.push(entry(by, 'queue', current.queueId, queueId, queue ? `${queue.name} (${queue.skillGroup})` : null, 'INTERNAL', now));
    }
    let statusFrom: TicketStatus | null = null;
    if (agent && agent !== current.assigneeId) {
      changes.assigneeId = agent;
      history.push(entry(by, 'assignee', current.assigneeId, agent, note, 'INTERNAL', now));
    }
    if ((agent ?? current.assigneeId) && (current.status === 'NEW' || current.status === 'APPROVED')) {
      statusFrom = current.status;
      changes.status = 'ASSIGNED';
      history.push(entry(by, 'status', current.status, 'ASSIGNED', null, 'PUBLIC', now));
    }
    if (history.length === 0) return { changes: {}, events: () => [] };
    changes.history = [...current.history, ...history];
    return {
      changes,
      events: (next) => {
        const events: CloudEvent[] = [];
        if (changes.assigneeId !== undefined || changes.queueId !== undefined) {
          events.push(ticketEvent(TicketEventType.ASSIGNED, next, { previousAssigneeId: current.assigneeId, previousQueueId: current.queueId, by, automatic: by === SYSTEM }, now));
        }
        if (statusFrom) events.push(ticketEvent(TicketEventType.STATUS_CHANGED, next, { from: statusFrom, to: 'ASSIGNED' }, now));
        return events;
      },
    };
  }

  // ---- changes ------------------------------------------------------------------------------------

  /**
   * Runs one change of a ticket the caller may see (NOT_FOUND otherwise, also for a customer naming
   * another customer's ticket): serialised per ticket in this process, then written with a condition
   * on the version read. With `expectedVersion` a mismatch is a CONFLICT; without it a write that lost
   * to a concurrent one is re-decided on the fresh ticket. `decide` throws to refuse (nothing written).
   */
  private mutate(id: string, user: AuthUser | null, expectedVersion: number | null | undefined, decide: (current: TicketRecord) => Promise<Step | null> | Step | null): Promise<TicketRecord> {
    let viewer: Viewer | undefined;
    return this.writer.mutate(id, expectedVersion, decide, async (key) => {
      const current = await this.tickets.findById(key).lean<TicketRecord>().exec();
      if (!current || !user) return current;
      viewer ??= await this.viewerOf(user);
      return (await this.canSee(current, viewer, user)) ? current : null;
    });
  }

  private requireTransition(current: TicketRecord, to: TicketStatus, action: string): void {
    if (!TICKET_TRANSITIONS[current.status].includes(to)) {
      const allowed = TICKET_TRANSITIONS[current.status];
      throw new TicketException('TICKET_INVALID_TRANSITION', `Cannot ${action} a ticket that is ${current.status}`, [
        { field: 'id', message: `A ${current.status} ticket can become ${allowed.join(' or ') || 'nothing else'}` },
      ]);
    }
  }

  /** Service managers, admins, and the agent the ticket is assigned to. */
  private requireWorker(current: TicketRecord, user: AuthUser, action: string): void {
    if (isManager(user)) return;
    if (hasAnyRole(user, [Role.SERVICE_AGENT]) && current.assigneeId === user.id) return;
    throw new TicketException('TICKET_FORBIDDEN', `Only the assigned agent or a service manager can ${action} this ticket`);
  }

  /**
   * The changes of a status change: history entry, SLA clock (pause/resume/resolved), and the first
   * response when staff move a ticket into work.
   */
  private moveTo(current: TicketRecord, to: TicketStatus, by: string, note: string | null, now: Date, staffResponse: boolean): Partial<TicketRecord> {
    let clock = current.sla;
    if (current.status === 'WAITING_ON_CUSTOMER' && to !== 'WAITING_ON_CUSTOMER') clock = this.sla.resume(clock, now);
    if (to === 'WAITING_ON_CUSTOMER') clock = this.sla.pause(clock, now);
    const changes: Partial<TicketRecord> = { status: to, history: [...current.history, entry(by, 'status', current.status, to, note, 'PUBLIC', now)] };
    if (staffResponse && !current.firstResponseAt) {
      clock = this.sla.firstResponse(clock, now);
      changes.firstResponseAt = now;
    }
    if (to === 'RESOLVED') clock = this.sla.resolved(clock, now);
    changes.sla = clock;
    return changes;
  }

  private statusChanged(current: TicketRecord, to: TicketStatus, now: Date, extra: Record<string, unknown> = {}) {
    return (next: TicketRecord) => [ticketEvent(TicketEventType.STATUS_CHANGED, next, { from: current.status, to, ...extra }, now)];
  }

  /** PENDING_APPROVAL → APPROVED, then dispatched like a new ticket (service managers, admins). */
  approve(id: string, note: string | null | undefined, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    const text = parse(optionalText(1000), note, 'note');
    return this.mutate(id, user, expectedVersion, async (current) => {
      if (!isManager(user)) throw new TicketException('TICKET_FORBIDDEN', 'Only service managers and admins approve tickets');
      this.requireTransition(current, 'APPROVED', 'approve');
      const now = new Date();
      const approved: TicketRecord = {
        ...current,
        ...this.moveTo(current, 'APPROVED', user.id, text, now, false),
        approval: { ...current.approval, decidedBy: user.id, decidedAt: now, approved: true, note: text },
      };
      const dispatch = await this.autoDispatch(approved, null, now);
      const changes = { ...this.moveTo(current, 'APPROVED', user.id, text, now, false), approval: approved.approval, ...dispatch.changes };
      return { changes, events: (next) => [...this.statusChanged(current, 'APPROVED', now, { approvedBy: user.id })({ ...next, status: 'APPROVED' }), ...dispatch.events(next)] };
    });
  }

  /** PENDING_APPROVAL → CLOSED with the reason (service managers, admins). */
  reject(id: string, reason: string, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    const why = parse(requiredText(1000), reason, 'reason');
    return this.mutate(id, user, expectedVersion, (current) => {
      if (!isManager(user)) throw new TicketException('TICKET_FORBIDDEN', 'Only service managers and admins reject tickets');
      if (current.status !== 'PENDING_APPROVAL') this.requireTransition(current, 'APPROVED', 'reject');
      const now = new Date();
      return {
        changes: { ...this.moveTo(current, 'CLOSED', user.id, `Rejected: ${why}`, now, false), approval: { ...current.approval, decidedBy: user.id, decidedAt: now, approved: false, note: why }, closeReason: why, closedAt: now },
        events: (next) => [...this.statusChanged(current, 'CLOSED', now)(next), ticketEvent(TicketEventType.CLOSED, next, { reason: why, rejected: true, closedBy: user.id }, now)],
      };
    });
  }

  /** Dispatch by hand (service managers, admins): a queue (round robin unless an agent is named), an agent, or both. */
  assign(id: string, input: AssignTicketInput, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    const d = parse(assignTicketInput, input);
    return this.mutate(id, user, expectedVersion, async (current) => {
      if (!isManager(user)) throw new TicketException('TICKET_FORBIDDEN', 'Only service managers and admins dispatch tickets');
      if (!['NEW', 'APPROVED', 'ASSIGNED', 'IN_PROGRESS', 'WAITING_ON_CUSTOMER'].includes(current.status)) {
        throw new TicketException('TICKET_INVALID_TRANSITION', `Cannot dispatch a ticket that is ${current.status}`, [
          { field: 'id', message: current.status === 'PENDING_APPROVAL' ? 'It needs approval first' : `The ticket is ${current.status}` },
        ]);
      }
      let queue: QueueRecord | null = null;
      if (d.queueId) {
        queue = await this.queues.byId(d.queueId);
        if (!queue) throw new TicketException('TICKET_INVALID_INPUT', 'Invalid dispatch', [{ field: 'input.queueId', message: 'No such queue' }]);
        if (d.assigneeId && !queue.members.includes(d.assigneeId)) throw new TicketException('TICKET_INVALID_INPUT', 'Invalid dispatch', [{ field: 'input.assigneeId', message: 'Not a member of the queue' }]);
      }
      const agent = d.assigneeId ?? (queue ? await this.queues.nextAgent(queue._id.toHexString(), current._id.toHexString()) : null);
      if (!agent && current.assigneeId && queue && queue._id.toHexString() !== current.queueId) {
        throw new TicketException('TICKET_INVALID_TRANSITION', 'The queue has no agent to take the ticket over', [{ field: 'input.queueId', message: 'The queue has no members' }]);
      }
      const step = this.dispatchTo(current, queue, agent, user.id, new Date(), d.note);
      return Object.keys(step.changes).length ? step : null;
    });
  }

  /** An agent takes an undispatched (NEW/APPROVED, no agent) ticket of one of their queues. */
  take(id: string, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    return this.mutate(id, user, expectedVersion, async (current) => {
      if (!isStaff(user)) throw new TicketException('TICKET_FORBIDDEN', 'Only service agents take tickets');
      if (!isManager(user) && (!current.queueId || !(await this.queues.queueIdsOf(user.id)).includes(current.queueId))) {
        throw new TicketException('TICKET_FORBIDDEN', 'You can only take tickets of your queues');
      }
      if (current.assigneeId === user.id) return null;
      if (current.assigneeId || !['NEW', 'APPROVED'].includes(current.status)) {
        throw new TicketException('TICKET_INVALID_TRANSITION', `Cannot take a ticket that is ${current.status}${current.assigneeId ? ' and assigned' : ''}`, [{ field: 'id', message: 'Already dispatched' }]);
      }
      return this.dispatchTo(current, null, user.id, user.id, new Date(), 'Taken from the queue');
    });
  }

  /** ASSIGNED or WAITING_ON_CUSTOMER → IN_PROGRESS (the assigned agent, service managers). */
  start(id: string, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    return this.mutate(id, user, expectedVersion, (current) => {
      this.requireWorker(current, user, 'start');
      this.requireTransition(current, 'IN_PROGRESS', 'start');
      const now = new Date();
      return { changes: this.moveTo(current, 'IN_PROGRESS', user.id, null, now, true), events: this.statusChanged(current, 'IN_PROGRESS', now) };
    });
  }

  /** IN_PROGRESS → WAITING_ON_CUSTOMER: the SLA clock pauses. */
  waitOnCustomer(id: string, note: string | null | undefined, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    const text = parse(optionalText(1000), note, 'note');
    return this.mutate(id, user, expectedVersion, (current) => {
      this.requireWorker(current, user, 'change');
      this.requireTransition(current, 'WAITING_ON_CUSTOMER', 'wait on the customer for');
      const now = new Date();
      return { changes: this.moveTo(current, 'WAITING_ON_CUSTOMER', user.id, text, now, true), events: this.statusChanged(current, 'WAITING_ON_CUSTOMER', now) };
    });
  }

  /** IN_PROGRESS or WAITING_ON_CUSTOMER → RESOLVED with the resolution (public). */
  resolve(id: string, resolution: string, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    const text = parse(requiredText(5000), resolution, 'resolution');
    return this.mutate(id, user, expectedVersion, (current) => {
      this.requireWorker(current, user, 'resolve');
      this.requireTransition(current, 'RESOLVED', 'resolve');
      const now = new Date();
      return {
        changes: { ...this.moveTo(current, 'RESOLVED', user.id, text, now, true), resolution: text, resolvedAt: now },
        events: (next) => [...this.statusChanged(current, 'RESOLVED', now)(next), ticketEvent(TicketEventType.RESOLVED, next, { resolution: text, resolvedBy: user.id, resolvedAt: now.toISOString() }, now)],
      };
    });
  }

  /** RESOLVED → CLOSED: the assigned agent, service managers, or the customer confirming. */
  close(id: string, note: string | null | undefined, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    const text = parse(optionalText(1000), note, 'note');
    return this.mutate(id, user, expectedVersion, (current) => {
      if (!isCustomerCaller(user)) this.requireWorker(current, user, 'close');
      this.requireTransition(current, 'CLOSED', 'close');
      if (current.status !== 'RESOLVED') throw new TicketException('TICKET_INVALID_TRANSITION', `Cannot close a ticket that is ${current.status}`, [{ field: 'id', message: 'Only RESOLVED tickets close' }]);
      const now = new Date();
      return {
        changes: { ...this.moveTo(current, 'CLOSED', user.id, text, now, false), closedAt: now },
        events: (next) => [...this.statusChanged(current, 'CLOSED', now)(next), ticketEvent(TicketEventType.CLOSED, next, { reason: text, rejected: false, closedBy: user.id }, now)],
      };
    });
  }

  /**
   * RESOLVED or CLOSED → ASSIGNED to the same agent (who starts it again), within the reopen window
   * after resolution. Rejected tickets (closed without resolution) do not reopen. The customer, the
   * assigned agent or a service manager.
   */
  reopen(id: string, reason: string, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    const why = parse(requiredText(1000), reason, 'reason');
    return this.mutate(id, user, expectedVersion, (current) => {
      if (!isCustomerCaller(user)) this.requireWorker(current, user, 'reopen');
      if ((current.status !== 'RESOLVED' && current.status !== 'CLOSED') || !current.resolvedAt) {
        throw new TicketException('TICKET_INVALID_TRANSITION', `Cannot reopen a ticket that is ${current.status}${current.closeReason ? ' (rejected)' : ''}`, [{ field: 'id', message: 'Only resolved tickets reopen' }]);
      }
      const until = this.reopenableUntil(current)!;
      const now = new Date();
      if (now.getTime() > until.getTime()) {
        throw new TicketException('TICKET_REOPEN_WINDOW_PASSED', `The reopen window ended at ${until.toISOString()}`, [{ field: 'id', message: `Reopen within ${this.options.reopenWindowDays} days of resolution` }]);
      }
      const moved = this.moveTo(current, 'ASSIGNED', user.id, why, now, false);
      return {
        changes: { ...moved, sla: this.sla.reopen(moved.sla, now), reopenCount: current.reopenCount + 1, resolvedAt: null, closedAt: null, resolution: null, slaBreaches: [] },
        events: (next) => [...this.statusChanged(current, 'ASSIGNED', now)(next), ticketEvent(TicketEventType.REOPENED, next, { reason: why, reopenedBy: user.id, previousStatus: current.status, reopenCount: next.reopenCount }, now)],
      };
    });
  }

  // ---- comments and satisfaction ---------------------------------------------------------------------

  /**
   * Adds a comment. Service staff write PUBLIC or INTERNAL ones; the ticket's customer PUBLIC only (a
   * public customer comment on a WAITING_ON_CUSTOMER ticket moves it back to IN_PROGRESS). Not on
   * CLOSED tickets. Only PUBLIC comments publish `ticket.commented`.
   */
  async addComment(id: string, input: AddCommentInput, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    const d = parse(addCommentInput, input);
    const customer = isCustomerCaller(user);
    if (!customer && !isStaff(user)) throw new TicketException('TICKET_FORBIDDEN', 'Only service staff and the customer comment on tickets');
    if (customer && d.visibility === 'INTERNAL') throw new TicketException('TICKET_FORBIDDEN', 'Customers write public comments only', [{ field: 'input.visibility', message: 'Must be PUBLIC' }]);
    return this.comment(id, d.body, d.visibility, customer ? 'CUSTOMER' : 'STAFF', user, expectedVersion);
  }

  private comment(id: string, body: string, visibility: Visibility, authorKind: TicketComment['authorKind'], user: AuthUser, expectedVersion: number | null | undefined): Promise<TicketRecord> {
    const customer = isCustomerCaller(user);
    return this.mutate(id, user, expectedVersion, (current) => {
      if (!customer && !isStaff(user)) throw new TicketException('TICKET_FORBIDDEN', 'Only service staff and the customer comment on tickets');
      if (current.status === 'CLOSED') throw new TicketException('TICKET_CLOSED', 'The ticket is closed: reopen it to comment', [{ field: 'id', message: 'The ticket is CLOSED' }]);
      const now = new Date();
      const comment: TicketComment = { id: randomUUID(), body, visibility, authorId: user.id, authorKind, createdAt: now };
      let changes: Partial<TicketRecord> = { comments: [...current.comments, comment] };
      let history = [...current.history, entry(user.id, 'comment', null, comment.id, null, visibility, now)];
      let resumed = false;
      if (customer && current.status === 'WAITING_ON_CUSTOMER') {
        const moved = this.moveTo({ ...current, history }, 'IN_PROGRESS', user.id, 'The customer replied', now, false);
        history = moved.history!;
        changes = { ...changes, ...moved };
        resumed = true;
      }
      if (!customer && visibility === 'PUBLIC' && !current.firstResponseAt) {
        changes.firstResponseAt = now;
        changes.sla = this.sla.firstResponse(changes.sla ?? current.sla, now);
      }
      changes.history = history;
      return {
        changes,
        events: (next) => {
          const events: CloudEvent[] = [];
          if (visibility === 'PUBLIC') events.push(ticketEvent(TicketEventType.COMMENTED, next, { commentId: comment.id, body, authorId: user.id, authorKind }, now));
          if (resumed) events.push(...this.statusChanged(current, 'IN_PROGRESS', now)(next));
          return events;
        },
      };
    });
  }

  /**
   * The ticket's customer rates a RESOLVED or CLOSED ticket 1-5, once (a second rating is a CONFLICT,
   * also after a reopen). Service staff may record the customer's rating on their behalf (e.g. from a
   * phone call); `onBehalfOfCustomer` says so.
   */
  rate(id: string, input: RateTicketInput, user: AuthUser, expectedVersion?: number | null): Promise<TicketRecord> {
    const d = parse(rateTicketInput, input);
    const customer = isCustomerCaller(user);
    if (!customer && !isStaff(user)) return Promise.reject(new TicketException('TICKET_FORBIDDEN', 'Only the customer (or service staff for them) rate tickets'));
    return this.mutate(id, user, expectedVersion, (current) => {
      if (current.status !== 'RESOLVED' && current.status !== 'CLOSED') {
        throw new TicketException('TICKET_INVALID_TRANSITION', `Cannot rate a ticket that is ${current.status}`, [{ field: 'id', message: 'Only RESOLVED or CLOSED tickets are rated' }]);
      }
      if (current.closeReason) throw new TicketException('TICKET_INVALID_TRANSITION', 'A rejected ticket cannot be rated', [{ field: 'id', message: 'The ticket was rejected' }]);
      if (current.satisfaction) throw new TicketException('TICKET_ALREADY_RATED', 'The ticket was rated already', [{ field: 'id', message: `Rated ${current.satisfaction.rating} on ${new Date(current.satisfaction.ratedAt).toISOString()}` }]);
      const now = new Date();
      const satisfaction = { rating: d.rating, comment: d.comment, ratedBy: user.id, onBehalfOfCustomer: !customer, ratedAt: now };
      return {
        changes: { satisfaction, history: [...current.history, entry(user.id, 'satisfaction', null, String(d.rating), d.comment, 'PUBLIC', now)] },
        events: (next) => [ticketEvent(TicketEventType.SATISFACTION_RATED, next, { rating: d.rating, comment: d.comment, ratedBy: user.id, onBehalfOfCustomer: !customer, ratedAt: now.toISOString() }, now)],
      };
    });
  }

  // ---- other services' events -----------------------------------------------------------------------

  /** customer.merged: moves the tickets of a merged-away customer to the survivor (idempotent; `ticket.updated` each). */
  async repointCustomer(fromId: string, toId: string): Promise<number> {
    const [from, to] = [fromId.toLowerCase(), toId.toLowerCase()];
    const ids = (await this.tickets.find({ customerId: from }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec()).map((doc) => doc._id.toHexString());
    let moved = 0;
    for (const id of ids) {
      await this.mutate(id, null, null, (current) => {
        if (current.customerId !== from) return null;
        moved += 1;
        const now = new Date();
        return {
          changes: { customerId: to, history: [...current.history, entry(SYSTEM, 'customer', from, to, 'Customers merged', 'INTERNAL', now)] },
          events: (next) => [ticketEvent(TicketEventType.UPDATED, next, { changed: ['customerId'], mergedCustomerId: from }, now)],
        };
      });
    }
    return moved;
  }

  /**
   * customer.erased: what the customer and agents wrote (subject, description, comments, notes,
   * resolution, rating comment) goes; status, times, ratings and ids stay for the service figures.
   * A redaction, not a business change: no event (consumers erase their own copies). Idempotent.
   */
  async eraseCustomer(customerId: string): Promise<number> {
    const docs = await this.tickets.collection.find({ customerId: customerId.toLowerCase() } as never, { projection: { _id: 1 } }).toArray();
    // Each ticket read afresh and rewritten inside its queue (the writer's, shared with the relay): the
    // arrays written back must not overwrite a concurrent change, nor race a removal of events (FerretDB v1).
    for (const { _id } of docs) await this.writer.serial.run(String(_id), async () => {
      const ticket = (await this.tickets.collection.findOne({ _id } as never)) as unknown as TicketRecord | null;
      if (!ticket) return;
      await this.tickets.collection.updateOne({ _id: ticket._id } as never, {
        $set: {
          subject: ERASED_TEXT,
          description: null,
          resolution: ticket.resolution ? ERASED_TEXT : null,
          closeReason: ticket.closeReason ? ERASED_TEXT : null,
          comments: (ticket.comments ?? []).map((c) => ({ ...c, body: ERASED_TEXT })),
          history: (ticket.history ?? []).map((h) => ({ ...h, note: h.note ? ERASED_TEXT : null, ...(TEXT_FIELDS.has(h.field) ? { from: h.from ? ERASED_TEXT : null, to: h.to ? ERASED_TEXT : null } : {}) })),
          ...(ticket.satisfaction ? { satisfaction: { ...ticket.satisfaction, comment: null } } : {}),
        },
      } as never);
    });
    return docs.length;
  }

  /**
   * order.cancelled (sales): every open ticket about the order gets an internal history note with the
   * reason, so the agent knows before answering (no status change, no event). Idempotent by event id.
   */
  async noteOrderCancelled(orderId: string, eventId: string, reason: string | null): Promise<number> {
    const id = orderId.toLowerCase();
    const open = await this.tickets.find({ orderId: id, status: { $in: OPEN_STATUSES } }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec();
    let noted = 0;
    for (const { _id } of open) {
      await this.mutate(_id.toHexString(), null, null, (current) => {
        if (!OPEN_STATUSES.includes(current.status) || current.history.some((h) => h.ref === eventId)) return null;
        noted += 1;
        const note = `Order ${id} was cancelled${reason ? `: ${reason}` : ''}`;
        return { changes: { history: [...current.history, { ...entry(SYSTEM, 'note', null, null, note, 'INTERNAL', new Date()), ref: eventId }] }, events: () => [] };
      });
    }
    return noted;
  }

  // ---- SLA (see ticket.sla-port.ts) ---------------------------------------------------------------

  /** Open tickets with an SLA clock, oldest first (the SLA port filters the due ones). */
  async openWithClock(limit: number): Promise<TicketRecord[]> {
    return this.tickets
      .find({ status: { $in: OPEN_STATUSES }, sla: { $ne: null } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .lean<TicketRecord[]>()
      .exec();
  }

  /**
   * Records one SLA breach (once per kind and reopen cycle): an internal history entry and
   * `ticket.sla-breached`; with `reassign` the ticket goes to the next agent of its queue.
   */
  async recordBreach(ticketId: string, breach: { kind: string; action: 'REASSIGN' | 'NOTIFY_MANAGER'; clock?: unknown; detail?: Record<string, unknown> }): Promise<boolean> {
    let recorded = false;
    await this.mutate(ticketId, null, null, async (current) => {
      const key = `${breach.kind}:${current.reopenCount}`;
      recorded = false;
      if (current.slaBreaches.includes(key) || !OPEN_STATUSES.includes(current.status)) return null;
      recorded = true;
      const now = new Date();
      const base: TicketRecord = {
        ...current,
        ...(breach.clock !== undefined ? { sla: breach.clock } : {}),
        slaBreaches: [...current.slaBreaches, key],
        history: [...current.history, entry(SYSTEM, 'sla', null, breach.kind, `Breached; escalation: ${breach.action}`, 'INTERNAL', now)],
      };
      let dispatch: Step = { changes: {}, events: () => [] };
      if (breach.action === 'REASSIGN' && current.queueId) {
        const queue = await this.queues.byId(current.queueId);
        const others = queue?.members.filter((m) => m !== current.assigneeId) ?? [];
        if (queue && others.length > 0) {
          // The queue's next member in round-robin order, skipping the current agent.
          let agent = await this.queues.nextAgent(queue._id.toHexString(), current._id.toHexString());
          if (agent === current.assigneeId) agent = await this.queues.nextAgent(queue._id.toHexString(), current._id.toHexString());
          if (agent && agent !== current.assigneeId) dispatch = this.dispatchTo(base, null, agent, SYSTEM, now, `SLA ${breach.kind} breached`);
        }
      }
      const changes: Partial<TicketRecord> = { sla: base.sla, slaBreaches: base.slaBreaches, history: base.history, ...dispatch.changes };
      return {
        changes,
        events: (next) => [ticketEvent(TicketEventType.SLA_BREACHED, next, { kind: breach.kind, action: breach.action, reassignedTo: dispatch.changes.assigneeId ?? null, ...breach.detail }, now), ...dispatch.events(next)],
      };
    });
    return recorded;
  }
}

function entry(by: string, field: string, from: string | null, to: string | null, note: string | null, visibility: Visibility, at: Date): TicketHistoryEntry {
  return { at, by, field, from, to, note, visibility };
}
