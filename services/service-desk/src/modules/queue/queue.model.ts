import { Schema, type Connection, type Model, type Types } from 'mongoose';

export const QUEUE_TICKET_TYPES = ['CONSULTATION', 'COMPLAINT', 'AFTER_SALES', 'TECHNICAL', 'SUGGESTION'] as const;

/** A service queue (skill group): its agents and the routing rule that sends new tickets to it. */
export interface QueueRecord {
  _id: Types.ObjectId;
  name: string;
  skillGroup: string;
  /** Keycloak user ids of the agents, in round-robin order. */
  members: string[];
  ticketTypes: Array<(typeof QUEUE_TICKET_TYPES)[number]>;
  productIds: string[];
  active: boolean;
  /**
   * The next round-robin slot. Only a hint: the slot itself is claimed by inserting
   * `queue_slots/<queueId>:<slot>` (unique `_id`), so a stale or lost update of this field never
   * hands one slot twice, it only costs a retry on the next slot.
   */
  nextSlot: number;
  createdBy: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** One round-robin hand-out: exists once per queue and slot (the insert is the claim). */
export interface QueueSlotRecord {
  /** `<queueId>:<slot>` */
  _id: string;
  queueId: string;
  slot: number;
  memberId: string;
  ticketId: string;
  at: Date;
}

const queueSchema = new Schema<QueueRecord>(
  {
    name: { type: String, required: true },
    skillGroup: { type: String, required: true },
    members: { type: [String], default: [] },
    ticketTypes: { type: [String], default: [] },
    productIds: { type: [String], default: [] },
    active: { type: Boolean, default: true },
    nextSlot: { type: Number, default: 0 },
    createdBy: { type: String, required: true },
    version: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'queues', versionKey: false },
);
queueSchema.index({ members: 1 });

const queueSlotSchema = new Schema<QueueSlotRecord>(
  {
    _id: { type: String, required: true },
    queueId: { type: String, required: true },
    slot: { type: Number, required: true },
    memberId: { type: String, required: true },
    ticketId: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'queue_slots', versionKey: false },
);

export type QueueModel = Model<QueueRecord>;
export type QueueSlotModel = Model<QueueSlotRecord>;

export function queueModels(connection: Connection): { queues: QueueModel; slots: QueueSlotModel } {
  return {
    queues: connection.model<QueueRecord>('Queue', queueSchema),
    slots: connection.model<QueueSlotRecord>('QueueSlot', queueSlotSchema),
  };
}
