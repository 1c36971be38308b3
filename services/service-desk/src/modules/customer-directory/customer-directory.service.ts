import { Role, type AuthUser } from '@crm/auth';
import { PoisonEventError, type CloudEvent } from '@crm/events';
import type { CustomerDirectoryModel, CustomerDirectoryRecord } from './customer-directory.model.js';

/** The customers service's events this directory follows (see services/customers customer.events.ts). */
export const CUSTOMER_DIRECTORY_EVENTS = ['customer.created', 'customer.updated', 'customer.restored', 'customer.deleted', 'customer.merged', 'customer.erased'] as const;

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const DUPLICATE_KEY = 11000;
/** Merges chain (A into B, later B into C); a longer chain than this is a loop in bad data. */
const MAX_MERGE_HOPS = 10;

interface SnapshotData {
  customerId: string;
  portalUserId?: string | null;
  ownerId?: string | null;
  version: number;
}

function snapshotOf(event: CloudEvent): SnapshotData {
  const data = event.data as Partial<SnapshotData> | null;
  const customerId = typeof data?.customerId === 'string' ? data.customerId.toLowerCase() : '';
  if (!OBJECT_ID.test(customerId) || typeof data?.version !== 'number') {
    throw new PoisonEventError(`${event.type} ${event.id} lacks a valid customerId/version`);
  }
  return { customerId, portalUserId: data.portalUserId ?? null, ownerId: data.ownerId ?? null, version: data.version };
}

/**
 * Which customer a self-service caller is, and who owns a customer: the service desk's only copy of
 * customer data, kept from `customer.*` events. Entries only move forward in the customer's version,
 * so a redelivered or late event never undoes a newer one.
 */
export class CustomerDirectory {
  constructor(private readonly entries: CustomerDirectoryModel) {}

  /** The customer id of a caller with the `customer` role, or null (not a customer, or not linked). */
  async customerIdOf(user: AuthUser): Promise<string | null> {
    if (!user.roles.includes(Role.CUSTOMER)) return null;
    const entry = await this.entries.findOne({ portalUserId: user.id, deleted: false, mergedInto: null }).lean<CustomerDirectoryRecord>().exec();
    return entry?._id ?? null;
  }

  /** The sales rep owning the customer (following merges), or null when unknown. */
  async ownerOf(customerId: string): Promise<string | null> {
    const entry = await this.resolve(customerId);
    return entry && !entry.deleted ? entry.ownerId : null;
  }

  /** The id a customer id stands for now: itself, or the survivor of the merges it went through. */
  async currentIdOf(customerId: string): Promise<string> {
    return (await this.resolve(customerId))?._id ?? customerId.toLowerCase();
  }

  private async resolve(customerId: string): Promise<CustomerDirectoryRecord | null> {
    let id = customerId.toLowerCase();
    for (let hop = 0; hop < MAX_MERGE_HOPS; hop += 1) {
      const entry = await this.entries.findById(id).lean<CustomerDirectoryRecord>().exec();
      if (!entry?.mergedInto) return entry;
      id = entry.mergedInto;
    }
    return null;
  }

  /** Applies one customers-service event; idempotent, and older versions than stored are ignored. */
  async apply(event: CloudEvent): Promise<void> {
    const snapshot = snapshotOf(event);
    const at = new Date(event.time ?? Date.now());
    switch (event.type) {
      case 'customer.created':
      case 'customer.updated':
      case 'customer.restored':
        await this.write(snapshot, { portalUserId: snapshot.portalUserId ?? null, ownerId: snapshot.ownerId ?? null, deleted: false, updatedAt: at });
        return;
      case 'customer.deleted':
        await this.write(snapshot, { deleted: true, updatedAt: at });
        return;
      case 'customer.erased':
        // Right to erasure: the portal account link goes. The newest version, so a replay of older
        // events cannot bring it back.
        await this.write(snapshot, { portalUserId: null, updatedAt: at });
        return;
      case 'customer.merged': {
        const mergedId = String((event.data as { mergedId?: unknown }).mergedId ?? '').toLowerCase();
        if (!OBJECT_ID.test(mergedId) || mergedId === snapshot.customerId) throw new PoisonEventError(`customer.merged ${event.id} lacks a valid mergedId`);
        await this.write(snapshot, { portalUserId: snapshot.portalUserId ?? null, ownerId: snapshot.ownerId ?? null, deleted: false, updatedAt: at });
        // The merged-away customer is gone for good: no version of it can come later.
        await this.entries.updateOne(
          { _id: mergedId },
          { $set: { mergedInto: snapshot.customerId, portalUserId: null, updatedAt: at }, $setOnInsert: { version: 0, ownerId: null, deleted: false } },
          { upsert: true },
        );
        return;
      }
      default:
        // Other customer events (none today) carry nothing the directory keeps.
        return;
    }
  }

  /** Writes the entry if this version is newer than the stored one (an insert when there is none). */
  private async write(snapshot: SnapshotData, fields: Partial<CustomerDirectoryRecord>): Promise<void> {
    try {
      await this.entries.updateOne(
        { _id: snapshot.customerId, version: { $lt: snapshot.version } },
        { $set: { ...fields, version: snapshot.version }, $setOnInsert: { mergedInto: null } },
        { upsert: true },
      );
    } catch (error) {
      // The filter missed because a newer (or the same) version is stored; the upsert then collided on _id.
      if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
    }
  }
}
