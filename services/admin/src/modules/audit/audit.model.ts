import { Schema, type Connection, type Types } from 'mongoose';

/** One stored audit entry. Insert-only: nothing in the service updates or deletes these. */
export interface AuditEntryRecord {
  _id: Types.ObjectId;
  /** The `audit.recorded` event's id: a redelivered event is stored once. */
  eventId: string;
  at: Date;
  actorId: string;
  actorName: string;
  actorRoles: string[];
  operationType: string;
  operationName: string | null;
  rootFields: string[];
  sensitiveFields: string[];
  result: string;
  errorCodes: string[];
  clientAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
}

const schema = new Schema<AuditEntryRecord>(
  {
    eventId: { type: String, required: true },
    at: { type: Date, required: true },
    actorId: { type: String, required: true },
    actorName: { type: String, required: true },
    actorRoles: { type: [String], default: [] },
    operationType: { type: String, required: true },
    operationName: { type: String, default: null },
    rootFields: { type: [String], default: [] },
    sensitiveFields: { type: [String], default: [] },
    result: { type: String, required: true },
    errorCodes: { type: [String], default: [] },
    clientAddress: { type: String, default: null },
    userAgent: { type: String, default: null },
    requestId: { type: String, default: null },
  },
  { versionKey: false },
);
schema.index({ eventId: 1 }, { unique: true });
schema.index({ at: -1, _id: -1 });
schema.index({ actorId: 1, at: -1 });

export const auditEntryModel = (connection: Connection) => connection.model<AuditEntryRecord>('AuditEntry', schema, 'audit_entries');
