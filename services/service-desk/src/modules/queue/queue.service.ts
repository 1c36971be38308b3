import { Types } from 'mongoose';
import { z } from 'zod';
import { hasAnyRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { PerKeySerializer } from '@crm/mongo';
import { QueueException } from './queue.errors.js';
import { QUEUE_TICKET_TYPES, type QueueModel, type QueueRecord, type QueueSlotModel } from './queue.model.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** Keycloak user ids are UUIDs. */
export const USER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DUPLICATE_KEY = 11000;
/** Slots tried one after the other before jumping past the highest slot claimed so far. */
const SLOT_STEPS = 5;
const MAX_SLOT_ATTEMPTS = 20;

/** Who manages queues; who may read them. */
const MANAGERS = [Role.SERVICE_MANAGER] as const;
const READERS = [Role.SERVICE_AGENT, Role.SERVICE_MANAGER, Role.ANALYST] as const;

const text = (max: number) => z.string().trim().min(1, 'Required').max(max, `At most ${max} characters`);
const members = z
  .array(z.string().trim().toLowerCase().regex(USER_ID, 'Not a Keycloak user id'))
  .max(100, 'At most 100 members')
  .refine((list) => new Set(list).size === list.length, 'Each member once');
const productIds = z
  .array(z.string().regex(OBJECT_ID, 'Not a product id').transform((v) => v.toLowerCase()))
  .max(100, 'At most 100 products');
const ticketTypes = z.array(z.enum(QUEUE_TICKET_TYPES)).max(QUEUE_TICKET_TYPES.length);

export const createQueueInput = z.object({
  name: text(100),
  skillGroup: text(100),
  members: members.nullish().transform((v) => v ?? []),
  ticketTypes: ticketTypes.nullish().transform((v) => [...new Set(v ?? [])]),
  productIds: productIds.nullish().transform((v) => [...new Set(v ?? [])]),
});
export type CreateQueueInput = z.input<typeof createQueueInput>;

export const updateQueueInput = z.object({
  name: text(100).nullish(),
  skillGroup: text(100).nullish(),
  members: members.nullish(),
  ticketTypes: ticketTypes.nullish(),
  productIds: productIds.nullish(),
  active: z.boolean().nullish(),
});
export type UpdateQueueInput = z.input<typeof updateQueueInput>;

/** What the routing rule looks at. */
export interface RoutableTicket {
  type: string;
  productId: string | null;
}

/** How well a queue's rule matches a ticket: 3 product and type, 2 product, 1 type, 0 no match. */
export function routingScore(queue: Pick<QueueRecord, 'ticketTypes' | 'productIds' | 'active'>, ticket: RoutableTicket): number {
  if (!queue.active) return 0;
  const byType = queue.ticketTypes.length > 0;
  const byProduct = queue.productIds.length > 0;
  if (!byType && !byProduct) return 0;
  if (byType && !queue.ticketTypes.includes(ticket.type as never)) return 0;
  if (byProduct && (!ticket.productId || !queue.productIds.includes(ticket.productId))) return 0;
  return (byProduct ? 2 : 0) + (byType ? 1 : 0);
}

/** Queues (skill groups), their members, the routing rule and round-robin dispatch. */
export class QueueService {
  /** One write at a time per queue in this process (round-robin pointer, edits). */
  readonly serial = new PerKeySerializer();

  constructor(
    private readonly queues: QueueModel,
    private readonly slots: QueueSlotModel,
  ) {}

  private requireReader(user: AuthUser): void {
    if (!hasAnyRole(user, READERS)) throw new QueueException('QUEUE_FORBIDDEN', 'Only service staff and analysts read queues');
  }

  async list(user: AuthUser): Promise<QueueRecord[]> {
    this.requireReader(user);
    return this.queues.find({}).sort({ createdAt: 1, _id: 1 }).lean<QueueRecord[]>().exec();
  }

  async get(id: string, user: AuthUser): Promise<QueueRecord | null> {
    this.requireReader(user);
    return this.byId(id);
  }

  /** A queue by id without access checks (for the ticket module, which checks its own access). */
  async byId(id: string): Promise<QueueRecord | null> {
    if (!OBJECT_ID.test(id)) return null;
    return this.queues.findById(id.toLowerCase()).lean<QueueRecord>().exec();
  }

  async mine(user: AuthUser): Promise<QueueRecord[]> {
    this.requireReader(user);
    return this.queues.find({ members: user.id }).sort({ createdAt: 1, _id: 1 }).lean<QueueRecord[]>().exec();
  }

  /** Ids of the queues a user is a member of (ticket visibility of agents). */
  async queueIdsOf(userId: string): Promise<string[]> {
    const found = await this.queues.find({ members: userId }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec();
    return found.map((q) => q._id.toHexString());
  }

  async create(input: CreateQueueInput, user: AuthUser): Promise<QueueRecord> {
    if (!hasAnyRole(user, MANAGERS)) throw new QueueException('QUEUE_FORBIDDEN', 'Only service managers and admins manage queues');
    const parsed = createQueueInput.safeParse(input);
    if (!parsed.success) throw new QueueException('QUEUE_INVALID_INPUT', 'Invalid queue', fieldProblems(parsed.error.issues));
    await this.requireFreeName(parsed.data.name, null);
    const now = new Date();
    const record: QueueRecord = { _id: new Types.ObjectId(), ...parsed.data, active: true, nextSlot: 0, createdBy: user.id, version: 1, createdAt: now, updatedAt: now };
    await this.queues.collection.insertOne(record as never);
    return record;
  }

  async update(id: string, input: UpdateQueueInput, user: AuthUser, expectedVersion?: number | null): Promise<QueueRecord> {
    if (!hasAnyRole(user, MANAGERS)) throw new QueueException('QUEUE_FORBIDDEN', 'Only service managers and admins manage queues');
    const parsed = updateQueueInput.safeParse(input);
    if (!parsed.success) throw new QueueException('QUEUE_INVALID_INPUT', 'Invalid queue', fieldProblems(parsed.error.issues));
    const changes: Partial<QueueRecord> = {};
    for (const [key, value] of Object.entries(parsed.data)) if (value !== null && value !== undefined) (changes as Record<string, unknown>)[key] = value;
    if (changes.ticketTypes) changes.ticketTypes = [...new Set(changes.ticketTypes)];
    if (changes.productIds) changes.productIds = [...new Set(changes.productIds)];
    return this.serial.run(id.toLowerCase(), async () => {
      const current = await this.byId(id);
      if (!current) throw new QueueException('QUEUE_NOT_FOUND', `No queue ${id}`);
      if (expectedVersion != null && expectedVersion !== current.version) throw new QueueException('QUEUE_VERSION_CONFLICT', `Expected version ${expectedVersion}, found ${current.version}`);
      if (changes.name) await this.requireFreeName(changes.name, current._id);
      const next: QueueRecord = { ...current, ...changes, version: current.version + 1, updatedAt: new Date() };
      const result = await this.queues.updateOne({ _id: current._id, version: current.version }, { $set: { ...changes, version: next.version, updatedAt: next.updatedAt } }).exec();
      if (result.matchedCount !== 1) throw new QueueException('QUEUE_VERSION_CONFLICT', 'The queue was changed meanwhile; reload and retry');
      return next;
    });
  }

  private async requireFreeName(name: string, except: Types.ObjectId | null): Promise<void> {
    const same = await this.queues.findOne({ name }, { _id: 1 }).lean<{ _id: Types.ObjectId }>().exec();
    if (same && (!except || !same._id.equals(except))) throw new QueueException('QUEUE_NAME_TAKEN', `A queue named ${name} exists`, [{ field: 'input.name', message: 'Taken' }]);
  }

  /** The queue the routing rule picks for a new ticket, or null (no rule matches). */
  async route(ticket: RoutableTicket): Promise<QueueRecord | null> {
    const all = await this.queues.find({ active: true }).sort({ createdAt: 1, _id: 1 }).lean<QueueRecord[]>().exec();
    let best: QueueRecord | null = null;
    let bestScore = 0;
    for (const queue of all) {
      const score = routingScore(queue, ticket);
      if (score > bestScore) [best, bestScore] = [queue, score];
    }
    return best;
  }

  /**
   * The next agent of the queue in round-robin order for `ticketId`, or null when the queue has no
   * members (or is inactive). In this process the pointer is serialised per queue, so concurrent
   * tickets get consecutive slots. Across replicas each slot is claimed by inserting
   * `queue_slots/<queueId>:<slot>`: the `_id` is unique on MongoDB and FerretDB alike, so two replicas
   * never hand out the same slot; the loser moves to the next slot (and the next member).
   */
  nextAgent(queueId: string, ticketId: string): Promise<string | null> {
    return this.serial.run(queueId.toLowerCase(), async () => {
      const queue = await this.byId(queueId);
      if (!queue || !queue.active || queue.members.length === 0) return null;
      let slot = queue.nextSlot;
      for (let attempt = 0; attempt < MAX_SLOT_ATTEMPTS; attempt += 1) {
        const memberId = queue.members[slot % queue.members.length]!;
        try {
          await this.slots.collection.insertOne({ _id: `${queue._id.toHexString()}:${slot}`, queueId: queue._id.toHexString(), slot, memberId, ticketId, at: new Date() } as never);
        } catch (error) {
          if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
          // Taken by another replica (or the pointer is behind): next slot, or past the highest claimed.
          slot = attempt < SLOT_STEPS ? slot + 1 : (await this.highestSlot(queue._id.toHexString())) + 1;
          continue;
        }
        await this.queues.updateOne({ _id: queue._id, nextSlot: { $lt: slot + 1 } }, { $set: { nextSlot: slot + 1 } }).exec();
        return memberId;
      }
      throw new Error(`Queue ${queueId}: no free round-robin slot after ${MAX_SLOT_ATTEMPTS} attempts`);
    });
  }

  private async highestSlot(queueId: string): Promise<number> {
    const top = await this.slots.findOne({ queueId }).sort({ slot: -1 }).lean<{ slot: number }>().exec();
    return top?.slot ?? -1;
  }
}
