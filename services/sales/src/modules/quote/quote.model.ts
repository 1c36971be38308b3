import { Schema, type Connection, type Model, type SchemaDefinition, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Discount, PricedLine, Totals } from '../../shared/pricing.js';
import { ownershipFields, type Ownership } from '../../shared/ownership.js';

export const QUOTE_STATUSES = ['DRAFT', 'SENT', 'ACCEPTED', 'REJECTED', 'EXPIRED'] as const;
export type QuoteStatus = (typeof QUOTE_STATUSES)[number];

/** A revision of a quote as it stood when it was replaced (kept readable: `Quote.versions`). */
export interface QuoteVersionRecord {
  revision: number;
  title: string | null;
  currency: string;
  lines: PricedLine[];
  discount: Discount | null;
  totals: Totals;
  validUntil: Date;
  sentAt: Date | null;
  /** When the next revision replaced it, and who made that revision. */
  supersededAt: Date;
  supersededBy: string;
}

/** A quote as stored; also the GraphQL `Quote` parent type (codegen mapper). */
export interface QuoteRecord extends Ownership {
  _id: Types.ObjectId;
  customerId: string;
  opportunityId: string | null;
  title: string | null;
  currency: string;
  lines: PricedLine[];
  discount: Discount | null;
  totals: Totals;
  status: QuoteStatus;
  /** 1 for the first; each edit of a SENT quote starts the next revision (a DRAFT again). */
  revision: number;
  /** Earlier revisions, oldest first. */
  versions: QuoteVersionRecord[];
  validUntil: Date;
  notes: string | null;
  sentAt: Date | null;
  acceptedAt: Date | null;
  acceptedBy: string | null;
  rejectedAt: Date | null;
  rejectionReason: string | null;
  expiredAt: Date | null;
  /** Set by `acceptQuote`: the records it made (ids derived from the quote id). */
  contractId: string | null;
  orderId: string | null;
  createdBy: string;
  /** Optimistic concurrency: every change increments it and requires the value it read. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A list of plain sub-objects the service writes whole (typed by the record interface, not by mongoose). */
const mixedList = () => ({ type: [Schema.Types.Mixed], default: [] }) as never;

const quoteSchema = new Schema<QuoteRecord>(
  {
    customerId: { type: String, required: true },
    opportunityId: { type: String, default: null },
    title: { type: String, default: null },
    currency: { type: String, required: true },
    // Priced lines and totals are written whole by the service (plain objects, integer minor units).
    lines: mixedList(),
    discount: { type: Schema.Types.Mixed, default: null },
    totals: { type: Schema.Types.Mixed, required: true },
    status: { type: String, enum: QUOTE_STATUSES, required: true },
    revision: { type: Number, required: true, default: 1 },
    versions: mixedList(),
    validUntil: { type: Date, required: true },
    notes: { type: String, default: null },
    sentAt: { type: Date, default: null },
    acceptedAt: { type: Date, default: null },
    acceptedBy: { type: String, default: null },
    rejectedAt: { type: Date, default: null },
    rejectionReason: { type: String, default: null },
    expiredAt: { type: Date, default: null },
    contractId: { type: String, default: null },
    orderId: { type: String, default: null },
    createdBy: { type: String, required: true },
    version: { type: Number, required: true, default: 1 },
    // `as const` makes the shared definition read-only; mongoose's types want mutable defaults.
    ...(ownershipFields as unknown as SchemaDefinition<Ownership>),
  },
  { collection: 'quotes', timestamps: true },
);
quoteSchema.plugin(outboxPlugin);
quoteSchema.index({ customerId: 1, createdAt: -1, _id: -1 });
quoteSchema.index({ createdAt: -1, _id: -1 });
quoteSchema.index({ status: 1, validUntil: 1 });
quoteSchema.index({ opportunityId: 1 });

export type QuoteModel = Model<QuoteRecord>;

export function quoteModel(connection: Connection): QuoteModel {
  return connection.model<QuoteRecord>('Quote', quoteSchema);
}
