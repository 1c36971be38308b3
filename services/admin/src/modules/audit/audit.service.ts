import type { Model, QueryFilter } from 'mongoose';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { AUDIT_RECORDED, PoisonEventError, type AuditRecordedData, type CloudEvent } from '@crm/events';
import { isDuplicateKey, paginate, type PageArgs } from '@crm/mongo';
import { AuditException } from './audit.errors.js';
import type { AuditEntryRecord } from './audit.model.js';

export interface AuditFilterInput {
  actorId?: string | null;
  rootField?: string | null;
  operationType?: string | null;
  sensitiveField?: string | null;
  from?: Date | null;
  to?: Date | null;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.]{0,100}$/;

/** The audit trail (SYS-4): stores what the gateway recorded, and lets admins search it. No updates, no deletes. */
export class AuditService {
  constructor(private readonly entries: Model<AuditEntryRecord>) {}

  /** Stores one `audit.recorded` event; a redelivery is a no-op. */
  async record(event: CloudEvent): Promise<void> {
    if (event.type !== AUDIT_RECORDED) return;
    const data = event.data as Partial<AuditRecordedData>;
    if (typeof data?.actorId !== 'string' || typeof data.operationType !== 'string' || typeof data.result !== 'string') {
      throw new PoisonEventError('audit.recorded without actor, operation type or result');
    }
    try {
      await this.entries.create({
        eventId: event.id,
        at: new Date(event.time),
        actorId: data.actorId,
        actorName: data.actorName ?? '',
        actorRoles: data.actorRoles ?? [],
        operationType: data.operationType,
        operationName: data.operationName ?? null,
        rootFields: data.rootFields ?? [],
        sensitiveFields: data.sensitiveFields ?? [],
        result: data.result,
        errorCodes: data.errorCodes ?? [],
        clientAddress: data.clientAddress ?? null,
        userAgent: data.userAgent ?? null,
        requestId: data.requestId ?? null,
      });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /**
   * customer.erased: entries by the person's own account keep what was done and when, under the
   * account id only; the username, client address and user agent go. The one change audit entries allow.
   */
  async pseudonymiseActor(actorId: string): Promise<number> {
    return (await this.entries.updateMany({ actorId }, { $set: { actorName: '[erased]', clientAddress: null, userAgent: null } }).exec()).modifiedCount;
  }

  async list(filter: AuditFilterInput | null | undefined, page: PageArgs, caller: AuthUser) {
    requireRole(caller, [Role.ADMIN]);
    const query: QueryFilter<AuditEntryRecord> = {};
    const problems: Array<{ field: string; message: string }> = [];
    for (const field of ['rootField', 'sensitiveField', 'operationType'] as const) {
      const value = filter?.[field];
      if (value && !NAME.test(value)) problems.push({ field: `filter.${field}`, message: 'A field or type name' });
    }
    if (filter?.from && filter.to && filter.from > filter.to) problems.push({ field: 'filter.to', message: 'Must not be before from' });
    if (problems.length > 0) throw new AuditException('AUDIT_INVALID_FILTER', 'Invalid audit filter', problems);
    if (filter?.actorId) query.actorId = filter.actorId;
    if (filter?.rootField) query.rootFields = filter.rootField;
    if (filter?.sensitiveField) query.sensitiveFields = filter.sensitiveField;
    if (filter?.operationType) query.operationType = filter.operationType.toUpperCase();
    if (filter?.from || filter?.to) query.at = { ...(filter.from ? { $gte: filter.from } : {}), ...(filter.to ? { $lte: filter.to } : {}) };
    const result = await paginate(this.entries, query, { first: page.first ?? 50, after: page.after ?? null }, { sort: { field: 'at', direction: -1 }, count: false });
    return {
      edges: result.items.map((node, i) => ({ cursor: result.cursors[i]!, node })),
      pageInfo: { hasNextPage: result.hasNextPage, endCursor: result.endCursor },
    };
  }
}
