import { createEvent, type CloudEvent } from './envelope.js';

/**
 * The audit trail's one event (SYS-4), written by the gateway for every mutation and every query that
 * reads sensitive fields, and stored by the admin service. Field names only, never values.
 */
export const AUDIT_RECORDED = 'audit.recorded';

export interface AuditRecordedData {
  actorId: string;
  actorName: string;
  actorRoles: string[];
  operationType: 'QUERY' | 'MUTATION' | 'SUBSCRIPTION';
  operationName: string | null;
  rootFields: string[];
  sensitiveFields: string[];
  /** `OK`, or `ERROR` with the codes in `errorCodes`. */
  result: 'OK' | 'ERROR';
  errorCodes: string[];
  clientAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** Keyed by the actor, so one person's entries stay in order. */
export function auditRecordedEvent(data: AuditRecordedData, time = new Date()): CloudEvent<AuditRecordedData> {
  return createEvent({ source: '/crm/gateway', type: AUDIT_RECORDED, subject: data.actorId, time, data });
}
