import { Schema, type Model } from 'mongoose';
import type { Logger } from '@crm/logger';
import { PerKeySerializer } from '@crm/mongo';
import type { CloudEvent } from './envelope.js';
import type { EventPublisher } from './kafka.js';

/**
 * Transactional outbox without transactions: an aggregate's new events live in its own document
 * (`pendingEvents`) and are written in the same single-document atomic update as the state change,
 * which MongoDB and FerretDB both guarantee. The relay publishes them and removes them only after
 * Kafka acknowledged, so a crash at any point loses nothing (it may publish twice; consumers dedupe).
 */
export const OUTBOX_FIELD = 'pendingEvents';

/** Mongoose plugin: adds the hidden `pendingEvents` array to an aggregate's schema. */
export function outboxPlugin(schema: Schema): void {
  schema.add({ [OUTBOX_FIELD]: { type: [Schema.Types.Mixed], default: [], select: false } });
}

/** Update fragment appending events in the same atomic update as the state change. */
export function appendEvents(events: CloudEvent[]): { $push: Record<string, { $each: CloudEvent[] }> } {
  return { $push: { [OUTBOX_FIELD]: { $each: events } } };
}

/** Statements per `update` command when removing published events (see `drain`). */
const UPDATES_PER_COMMAND = 20;

type AnyModel = Model<any, any, any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** When the oldest of a document's pending events happened (ms); events without a time count as old. */
function oldestEventTime(events: CloudEvent[]): number {
  let oldest = Infinity;
  for (const event of events) {
    const at = event.time ? Date.parse(event.time) : NaN;
    oldest = Math.min(oldest, Number.isNaN(at) ? -Infinity : at);
  }
  return oldest;
}

/**
 * Runs work on one document (or, with `runAll`, on several at once) one at a time: `PerKeySerializer`
 * from `@crm/mongo`, keyed by the document id as a string.
 */
export type DocumentSerializer = Pick<PerKeySerializer, 'run' | 'runAll'>;

export interface OutboxRegistration {
  /**
   * The serializer the service already runs its own writes to these documents through (default: the
   * relay's own, see `OutboxRelay.writing`). On FerretDB v1 an update is read, change, write back the
   * whole document: the relay's removal of published events racing a state change undid it (the
   * change and its event were gone, and the writer had been told it succeeded). The relay removes
   * them inside the same queue. Do not `await` `publishDocument` from inside that serializer (use
   * `notify`): it would wait on itself.
   */
  serializer?: DocumentSerializer;
}

export interface OutboxRelayOptions {
  publisher: EventPublisher;
  logger: Logger;
  /** How often to look for events left behind (e.g. by a crash between write and publish). */
  pollIntervalMs?: number;
  /**
   * Polls that find nothing double the wait up to this (default 30 s); a poll that finds something or
   * a failed publication brings it back to `pollIntervalMs`. The normal path publishes at once
   * (`notify`), and each poll scans every registered collection on FerretDB: polling an idle service
   * every second costs more as its collections grow and finds nothing.
   */
  maxPollIntervalMs?: number;
  /** Documents whose events go to Kafka in one request (and are removed right after). */
  batchSize?: number;
  /**
   * A timed poll leaves alone documents whose oldest pending event is younger than this (default
   * 10 s): `notify` is publishing those. The poll's scan is a snapshot; once it ends, `notify` may
   * already have published and removed what it shows, and publishing that again sent every event
   * twice and kept the poller scanning every second under steady writes (each scan of a large
   * collection slower than the last). The first poll after `start` and the polls `pollSoon` asks for
   * take everything.
   */
  leftOverAfterMs?: number;
  /**
   * Documents read per query. FerretDB answers the query by scanning the whole collection, so after
   * a bulk import (100,000 documents with events) one scan per `batchSize` made publishing quadratic.
   */
  scanSize?: number;
}

export class OutboxRelay {
  private readonly models = new Map<string, AnyModel>();
  private readonly serializers = new Map<string, DocumentSerializer>();
  private readonly inFlight = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  /** Set while a non-flushing stop waits: the poll under way ends after its current batch. */
  private interrupted = false;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly scanSize: number;
  private readonly maxPollIntervalMs: number;
  private readonly leftOverAfterMs: number;
  private publisher: EventPublisher;
  private nextPollMs: number;
  /** The next poll takes every pending document, however young (after start and pollSoon). */
  private nextPollTakesAll = true;

  constructor(private readonly options: OutboxRelayOptions) {
    this.publisher = options.publisher;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.maxPollIntervalMs = Math.max(this.pollIntervalMs, options.maxPollIntervalMs ?? 30_000);
    this.nextPollMs = this.pollIntervalMs;
    this.leftOverAfterMs = options.leftOverAfterMs ?? 10_000;
    this.batchSize = options.batchSize ?? 100;
    this.scanSize = Math.max(this.batchSize, options.scanSize ?? this.batchSize * 20);
  }

  register(model: AnyModel, options: OutboxRegistration = {}): this {
    this.models.set(model.collection.collectionName, model);
    if (options.serializer) this.serializers.set(model.collection.collectionName, options.serializer);
    return this;
  }

  /** The queue the writes to this collection's documents and the relay's removals share. */
  private serializerOf(model: AnyModel): DocumentSerializer {
    const name = model.collection.collectionName;
    let serializer = this.serializers.get(name);
    if (!serializer) this.serializers.set(name, (serializer = new PerKeySerializer()));
    return serializer;
  }

  /**
   * Runs a write to one outbox document (an update appending events, or any other update of it) so
   * that it never overlaps the relay's removal of published events from the same document. Needed on
   * FerretDB v1, whose updates rewrite the whole document without isolation; on MongoDB it changes
   * nothing. Services whose writes already go through a serializer register it instead.
   */
  writing<T>(model: AnyModel, id: unknown, work: () => Promise<T>): Promise<T> {
    return this.serializerOf(model).run(String(id), work);
  }

  /** Publishes one document's pending events now; failures are logged and left for the poller. */
  notify(model: AnyModel, id: unknown): void {
    this.publishDocument(model, id).catch((error: unknown) => {
      this.options.logger.warn({ err: error, collection: model.collection.collectionName }, 'outbox publish failed; poller will retry');
      this.pollSoon();
    });
  }

  /** Publishes, in order, the events pending on one document, then removes exactly those. */
  publishDocument(model: AnyModel, id: unknown): Promise<void> {
    const key = `${model.collection.collectionName}:${String(id)}`;
    // One publication per document at a time inside this process keeps its events in order.
    const previous = this.inFlight.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.publishNow(model, id));
    this.inFlight.set(key, next);
    void next.finally(() => {
      if (this.inFlight.get(key) === next) this.inFlight.delete(key);
    }).catch(() => undefined);
    return next;
  }

  private async publishNow(model: AnyModel, id: unknown): Promise<void> {
    // Raw driver reads: the stored entries are removed with $pullAll, which needs them exactly as stored.
    const doc = await model.collection.findOne({ _id: id as never }, { projection: { [OUTBOX_FIELD]: 1 } });
    const pending = (doc?.[OUTBOX_FIELD] ?? []) as CloudEvent[];
    if (pending.length === 0) return;
    await this.publisher.publish(pending);
    // $pullAll, not $pull with a condition: FerretDB v1 ignores conditional $pull silently.
    await this.writing(model, id, () => model.collection.updateOne({ _id: id as never }, { $pullAll: { [OUTBOX_FIELD]: pending } } as never));
  }

  /** Publishes the events of these documents in one request, then removes exactly those from each. */
  private async publishBatch(model: AnyModel, free: Array<{ _id: unknown; [OUTBOX_FIELD]: CloudEvent[] }>): Promise<void> {
    await this.publisher.publish(free.flatMap((doc) => doc[OUTBOX_FIELD]));
    // FerretDB v1 holds one pooled SQLite connection (100 per database) per statement of an
    // `update` command until the command ends: 100 statements in one command hang that database.
    const serializer = this.serializerOf(model);
    for (let i = 0; i < free.length; i += UPDATES_PER_COMMAND) {
      const chunk = free.slice(i, i + UPDATES_PER_COMMAND);
      // Holds the chunk's documents against the service's writes (see `writing`) for one command.
      await serializer.runAll(
        chunk.map((doc) => String(doc._id)),
        () =>
          model.collection.bulkWrite(
            chunk.map((doc) => ({ updateOne: { filter: { _id: doc._id as never }, update: { $pullAll: { [OUTBOX_FIELD]: doc[OUTBOX_FIELD] } } as never } })),
            { ordered: false },
          ),
      );
    }
  }

  /**
   * `updateMany` for documents the relay may be removing events from (e.g. an erasure rewriting a
   * person's records): one document at a time through `writing`, each update still limited by
   * `filter`. Returns how many documents changed.
   */
  async updateMatching(model: AnyModel, filter: Record<string, unknown>, update: Record<string, unknown>): Promise<number> {
    const matching = await model.collection.find(filter as never, { projection: { _id: 1 } }).toArray();
    let changed = 0;
    for (const { _id } of matching) {
      changed += (await this.writing(model, _id, () => model.collection.updateOne({ ...filter, _id } as never, update as never))).modifiedCount;
    }
    return changed;
  }

  /** Documents per registered aggregate that still hold unpublished events (for `crm_outbox_backlog`). */
  async backlog(): Promise<Array<{ aggregate: string; pending: number }>> {
    return Promise.all(
      [...this.models.entries()].map(async ([aggregate, model]) => ({
        aggregate,
        pending: await model.collection.countDocuments({ [`${OUTBOX_FIELD}.0`]: { $exists: true } }),
      })),
    );
  }

  /**
   * Publishes everything pending in every registered collection (returns how many documents it
   * published; those notify() was publishing are left to it and not counted), a batch of documents per Kafka
   * request (a bulk import leaves thousands), then removes exactly what was published from each.
   */
  async drain({ leftOversOnly = false }: { leftOversOnly?: boolean } = {}): Promise<number> {
    let documents = 0;
    // Events appended since this instant are notify()'s to publish (see `leftOverAfterMs`).
    const youngFrom = leftOversOnly ? Date.now() - this.leftOverAfterMs : Infinity;
    for (const model of this.models.values()) {
      for (;;) {
        if (this.interrupted) return documents;
        const scanned = (await model.collection
          .find({ [`${OUTBOX_FIELD}.0`]: { $exists: true } }, { projection: { [OUTBOX_FIELD]: 1 } })
          .limit(this.scanSize)
          .toArray()) as Array<{ _id: unknown; [OUTBOX_FIELD]: CloudEvent[] }>;
        if (scanned.length === 0) break;
        let publishedFromScan = 0;
        for (let start = 0; start < scanned.length; start += this.batchSize) {
          if (this.interrupted) return documents;
          const batch = scanned.slice(start, start + this.batchSize);
          // Documents being published by notify() right now are left to it (keeps per-aggregate order).
          const free = batch.filter(
            (doc) => !this.inFlight.has(`${model.collection.collectionName}:${String(doc._id)}`) && oldestEventTime(doc[OUTBOX_FIELD]) < youngFrom,
          );
          publishedFromScan += free.length;
          if (free.length > 0) await this.publishBatch(model, free);
          await Promise.allSettled(this.inFlight.values());
          // Only what the poll published counts as found: under steady writes every poll sees events
          // that notify() is publishing, and counting those kept the poller at its shortest interval,
          // scanning every collection each second (600 orders in, a scan of the orders took 0.5 s on
          // FerretDB and order placement fell from 8 to 2.6 orders/s).
          documents += free.length;
        }
        // A full scan of documents all left to notify(): scanning again would find the same ones.
        if (scanned.length < this.scanSize || publishedFromScan === 0) break;
      }
    }
    return documents;
  }

  /**
   * Puts a step between the stored events and Kafka (e.g. sealing personal fields). The step must not
   * change the events it is given: the relay removes exactly what it stored. Call before `start`.
   */
  wrapPublisher(wrap: (publisher: EventPublisher) => EventPublisher): void {
    this.publisher = wrap(this.publisher);
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.pollRunning = true;
      const leftOversOnly = !this.nextPollTakesAll;
      this.nextPollTakesAll = false;
      this.polling = this.drain({ leftOversOnly })
        .then((count) => {
          if (count > 0) this.options.logger.info({ documents: count }, 'outbox poller published left-over events');
          this.nextPollMs = count > 0 ? this.pollIntervalMs : Math.min(this.maxPollIntervalMs, this.nextPollMs * 2);
        })
        .catch((error: unknown) => {
          this.options.logger.warn({ err: error }, 'outbox poll failed');
          this.nextPollMs = this.pollIntervalMs;
        })
        .finally(() => {
          this.pollRunning = false;
          if (this.timer) this.timer = setTimeout(tick, this.nextPollMs);
        });
    };
    this.tick = tick;
    this.nextPollMs = this.pollIntervalMs;
    // Whatever waits from before this start (a crash, a pause) is published at once.
    this.nextPollTakesAll = true;
    this.timer = setTimeout(tick, 0);
  }

  private tick: (() => void) | undefined;
  private pollRunning = false;

  /**
   * Brings the next poll forward to `pollIntervalMs` from now: after a failed publication, or after a
   * bulk write that leaves its events to the poller (one Kafka request per batch, not per document).
   */
  pollSoon(): void {
    this.nextPollMs = this.pollIntervalMs;
    this.nextPollTakesAll = true;
    // During a poll its end schedules with the new interval; between polls the timer is re-armed.
    if (!this.timer || !this.tick || this.pollRunning) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(this.tick, this.pollIntervalMs);
  }

  /**
   * Stops polling and, unless `flush` is false, drains once more after the publications under way.
   * Without a flush the poll under way ends after its current batch (a pause: what is pending stays
   * in the documents for the next `start`).
   */
  async stop({ flush = true }: { flush?: boolean } = {}): Promise<void> {
    const timer = this.timer;
    this.timer = undefined;
    if (timer) clearTimeout(timer);
    if (!flush) this.interrupted = true;
    try {
      await this.polling;
    } finally {
      this.interrupted = false;
    }
    await Promise.allSettled(this.inFlight.values());
    if (flush) await this.drain().catch((error: unknown) => this.options.logger.warn({ err: error }, 'outbox flush on stop failed'));
  }
}
