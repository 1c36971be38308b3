import { Schema, type Connection, type Model } from 'mongoose';

export const TICKET_FACTS = 'ticket_facts';

/** The newest state analytics knows of one ticket (by version) and its satisfaction rating. */
export interface TicketFactRecord {
  _id: string;
  version: number;
  customerId: string;
  productId: string | null;
  type: string;
  channel: string;
  priority: string;
  status: string;
  openedAt: Date;
  firstResponseAt: Date | null;
  resolvedAt: Date | null;
  rating: number | null;
  ratedAt: Date | null;
}

const ticketFactSchema = new Schema<TicketFactRecord>(
  {
    _id: String,
    version: Number,
    customerId: { type: String, index: true },
    productId: { type: String, default: null },
    type: String,
    channel: String,
    priority: String,
    status: String,
    openedAt: { type: Date, index: true },
    firstResponseAt: { type: Date, default: null },
    resolvedAt: { type: Date, default: null },
    rating: { type: Number, default: null },
    ratedAt: { type: Date, default: null },
  },
  { collection: TICKET_FACTS, versionKey: false },
);

export function ticketFactModel(connection: Connection): Model<TicketFactRecord> {
  return connection.model<TicketFactRecord>('TicketFact', ticketFactSchema);
}
export type TicketFactModel = Model<TicketFactRecord>;
