import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

export const TICKET_TYPES = ['CONSULTATION', 'COMPLAINT', 'AFTER_SALES', 'TECHNICAL', 'SUGGESTION'] as const;
export const TICKET_PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;
export const TICKET_CHANNELS = ['PHONE', 'EMAIL', 'WEB', 'CHAT', 'VISIT'] as const;
export const TICKET_STATUSES = ['NEW', 'PENDING_APPROVAL', 'APPROVED', 'ASSIGNED', 'IN_PROGRESS', 'WAITING_ON_CUSTOMER', 'RESOLVED', 'CLOSED'] as const;
export const VISIBILITIES = ['PUBLIC', 'INTERNAL'] as const;
export const AUTHOR_KINDS = ['STAFF', 'CUSTOMER', 'CONVERSATION'] as const;

export type TicketType = (typeof TICKET_TYPES)[number];
export type TicketPriority = (typeof TICKET_PRIORITIES)[number];
export type TicketChannel = (typeof TICKET_CHANNELS)[number];
export type TicketStatus = (typeof TICKET_STATUSES)[number];
export type Visibility = (typeof VISIBILITIES)[number];

/**
 * Every status change a ticket may make (anything else is a CONFLICT and changes nothing). Reopening
 * (RESOLVED/CLOSED → ASSIGNED) is further limited to the reopen window and to resolved tickets.
 */
export const TICKET_TRANSITIONS: Record<TicketStatus, readonly TicketStatus[]> = {
  NEW: ['PENDING_APPROVAL', 'ASSIGNED'],
  PENDING_APPROVAL: ['APPROVED', 'CLOSED'],
  APPROVED: ['ASSIGNED'],
  ASSIGNED: ['IN_PROGRESS'],
  IN_PROGRESS: ['WAITING_ON_CUSTOMER', 'RESOLVED'],
  WAITING_ON_CUSTOMER: ['IN_PROGRESS', 'RESOLVED'],
  RESOLVED: ['CLOSED', 'ASSIGNED'],
  CLOSED: ['ASSIGNED'],
};

/** Statuses in which a ticket is still being worked on (or waiting to be). */
export const OPEN_STATUSES: readonly TicketStatus[] = ['NEW', 'PENDING_APPROVAL', 'APPROVED', 'ASSIGNED', 'IN_PROGRESS', 'WAITING_ON_CUSTOMER'];

export interface TicketComment {
  id: string;
  body: string;
  visibility: Visibility;
  authorId: string;
  authorKind: (typeof AUTHOR_KINDS)[number];
  createdAt: Date;
}

export interface TicketHistoryEntry {
  at: Date;
  /** Keycloak user id, or `system`. */
  by: string;
  field: string;
  from: string | null;
  to: string | null;
  note: string | null;
  visibility: Visibility;
  /** Id of the event or conversation a system entry came from (makes replays idempotent). */
  ref?: string | null;
}

export interface TicketApproval {
  required: boolean;
  decidedBy: string | null;
  decidedAt: Date | null;
  approved: boolean | null;
  note: string | null;
}

export interface TicketSatisfaction {
  rating: number;
  comment: string | null;
  ratedBy: string;
  onBehalfOfCustomer: boolean;
  ratedAt: Date;
}

export interface TicketRecord {
  _id: Types.ObjectId;
  /** Id of a customer in the customers service; resolved through the federation entity `Customer`. */
  customerId: string;
  productId: string | null;
  orderId: string | null;
  subject: string;
  description: string | null;
  type: TicketType;
  priority: TicketPriority;
  channel: TicketChannel;
  status: TicketStatus;
  queueId: string | null;
  assigneeId: string | null;
  approval: TicketApproval;
  closeReason: string | null;
  /** What the agent wrote when resolving (also a public history note). */
  resolution: string | null;
  /** SLA breaches escalated in the current cycle (`<kind>:<reopenCount>`), so each escalates once. */
  slaBreaches: string[];
  comments: TicketComment[];
  history: TicketHistoryEntry[];
  satisfaction: TicketSatisfaction | null;
  /** The SLA module's clock (see src/modules/sla); opaque here, changed only through its pure functions. */
  sla: unknown;
  conversationIds: string[];
  firstResponseAt: Date | null;
  resolvedAt: Date | null;
  closedAt: Date | null;
  reopenCount: number;
  createdById: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const ticketSchema = new Schema<TicketRecord>(
  {
    customerId: { type: String, required: true },
    productId: { type: String, default: null },
    orderId: { type: String, default: null },
    subject: { type: String, required: true, trim: true },
    description: { type: String, default: null },
    type: { type: String, enum: TICKET_TYPES, required: true },
    priority: { type: String, enum: TICKET_PRIORITIES, required: true },
    channel: { type: String, enum: TICKET_CHANNELS, required: true },
    status: { type: String, enum: TICKET_STATUSES, required: true, default: 'NEW' },
    queueId: { type: String, default: null },
    assigneeId: { type: String, default: null },
    approval: { type: Schema.Types.Mixed, required: true },
    closeReason: { type: String, default: null },
    resolution: { type: String, default: null },
    slaBreaches: { type: [String], default: [] },
    comments: { type: Schema.Types.Mixed, default: [] },
    history: { type: Schema.Types.Mixed, default: [] },
    satisfaction: { type: Schema.Types.Mixed, default: null },
    sla: { type: Schema.Types.Mixed, default: null },
    conversationIds: { type: [String], default: [] },
    firstResponseAt: { type: Date, default: null },
    resolvedAt: { type: Date, default: null },
    closedAt: { type: Date, default: null },
    reopenCount: { type: Number, default: 0 },
    createdById: { type: String, required: true },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'tickets', versionKey: false },
);
ticketSchema.plugin(outboxPlugin);
// Indexes MongoDB would use (FerretDB v1 scans anyway): per customer, product, order, queue, agent.
ticketSchema.index({ customerId: 1, _id: -1 });
ticketSchema.index({ productId: 1, _id: -1 });
ticketSchema.index({ orderId: 1, status: 1 });
ticketSchema.index({ queueId: 1, status: 1 });
ticketSchema.index({ assigneeId: 1, status: 1 });
ticketSchema.index({ status: 1, createdAt: -1 });

export type TicketModel = Model<TicketRecord>;

export function ticketModel(connection: Connection): TicketModel {
  return connection.model<TicketRecord>('Ticket', ticketSchema);
}
