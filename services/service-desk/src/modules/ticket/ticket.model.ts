import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

export const TICKET_TYPES = ['CONSULTATION', 'COMPLAINT', 'AFTER_SALES', 'TECHNICAL', 'SUGGESTION'] as const;
export const TICKET_PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;
export const TICKET_CHANNELS = ['PHONE', 'EMAIL', 'WEB', 'CHAT', 'WECHAT', 'IN_PERSON'] as const;
export const TICKET_STATUSES = ['NEW', 'APPROVED', 'DISPATCHED', 'IN_PROGRESS', 'RESOLVED', 'CLOSED'] as const;

export interface TicketRecord {
  _id: Types.ObjectId;
  /** Id of a customer in the customers service; resolved through the federation entity `Customer`. */
  customerId: string;
  subject: string;
  description?: string | null;
  type: (typeof TICKET_TYPES)[number];
  priority: (typeof TICKET_PRIORITIES)[number];
  channel: (typeof TICKET_CHANNELS)[number];
  status: (typeof TICKET_STATUSES)[number];
  createdById: string;
  createdAt: Date;
  updatedAt: Date;
}

/** A `Customer` as this subgraph knows it: only the key. */
export interface CustomerReference {
  id: string;
}

const ticketSchema = new Schema<TicketRecord>(
  {
    customerId: { type: String, required: true },
    subject: { type: String, required: true, trim: true },
    description: { type: String },
    type: { type: String, enum: TICKET_TYPES, required: true },
    priority: { type: String, enum: TICKET_PRIORITIES, required: true },
    channel: { type: String, enum: TICKET_CHANNELS, required: true },
    status: { type: String, enum: TICKET_STATUSES, required: true, default: 'NEW' },
    createdById: { type: String, required: true },
  },
  { collection: 'tickets', timestamps: true },
);
ticketSchema.plugin(outboxPlugin);
ticketSchema.index({ customerId: 1, _id: 1 });

export type TicketModel = Model<TicketRecord>;

export function ticketModel(connection: Connection): TicketModel {
  return connection.model<TicketRecord>('Ticket', ticketSchema);
}
