import { Schema, type Connection, type Model } from 'mongoose';

export interface SpendEntry {
  currency: string;
  amountMinor: number;
}

/**
 * What marketing knows of a customer (a read model of the customers and sales services' events;
 * `_id` is the customer id). Contact data never arrives here: the customers service keeps it.
 */
export interface CustomerProfileRecord {
  _id: string;
  name: string;
  gender: string | null;
  /** `YYYY-MM-DD`; age is computed from it when read. */
  birthday: string | null;
  country: string | null;
  province: string | null;
  city: string | null;
  tags: string[];
  lifecycleStage: string | null;
  level: string | null;
  source: string | null;
  portalUserId: string | null;
  deleted: boolean;
  mergedInto: string | null;
  /** Version of the last customer event applied (older ones are ignored). */
  customerVersion: number;
  /** Fully paid, not cancelled, not refunded orders: their totals per currency. */
  spend: SpendEntry[];
  paidOrderCount: number;
  lastOrderAt: Date | null;
  valueTier: string;
  /** Service tickets not yet RESOLVED or CLOSED (from the service desk's events), and those that are complaints. */
  openTickets: number;
  openComplaints: number;
  updatedAt: Date;
}

/** One service ticket as far as the profile goes (`_id` = ticket id); newest version wins. */
export interface TicketFactRecord {
  _id: string;
  customerId: string;
  version: number;
  type: string;
  open: boolean;
}

/** One order as far as customer behaviour goes (`_id` is the order id); newest version wins. */
export interface OrderFactRecord {
  _id: string;
  customerId: string;
  version: number;
  currency: string;
  amountMinor: number;
  /** Counts toward spend: PAID and not CANCELLED. */
  counted: boolean;
  /** When it first became fully paid. */
  paidAt: Date | null;
}

const profileSchema = new Schema<CustomerProfileRecord>(
  {
    _id: { type: String, required: true },
    name: { type: String, default: '' },
    gender: { type: String, default: null },
    birthday: { type: String, default: null },
    country: { type: String, default: null },
    province: { type: String, default: null },
    city: { type: String, default: null },
    tags: { type: [String], default: [] },
    lifecycleStage: { type: String, default: null },
    level: { type: String, default: null },
    source: { type: String, default: null },
    portalUserId: { type: String, default: null },
    deleted: { type: Boolean, default: false },
    mergedInto: { type: String, default: null },
    customerVersion: { type: Number, default: 0 },
    spend: { type: [{ currency: String, amountMinor: Number, _id: false }], default: [] },
    paidOrderCount: { type: Number, default: 0 },
    lastOrderAt: { type: Date, default: null },
    valueTier: { type: String, default: 'NONE' },
    openTickets: { type: Number, default: 0 },
    openComplaints: { type: Number, default: 0 },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'customer_profiles' },
);
profileSchema.index({ portalUserId: 1 });
profileSchema.index({ birthday: 1 });

const orderFactSchema = new Schema<OrderFactRecord>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    version: { type: Number, required: true },
    currency: { type: String, required: true },
    amountMinor: { type: Number, required: true },
    counted: { type: Boolean, required: true },
    paidAt: { type: Date, default: null },
  },
  { collection: 'customer_order_facts' },
);
orderFactSchema.index({ customerId: 1 });

const ticketFactSchema = new Schema<TicketFactRecord>(
  {
    _id: { type: String, required: true },
    customerId: { type: String, required: true },
    version: { type: Number, required: true },
    type: { type: String, required: true },
    open: { type: Boolean, required: true },
  },
  { collection: 'customer_ticket_facts' },
);
ticketFactSchema.index({ customerId: 1 });

export type CustomerProfileModel = Model<CustomerProfileRecord>;
export type TicketFactModel = Model<TicketFactRecord>;
export type OrderFactModel = Model<OrderFactRecord>;

export function customerProfileModels(connection: Connection): { profiles: CustomerProfileModel; orderFacts: OrderFactModel; ticketFacts: TicketFactModel } {
  return {
    profiles: connection.model<CustomerProfileRecord>('CustomerProfile', profileSchema),
    orderFacts: connection.model<OrderFactRecord>('CustomerOrderFact', orderFactSchema),
    ticketFacts: connection.model<TicketFactRecord>('CustomerTicketFact', ticketFactSchema),
  };
}
