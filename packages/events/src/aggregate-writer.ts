import type { Model, Types } from 'mongoose';
import type { CloudEvent } from './envelope.js';
import { appendEvents, OUTBOX_FIELD, type OutboxRelay } from './outbox.js';
import { PerKeySerializer } from '@crm/mongo';

/** What every versioned aggregate document written through an AggregateWriter has. */
export interface VersionedDocument {
  _id: Types.ObjectId;
  version: number;
  updatedAt: Date;
}

/** One decided change: the fields to set and the events of the new state (written in the same update). */
export interface Change<T> {
  changes: Partial<T>;
  events: (next: T) => CloudEvent[];
}

export interface AggregateWriterOptions {
  notFound: (id: string) => Error;
  /** A stale `expectedVersion`, or a write that kept losing to concurrent ones. */
  conflict: (message: string) => Error;
  /** Attempts when a conditional write lost to a concurrent one (without expectedVersion). */
  maxAttempts?: number;
}

const OBJECT_ID = /^[0-9a-f]{24}$/i;

/**
 * The outbox write rules (see README, conventions) for one aggregate collection: an
 * insert or a version-conditional single-document update that appends the change's events to the
 * document, serialised per document in this process (FerretDB v1 updates are not atomic), then
 * `relay.notify`. Register the model with the relay with `serial` as its serializer.
 */
export class AggregateWriter<T extends VersionedDocument> {
  readonly serial = new PerKeySerializer();

  constructor(
    private readonly model: Model<T>,
    private readonly relay: OutboxRelay,
    private readonly options: AggregateWriterOptions,
  ) {}

  async insert(record: T, events: CloudEvent[]): Promise<T> {
    await this.model.collection.insertOne({ ...record, [OUTBOX_FIELD]: events } as never);
    if (events.length) this.relay.notify(this.model, record._id);
    return record;
  }

  /**
   * Runs one change: `load` reads the current document (null: NOT_FOUND; it also applies the caller's
   * visibility), `decide` throws to refuse or returns null for "nothing to do". With `expectedVersion`
   * a mismatch is a CONFLICT; without it a lost write is re-decided on the fresh document.
   */
  mutate(id: string, expectedVersion: number | null | undefined, decide: (current: T) => Promise<Change<T> | null> | Change<T> | null, load?: (id: string) => Promise<T | null>): Promise<T> {
    if (!OBJECT_ID.test(id)) return Promise.reject(this.options.notFound(id));
    const key = id.toLowerCase();
    const read = load ?? ((k: string) => this.model.findById(k).lean<T>().exec());
    return this.serial.run(key, async () => {
      for (let attempt = 1; ; attempt += 1) {
        const current = await read(key);
        if (!current) throw this.options.notFound(id);
        if (expectedVersion != null && expectedVersion !== current.version) throw this.options.conflict(`Expected version ${expectedVersion}, found ${current.version}`);
        const step = await decide(current);
        if (!step) return current;
        const next = { ...current, ...step.changes, version: current.version + 1, updatedAt: new Date() } as T;
        const events = step.events(next);
        const result = await this.model.collection.updateOne(
          { _id: current._id, version: current.version } as never,
          { $set: { ...step.changes, version: next.version, updatedAt: next.updatedAt }, ...(events.length ? appendEvents(events) : {}) } as never,
        );
        if (result.matchedCount === 1) {
          if (events.length) this.relay.notify(this.model, current._id);
          return next;
        }
        if (expectedVersion != null || attempt >= (this.options.maxAttempts ?? 8)) throw this.options.conflict('Changed meanwhile; reload and retry');
      }
    });
  }
}
