import { randomUUID } from 'node:crypto';
import { ERASED_TEXT } from '@crm/customer-link';
import { Types } from 'mongoose';
import { z } from 'zod';
import { hasAnyRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { AggregateWriter, type Change, type OutboxRelay } from '@crm/events';
import { paginate, type Page, type PageArgs } from '@crm/mongo';
import type { ArticleMatch } from '../article/article.service.js';
import { isCustomerCaller } from '../ticket/ticket.service.js';
import { ConversationException } from './conversation.errors.js';
import { conversationEvent, ConversationEventType } from './conversation.events.js';
import { CONVERSATION_STATUSES, type ConversationAnswer, type ConversationMessage, type ConversationModel, type ConversationRecord } from './conversation.model.js';

/** What conversations need from the other modules (wired in app.ts). */
export interface ConversationPorts {
  /** Customer directory: the caller's customer id. */
  customerIdOf(user: AuthUser): Promise<string | null>;
  /** Knowledge base: published articles for a question, best first, above `minScore`. */
  answer(question: string, productId: string | null, first: number, minScore: number): Promise<ArticleMatch[]>;
  /** Ticket module: `TicketService.openFromConversation` (idempotent by conversation id). */
  openFromConversation(input: { customerId: string; subject: string; transcript: string; productId: string | null; conversationId: string }, user: AuthUser): Promise<{ _id: Types.ObjectId | string }>;
  /** Ticket module: `TicketService.addConversationMessage` (a public comment; the ticket's visibility rules apply). */
  addConversationMessage(ticketId: string, text: string, user: AuthUser): Promise<void>;
}

export interface ConversationOptions {
  /** Articles offered per question at most (env CONVERSATION_ANSWERS). */
  answers: number;
  /** Lowest score (0..1) of an article offered as an answer (env CONVERSATION_MIN_SCORE). */
  minScore: number;
}

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const BOT = 'bot';
const SYSTEM = 'system';
/** Staff who read handed-over conversations and reply (admins pass every role check). */
const STAFF = [Role.SERVICE_AGENT, Role.SERVICE_MANAGER] as const;

export const NO_MATCH_TEXT = 'No article in the knowledge base matches your question. Rephrase it, or ask for a human agent.';
export const MATCH_TEXT = 'These articles may answer your question:';
export const HANDED_OVER_TEXT = 'A service agent will answer here; your ticket has been opened.';

const text = (max: number) => z.string().trim().min(1, 'Required').max(max, `At most ${max} characters`);
const startInput = z.object({
  question: text(2000),
  productId: z.string().regex(OBJECT_ID, 'Not a product id').transform((v) => v.toLowerCase()).nullish().transform((v) => v ?? null),
});
export type StartConversationInput = z.input<typeof startInput>;
const filterInput = z.object({ statuses: z.array(z.enum(CONVERSATION_STATUSES)).max(CONVERSATION_STATUSES.length).nullish() }).nullish();
export type ConversationFilterInput = z.input<typeof filterInput>;
const afterInput = z.string().uuid('Not a message id').nullish();

function parse<T extends z.ZodType>(schema: T, value: unknown, prefix: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ConversationException('CONVERSATION_INVALID_INPUT', 'Invalid conversation input', fieldProblems(parsed.error.issues, prefix));
  return parsed.data;
}

const message = (author: ConversationMessage['author'], authorId: string, body: string, at: Date, answers: ConversationAnswer[] = []): ConversationMessage => ({ id: randomUUID(), author, authorId, text: body, at, answers });

type Viewer = { kind: 'customer'; customerId: string | null } | { kind: 'staff' };

/** The one facade resolvers and the customer-link consumer call for online service (SVC-5). */
export class ConversationService {
  readonly writer: AggregateWriter<ConversationRecord>;

  constructor(
    private readonly conversations: ConversationModel,
    relay: OutboxRelay,
    private readonly ports: ConversationPorts,
    private readonly options: ConversationOptions,
  ) {
    this.writer = new AggregateWriter(conversations, relay, {
      notFound: (id) => new ConversationException('CONVERSATION_NOT_FOUND', `No conversation ${id}`),
      conflict: (msg) => new ConversationException('CONVERSATION_VERSION_CONFLICT', msg),
    });
  }

  get serial() {
    return this.writer.serial;
  }

  private async viewerOf(user: AuthUser): Promise<Viewer> {
    if (isCustomerCaller(user)) return { kind: 'customer', customerId: await this.ports.customerIdOf(user) };
    if (hasAnyRole(user, STAFF)) return { kind: 'staff' };
    throw new ConversationException('CONVERSATION_FORBIDDEN', 'Only customers and service staff use online service');
  }

  /** Customers: their own; staff: handed-over ones (and closed after hand-over). */
  private readFilter(viewer: Viewer): Record<string, unknown> {
    if (viewer.kind === 'staff') return { ticketId: { $ne: null } };
    return viewer.customerId ? { customerId: viewer.customerId } : { _id: null };
  }

  private canSee(c: ConversationRecord, viewer: Viewer): boolean {
    return viewer.kind === 'staff' ? c.ticketId !== null : viewer.customerId !== null && c.customerId === viewer.customerId;
  }

  private loadFor(viewer: Viewer) {
    return async (id: string) => {
      const c = await this.conversations.findById(id).lean<ConversationRecord>().exec();
      return c && this.canSee(c, viewer) ? c : null;
    };
  }

  private async requireCustomer(user: AuthUser): Promise<string> {
    if (!isCustomerCaller(user)) throw new ConversationException('CONVERSATION_FORBIDDEN', 'Only customers ask questions in online service');
    const customerId = await this.ports.customerIdOf(user);
    if (!customerId) throw new ConversationException('CONVERSATION_FORBIDDEN', 'Your account is not linked to a customer');
    return customerId;
  }

  /** The automatic answer to a question: the best published articles, or a message that none matched. */
  private async botAnswer(question: string, productId: string | null, at: Date): Promise<ConversationMessage> {
    const matches = await this.ports.answer(question, productId, this.options.answers, this.options.minScore);
    const answers = matches.map((m) => ({ articleId: m.article._id.toHexString(), title: m.article.title, revision: m.article.published?.revision ?? null, score: m.score }));
    return message('BOT', BOT, answers.length ? MATCH_TEXT : NO_MATCH_TEXT, at, answers);
  }

  // ---- reads --------------------------------------------------------------------------------------

  async get(id: string, user: AuthUser): Promise<ConversationRecord | null> {
    const viewer = await this.viewerOf(user);
    return OBJECT_ID.test(id) ? this.loadFor(viewer)(id.toLowerCase()) : null;
  }

  async list(args: PageArgs & { filter?: ConversationFilterInput; count?: boolean }, user: AuthUser): Promise<Page<ConversationRecord>> {
    const viewer = await this.viewerOf(user);
    const f = parse(filterInput, args.filter, 'filter') ?? {};
    const clauses: Record<string, unknown>[] = [this.readFilter(viewer)];
    if (f.statuses?.length) clauses.push({ status: { $in: f.statuses } });
    return paginate(this.conversations, { $and: clauses }, args, { sort: { field: 'updatedAt', direction: -1 }, count: args.count !== false });
  }

  /** Messages after the one with id `after` (polling); all without it. An unknown id is BAD_USER_INPUT. */
  messagesAfter(c: ConversationRecord, after: string | null | undefined): ConversationMessage[] {
    const id = parse(afterInput, after, 'after');
    if (!id) return c.messages;
    const index = c.messages.findIndex((m) => m.id === id);
    if (index < 0) throw new ConversationException('CONVERSATION_INVALID_INPUT', 'Invalid conversation input', [{ field: 'after', message: 'No such message in this conversation' }]);
    return c.messages.slice(index + 1);
  }

  /** Conversations handed over to a ticket (`Ticket.conversations`), for callers who may see them. */
  async ofTicket(ticketId: string, user: AuthUser): Promise<ConversationRecord[]> {
    const viewer = await this.viewerOf(user);
    return this.conversations.find({ $and: [this.readFilter(viewer), { ticketId }] }).sort({ createdAt: 1, _id: 1 }).lean<ConversationRecord[]>().exec();
  }

  // ---- customer -----------------------------------------------------------------------------------

  /** A customer starts a conversation with a question and gets the automatic answers at once (`conversation.started`). */
  async start(input: StartConversationInput, user: AuthUser): Promise<ConversationRecord> {
    const customerId = await this.requireCustomer(user);
    const d = parse(startInput, input, 'input');
    const now = new Date();
    const subject = d.question.length > 200 ? `${d.question.slice(0, 199)}…` : d.question;
    const record: ConversationRecord = {
      _id: new Types.ObjectId(),
      customerId,
      startedBy: user.id,
      productId: d.productId,
      subject,
      status: 'OPEN',
      ticketId: null,
      handedOverAt: null,
      closedAt: null,
      messages: [message('CUSTOMER', user.id, d.question, now), await this.botAnswer(d.question, d.productId, now)],
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    return this.writer.insert(record, [conversationEvent(ConversationEventType.STARTED, record, { matched: record.messages[1]!.answers.length > 0 })]);
  }

  /**
   * The customer's next message: while OPEN a follow-up question with its automatic answers; after
   * hand-over a message to the agent (also a public comment on the ticket). Not when CLOSED.
   */
  async send(id: string, body: string, user: AuthUser, expectedVersion?: number | null): Promise<ConversationRecord> {
    await this.requireCustomer(user);
    const t = parse(text(2000), body, 'text');
    const viewer = await this.viewerOf(user);
    return this.writer.mutate(
      id,
      expectedVersion,
      async (current): Promise<Change<ConversationRecord>> => {
        this.requireNotClosed(current);
        const now = new Date();
        const added = [message('CUSTOMER', user.id, t, now)];
        if (current.status === 'OPEN') added.push(await this.botAnswer(t, current.productId, now));
        else await this.ports.addConversationMessage(current.ticketId!, t, user);
        return { changes: { messages: [...current.messages, ...added] }, events: () => [] };
      },
      this.loadFor(viewer),
    );
  }

  /**
   * Hands the conversation to a human: opens a ticket through the ticket module with the transcript
   * (or gets the one already opened for this conversation) and moves to HANDED_OVER
   * (`conversation.handed-over`). Asking again after hand-over changes nothing.
   */
  async requestHumanAgent(id: string, user: AuthUser, expectedVersion?: number | null): Promise<ConversationRecord> {
    const customerId = await this.requireCustomer(user);
    const viewer = await this.viewerOf(user);
    return this.writer.mutate(
      id,
      expectedVersion,
      async (current) => {
        this.requireNotClosed(current);
        if (current.status === 'HANDED_OVER') return null;
        const transcript = current.messages.map((m) => `[${new Date(m.at).toISOString()}] ${m.author}: ${m.text}${m.answers.length ? ` (${m.answers.map((a) => `${a.title} ${a.score}`).join('; ')})` : ''}`).join('\n');
        const ticket = await this.ports.openFromConversation({ customerId, subject: current.subject, transcript, productId: current.productId, conversationId: current._id.toHexString() }, user);
        const ticketId = typeof ticket._id === 'string' ? ticket._id : ticket._id.toHexString();
        const now = new Date();
        return {
          changes: { status: 'HANDED_OVER', ticketId, handedOverAt: now, messages: [...current.messages, message('BOT', SYSTEM, HANDED_OVER_TEXT, now)] },
          events: (next) => [conversationEvent(ConversationEventType.HANDED_OVER, next, { requestedBy: user.id }, now)],
        };
      },
      this.loadFor(viewer),
    );
  }

  // ---- staff --------------------------------------------------------------------------------------

  /** An agent's reply to a handed-over conversation: recorded on the ticket (public comment) first, then shown to the customer. */
  async reply(id: string, body: string, user: AuthUser, expectedVersion?: number | null): Promise<ConversationRecord> {
    if (isCustomerCaller(user) || !hasAnyRole(user, STAFF)) throw new ConversationException('CONVERSATION_FORBIDDEN', 'Only service staff reply to conversations');
    const t = parse(text(10_000), body, 'text');
    return this.writer.mutate(
      id,
      expectedVersion,
      async (current) => {
        this.requireNotClosed(current);
        if (!current.ticketId) throw new ConversationException('CONVERSATION_INVALID_STATE', 'The conversation has not been handed over', [{ field: 'id', message: 'Not HANDED_OVER' }]);
        await this.ports.addConversationMessage(current.ticketId, t, user);
        return { changes: { messages: [...current.messages, message('AGENT', user.id, t, new Date())] }, events: () => [] };
      },
      this.loadFor({ kind: 'staff' }),
    );
  }

  /** The customer or service staff end the conversation (`conversation.closed`); the ticket lives on. */
  async close(id: string, user: AuthUser, expectedVersion?: number | null): Promise<ConversationRecord> {
    const viewer = await this.viewerOf(user);
    return this.writer.mutate(
      id,
      expectedVersion,
      (current) => {
        this.requireNotClosed(current);
        const now = new Date();
        return { changes: { status: 'CLOSED', closedAt: now }, events: (next) => [conversationEvent(ConversationEventType.CLOSED, next, { closedBy: user.id, previousStatus: current.status }, now)] };
      },
      this.loadFor(viewer),
    );
  }

  private requireNotClosed(current: ConversationRecord): void {
    if (current.status === 'CLOSED') throw new ConversationException('CONVERSATION_INVALID_STATE', 'The conversation is closed: start a new one', [{ field: 'id', message: 'The conversation is CLOSED' }]);
  }

  // ---- customer merges ----------------------------------------------------------------------------

  /** customer.erased: the subject and every message's text go (authors, times and status stay); no event. Idempotent. */
  async eraseCustomer(customerId: string): Promise<number> {
    const docs = await this.conversations.collection.find({ customerId: customerId.toLowerCase() } as never, { projection: { _id: 1 } }).toArray();
    // Read afresh and rewritten inside the conversation's queue (shared with the relay; FerretDB v1).
    for (const { _id } of docs) await this.writer.serial.run(String(_id), async () => {
      const conversation = (await this.conversations.collection.findOne({ _id } as never)) as unknown as ConversationRecord | null;
      if (!conversation) return;
      await this.conversations.collection.updateOne({ _id: conversation._id } as never, {
        $set: { subject: ERASED_TEXT, messages: conversation.messages.map((m) => ({ ...m, text: ERASED_TEXT, answers: [] })) },
      } as never);
    });
    return docs.length;
  }

  /** customer.merged (via @crm/customer-link): the merged-away customer's conversations move to the survivor (`conversation.updated`). */
  async repointCustomer(fromId: string, toId: string): Promise<number> {
    const [from, to] = [fromId.toLowerCase(), toId.toLowerCase()];
    const ids = (await this.conversations.find({ customerId: from }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec()).map((d) => d._id.toHexString());
    let moved = 0;
    for (const id of ids) {
      await this.writer.mutate(id, null, (current) => {
        if (current.customerId !== from) return null;
        moved += 1;
        return { changes: { customerId: to }, events: (next) => [conversationEvent(ConversationEventType.UPDATED, next, { changed: ['customerId'], mergedCustomerId: from })] };
      });
    }
    return moved;
  }
}
