import { Schema, type Connection, type Model, type SchemaDefinition, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';
import type { Money } from '@crm/money';
import { moneySubdocument } from '@crm/mongo';
import { ownershipFields, type Ownership } from '../../shared/ownership.js';

export const CONTRACT_STATUSES = ['DRAFT', 'ACTIVE', 'EXPIRED', 'TERMINATED'] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];

/** Allowed moves; EXPIRED is set only by the scheduler (ACTIVE past its end date). */
export const CONTRACT_TRANSITIONS: Record<ContractStatus, readonly ContractStatus[]> = {
  DRAFT: ['ACTIVE', 'TERMINATED'],
  ACTIVE: ['TERMINATED', 'EXPIRED'],
  EXPIRED: [],
  TERMINATED: [],
};

export interface Signatory {
  name: string;
  title: string | null;
}

export interface ContractParty {
  /** Legal name; for the customer it may be filled in later (the record is linked by customerId). */
  name: string | null;
  signatory: Signatory | null;
}

/** A contract as stored; also the GraphQL `Contract` parent type (codegen mapper). */
export interface ContractRecord extends Ownership {
  _id: Types.ObjectId;
  customerId: string;
  title: string;
  /** Our company (party A) and the customer (party B). */
  company: ContractParty;
  customerParty: ContractParty;
  value: Money;
  startDate: Date;
  endDate: Date;
  status: ContractStatus;
  /** When both sides signed: set on activation. */
  signedAt: Date | null;
  activatedBy: string | null;
  terminatedAt: Date | null;
  terminationReason: string | null;
  expiredAt: Date | null;
  quoteId: string | null;
  orderIds: string[];
  notes: string | null;
  /** Set once, by the scheduler replica that claimed the reminder (see contract.service.ts). */
  renewalReminderSentAt: Date | null;
  createdBy: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

const signatorySchema = new Schema<Signatory>({ name: { type: String, required: true }, title: { type: String, default: null } }, { _id: false });
const partySchema = new Schema<ContractParty>({ name: { type: String, default: null }, signatory: { type: signatorySchema, default: null } }, { _id: false });
const money = moneySubdocument();

const contractSchema = new Schema<ContractRecord>(
  {
    customerId: { type: String, required: true },
    title: { type: String, required: true },
    company: { type: partySchema, required: true },
    customerParty: { type: partySchema, required: true },
    value: { type: money, required: true },
    startDate: { type: Date, required: true },
    endDate: { type: Date, required: true },
    status: { type: String, enum: CONTRACT_STATUSES, required: true },
    signedAt: { type: Date, default: null },
    activatedBy: { type: String, default: null },
    terminatedAt: { type: Date, default: null },
    terminationReason: { type: String, default: null },
    expiredAt: { type: Date, default: null },
    quoteId: { type: String, default: null },
    orderIds: { type: [String], default: [] },
    notes: { type: String, default: null },
    renewalReminderSentAt: { type: Date, default: null },
    createdBy: { type: String, required: true },
    version: { type: Number, required: true, default: 1 },
    // `as const` makes the shared definition read-only; mongoose's types want mutable defaults.
    ...(ownershipFields as unknown as SchemaDefinition<Ownership>),
  },
  { collection: 'contracts', timestamps: true },
);
contractSchema.plugin(outboxPlugin);
// Lists per customer, the scheduler's scans (status + end date) and keyset paging by creation.
contractSchema.index({ customerId: 1, createdAt: -1, _id: -1 });
contractSchema.index({ status: 1, endDate: 1 });
contractSchema.index({ createdAt: -1, _id: -1 });
contractSchema.index({ quoteId: 1 });

export type ContractModel = Model<ContractRecord>;

export function contractModel(connection: Connection): ContractModel {
  return connection.model<ContractRecord>('Contract', contractSchema);
}
