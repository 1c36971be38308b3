import { Types } from 'mongoose';
import { z } from 'zod';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { MAX_PAGE_SIZE, paginate, type Page, type PageArgs } from '@crm/mongo';
import { ticketCreated } from './ticket.events.js';
import { TicketException } from './ticket.errors.js';
import { TICKET_CHANNELS, TICKET_PRIORITIES, TICKET_TYPES, type TicketModel, type TicketRecord } from './ticket.model.js';

const READERS = [Role.SERVICE_AGENT, Role.SALES_MANAGER, Role.SALES_REP, Role.ANALYST] as const;
const CREATORS = [Role.SERVICE_AGENT, Role.SALES_MANAGER, Role.SALES_REP] as const;
const OBJECT_ID = /^[0-9a-f]{24}$/i;

export const createTicketInput = z.object({
  customerId: z.string().regex(OBJECT_ID, 'Not a customer id'),
  subject: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
  description: z
    .string()
    .trim()
    .max(10_000, 'At most 10000 characters')
    .nullish()
    .transform((value) => value || null),
  type: z.enum(TICKET_TYPES),
  priority: z.enum(TICKET_PRIORITIES).nullish().transform((value) => value ?? 'NORMAL'),
  channel: z.enum(TICKET_CHANNELS).nullish().transform((value) => value ?? 'WEB'),
});
export type CreateTicketInput = z.input<typeof createTicketInput>;

/** The one facade resolvers call for tickets. */
export class TicketService {
  constructor(
    private readonly tickets: TicketModel,
    private readonly relay: OutboxRelay,
  ) {}

  async create(input: CreateTicketInput, user: AuthUser): Promise<TicketRecord> {
    requireRole(user, CREATORS);
    const parsed = createTicketInput.safeParse(input);
    if (!parsed.success) {
      throw new TicketException('TICKET_INVALID_INPUT', 'Invalid ticket', fieldProblems(parsed.error.issues));
    }
    const now = new Date();
    const ticket = new this.tickets({
      ...parsed.data,
      customerId: parsed.data.customerId.toLowerCase(),
      _id: new Types.ObjectId(),
      status: 'NEW',
      createdById: user.id,
      createdAt: now,
      updatedAt: now,
    });
    // The ticket and its event are one insert: both are stored or neither is.
    ticket.set(OUTBOX_FIELD, [ticketCreated(ticket.toObject())]);
    await ticket.save();
    this.relay.notify(this.tickets, ticket._id);
    return ticket.toObject();
  }

  async get(id: string, user: AuthUser): Promise<TicketRecord | null> {
    requireRole(user, READERS);
    if (!OBJECT_ID.test(id)) return null;
    return this.tickets.findById(id).lean<TicketRecord>().exec();
  }

  async list(args: PageArgs & { customerId?: string | null }, user: AuthUser): Promise<Page<TicketRecord>> {
    requireRole(user, READERS);
    return paginate(this.tickets, args.customerId ? { customerId: args.customerId.toLowerCase() } : {}, args);
  }

  /** A customer's newest tickets (the `Customer.tickets` field). */
  async ofCustomer(customerId: string, first: number | null | undefined, user: AuthUser): Promise<TicketRecord[]> {
    requireRole(user, READERS);
    const size = first ?? 20;
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      throw new TicketException('TICKET_INVALID_INPUT', 'Invalid page size', [{ field: 'first', message: `Must be 1 to ${MAX_PAGE_SIZE}` }]);
    }
    return this.tickets.find({ customerId: customerId.toLowerCase() }).sort({ _id: -1 }).limit(size).lean<TicketRecord[]>().exec();
  }
}
