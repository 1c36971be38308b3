import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

/** OPEN: automatic answers. HANDED_OVER: a ticket was opened (or joined) and agents reply. CLOSED: no more messages. */
export const CONVERSATION_STATUSES = ['OPEN', 'HANDED_OVER', 'CLOSED'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export const MESSAGE_AUTHORS = ['CUSTOMER', 'BOT', 'AGENT'] as const;
export type MessageAuthor = (typeof MESSAGE_AUTHORS)[number];

/** A knowledge-base article offered as an automatic answer, as it was when offered. */
export interface ConversationAnswer {
  articleId: string;
  title: string;
  revision: number | null;
  score: number;
}

export interface ConversationMessage {
  id: string;
  author: MessageAuthor;
  /** Keycloak user id (customer or agent), `bot` for automatic answers. */
  authorId: string;
  text: string;
  at: Date;
  /** BOT messages: the articles offered, best first (empty: nothing matched). */
  answers: ConversationAnswer[];
}

/** An online-service conversation (SVC-5); also the GraphQL `Conversation` parent type (codegen mapper). */
export interface ConversationRecord {
  _id: Types.ObjectId;
  customerId: string;
  /** The self-service account that started it. */
  startedBy: string;
  productId: string | null;
  /** The first question, shortened: the subject of the ticket on hand-over. */
  subject: string;
  status: ConversationStatus;
  ticketId: string | null;
  handedOverAt: Date | null;
  closedAt: Date | null;
  messages: ConversationMessage[];
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const conversationSchema = new Schema<ConversationRecord>(
  {
    customerId: { type: String, required: true },
    startedBy: { type: String, required: true },
    productId: { type: String, default: null },
    subject: { type: String, required: true },
    status: { type: String, enum: CONVERSATION_STATUSES, required: true },
    ticketId: { type: String, default: null },
    handedOverAt: { type: Date, default: null },
    closedAt: { type: Date, default: null },
    messages: { type: Schema.Types.Mixed, default: [] },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'conversations', versionKey: false },
);
conversationSchema.plugin(outboxPlugin);
// Indexes MongoDB would use (FerretDB v1 scans anyway): a customer's, the handed-over queue, by ticket.
conversationSchema.index({ customerId: 1, createdAt: -1 });
conversationSchema.index({ status: 1, handedOverAt: -1 });
conversationSchema.index({ ticketId: 1 });

export type ConversationModel = Model<ConversationRecord>;

export function conversationModel(connection: Connection): ConversationModel {
  return connection.model<ConversationRecord>('Conversation', conversationSchema);
}
