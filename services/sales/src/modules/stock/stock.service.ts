import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { z } from 'zod';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems, type FieldProblem } from '@crm/errors';
import { OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { findByIds, paginate, PerKeySerializer, type Page, type PageArgs } from '@crm/mongo';
import type { ProductModel } from '../product/product.model.js';
import { stockMoved } from './stock.events.js';
import { StockException } from './stock.errors.js';
import type {
  OrderStockEntry,
  StockLevelModel,
  StockLevelRecord,
  StockMovementKind,
  StockMovementModel,
  StockMovementRecord,
} from './stock.model.js';

/** Every staff role reads stock (as the catalogue); admins pass every check. */
const STAFF = [Role.SALES_MANAGER, Role.SALES_REP, Role.SERVICE_AGENT, Role.MARKETER, Role.ANALYST] as const;
/** Who receives, adjusts and takes back stock by hand. */
const STOCK_KEEPERS = [Role.SALES_MANAGER] as const;

const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** Largest quantity of one movement, and largest level (GraphQL `Int` is 32-bit). */
export const MAX_QUANTITY = 1_000_000_000;
export const MAX_LEVEL = 2_000_000_000;
/** Finished (released or shipped) order entries kept per stock level for idempotency; open ones are all kept. */
export const FINISHED_ORDERS_KEPT = 500;
/** Conditional-update attempts before giving up (other replicas writing the same level). */
const MAX_ATTEMPTS = 25;
const DUPLICATE_KEY = 11000;

/** One line of an order as the orders module reserves it. */
export interface OrderStockLine {
  productId: string;
  quantity: number;
}

/** A product's stock as GraphQL shows it. */
export interface StockLevelView {
  productId: Types.ObjectId;
  onHand: number;
  reserved: number;
  available: number;
  updatedAt: Date | null;
}

const quantity = z.number().int('A whole number').positive('Must be positive').max(MAX_QUANTITY, `At most ${MAX_QUANTITY}`);
const productId = z.string().regex(OBJECT_ID, 'Not a product id');
const reason = z
  .string()
  .trim()
  .max(500, 'At most 500 characters')
  .nullish()
  .transform((value) => (value ? value : null));
const orderId = z.string().trim().min(1, 'Required').max(100, 'At most 100 characters');

export const receiveStockInput = z.object({ productId, quantity, reason });
export const returnStockInput = z.object({
  productId,
  quantity,
  reason,
  orderId: orderId.nullish().transform((value) => value ?? null),
});
export const adjustStockInput = z.object({
  productId,
  delta: z
    .number()
    .int('A whole number')
    .refine((value) => value !== 0, 'Must not be 0')
    .refine((value) => Math.abs(value) <= MAX_QUANTITY, `At most ${MAX_QUANTITY} either way`),
  reason: z.string().trim().min(1, 'Say why the stock is adjusted').max(500, 'At most 500 characters'),
});
const orderLinesInput = z.object({
  orderId,
  lines: z.array(z.object({ productId, quantity })).min(1, 'At least one line').max(200, 'At most 200 lines'),
});

export type ReceiveStockInput = z.input<typeof receiveStockInput>;
export type ReturnStockInput = z.input<typeof returnStockInput>;
export type AdjustStockInput = z.input<typeof adjustStockInput>;

/** What a movement does to a level; `null` from a plan means "already done, change nothing". */
interface Change {
  kind: StockMovementKind;
  quantity: number;
  onHandDelta: number;
  reservedDelta: number;
  reason: string | null;
  orderId: string | null;
  /** The level's new order entries, when the movement belongs to an order. */
  orders?: OrderStockEntry[];
  /** Field names reported when the movement would go below zero. */
  fields?: FieldProblem[];
}

function invalid(issues: z.core.$ZodIssue[], prefix = 'input'): never {
  throw new StockException('STOCK_INVALID_INPUT', 'Invalid stock movement', fieldProblems(issues, prefix));
}

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

/** A movement's id from (product, seq): copying a pending movement twice stores it once. */
function movementId(product: Types.ObjectId, seq: number): Types.ObjectId {
  return new Types.ObjectId(createHash('sha256').update(`${product.toHexString()}:${seq}`).digest('hex').slice(0, 24));
}

/** How long a reservation may wait for its order to be stored before it counts as orphaned. */
const ORPHAN_GRACE_MS = 10 * 60_000;
/** Who moves stock when the service itself does (releasing orphaned reservations). */
const SYSTEM_USER: AuthUser = { id: 'system', username: 'system', name: 'system', roles: [], groups: [] };

/** Keeps every open reservation and the most recent finished entries. */
function bounded(entries: OrderStockEntry[]): OrderStockEntry[] {
  const open = entries.filter((entry) => entry.state === 'RESERVED');
  const finished = entries
    .filter((entry) => entry.state !== 'RESERVED')
    .sort((a, b) => b.at.getTime() - a.at.getTime())
    .slice(0, FINISHED_ORDERS_KEPT);
  return [...open, ...finished];
}

function withEntry(entries: OrderStockEntry[], entry: OrderStockEntry): OrderStockEntry[] {
  return bounded([...entries.filter((e) => e.orderId !== entry.orderId), entry]);
}

/**
 * Stock levels and movements (SAL-1), and the reservation API the orders module calls.
 *
 * Each product's level is one document (the aggregate): every movement is one conditional update
 * on its `seq` that changes the levels, appends the movement (copied into `stock_movements` right
 * after, idempotently) and appends `stock.moved` to the outbox. Writes to one level run one at a time
 * in this process (`PerKeySerializer`; FerretDB v1 updates are not atomic) and the `seq` condition keeps
 * several replicas on MongoDB correct. Per-order idempotency lives in the level's `orders` entries.
 */
export class StockService {
  /** Writes to one stock level, by product id; also given to the outbox relay (see app.ts). */
  readonly serial = new PerKeySerializer();
  private readonly orderSerial = new PerKeySerializer();

  constructor(
    private readonly levels: StockLevelModel,
    private readonly movementLog: StockMovementModel,
    private readonly products: ProductModel,
    private readonly relay: OutboxRelay,
  ) {}

  // ---- GraphQL --------------------------------------------------------------------------------

  /** A product's stock (zero when nothing ever moved). */
  async levelOf(product: Types.ObjectId, user: AuthUser): Promise<StockLevelView> {
    requireRole(user, STAFF);
    const level = await this.levels.findById(product, { onHand: 1, reserved: 1, updatedAt: 1 }).lean<StockLevelRecord>().exec();
    return view(product, level);
  }

  async receive(input: ReceiveStockInput, user: AuthUser): Promise<StockLevelView> {
    requireRole(user, STOCK_KEEPERS);
    const parsed = receiveStockInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const { productId: id, quantity: qty, reason: why } = parsed.data;
    const product = await this.existing(id, 'input.productId');
    return this.move(product, user, () => ({ kind: 'RECEIVED', quantity: qty, onHandDelta: qty, reservedDelta: 0, reason: why, orderId: null, fields: [{ field: 'input.quantity', message: 'Too much stock' }] }));
  }

  async adjust(input: AdjustStockInput, user: AuthUser): Promise<StockLevelView> {
    requireRole(user, STOCK_KEEPERS);
    const parsed = adjustStockInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const { productId: id, delta, reason: why } = parsed.data;
    const product = await this.existing(id, 'input.productId');
    return this.move(product, user, () => ({
      kind: 'ADJUSTED',
      quantity: Math.abs(delta),
      onHandDelta: delta,
      reservedDelta: 0,
      reason: why,
      orderId: null,
      fields: [{ field: 'input.delta', message: 'On hand would fall below what is reserved or below zero' }],
    }));
  }

  /**
   * Goods back from a customer. With `orderId`, the order must have shipped that product, and at most
   * what it shipped comes back in total.
   */
  async returnStock(input: ReturnStockInput, user: AuthUser): Promise<StockLevelView> {
    requireRole(user, STOCK_KEEPERS);
    const parsed = returnStockInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const { productId: id, quantity: qty, reason: why, orderId: order } = parsed.data;
    const product = await this.existing(id, 'input.productId');
    return this.move(product, user, (level) => {
      const change: Change = { kind: 'RETURNED', quantity: qty, onHandDelta: qty, reservedDelta: 0, reason: why, orderId: order, fields: [{ field: 'input.quantity', message: 'Too much stock' }] };
      if (!order) return change;
      const entry = level.orders.find((e) => e.orderId === order);
      if (!entry || entry.state !== 'SHIPPED') {
        throw new StockException('STOCK_INVALID_INPUT', `Order ${order} shipped none of this product`, [{ field: 'input.orderId', message: 'This order shipped none of this product' }]);
      }
      const returned = entry.returned ?? 0;
      if (returned + qty > entry.quantity) {
        throw new StockException('STOCK_INVALID_INPUT', `Order ${order} shipped ${entry.quantity}, ${returned} already returned`, [
          { field: 'input.quantity', message: `At most ${entry.quantity - returned} more of this order can come back` },
        ]);
      }
      return { ...change, orders: withEntry(level.orders, { ...entry, returned: returned + qty }) };
    });
  }

  /** A product's movements, newest first. */
  async movements(id: string, args: PageArgs, user: AuthUser): Promise<Page<StockMovementRecord>> {
    requireRole(user, STAFF);
    if (!OBJECT_ID.test(id)) throw new StockException('STOCK_INVALID_INPUT', 'Invalid product id', [{ field: 'productId', message: 'Not a product id' }]);
    const product = new Types.ObjectId(id);
    // Movements written but not yet copied (a crash right after a write) are copied first.
    await this.serial.run(product.toHexString(), () => this.copyMovements(product));
    return paginate(this.movementLog, { productId: product }, args, { sort: { field: 'seq', direction: -1 } });
  }

  // ---- The orders module's API ------------------------------------------------------------------

  /**
   * Reserves every line for the order, or none: when one line lacks stock, what this order reserved
   * is given back and STOCK_INSUFFICIENT (CONFLICT) names each short line (`lines.<i>.quantity`).
   * Idempotent per order: a product the order already holds (or shipped) is left as it is. Lines of
   * one product are added up. The orders module authorises the caller; `user` is recorded as who.
   */
  async reserveForOrder(orderId: string, lines: OrderStockLine[], user: AuthUser): Promise<void> {
    const parsed = orderLinesInput.safeParse({ orderId, lines });
    if (!parsed.success) invalid(parsed.error.issues, '');
    const order = parsed.data.orderId;
    // Lines of one product become one reservation; `indexes` names the lines for errors.
    const wanted = new Map<string, { product: Types.ObjectId; quantity: number; indexes: number[] }>();
    parsed.data.lines.forEach((line, index) => {
      const key = line.productId.toLowerCase();
      const entry = wanted.get(key) ?? { product: new Types.ObjectId(key), quantity: 0, indexes: [] };
      entry.quantity += line.quantity;
      entry.indexes.push(index);
      wanted.set(key, entry);
    });
    const tooMuch = [...wanted.values()].filter((line) => line.quantity > MAX_QUANTITY);
    if (tooMuch.length > 0) {
      throw new StockException('STOCK_INVALID_INPUT', 'Invalid order lines', tooMuch.flatMap((line) => line.indexes.map((i) => ({ field: `lines.${i}.quantity`, message: `At most ${MAX_QUANTITY} of one product` }))));
    }
    const found = await findByIds<{ _id: Types.ObjectId }>(this.products, [...wanted.values()].map((line) => line.product), { _id: 1 });
    const known = new Set(found.map((doc) => String(doc._id)));
    const unknown = [...wanted.entries()].filter(([key]) => !known.has(key));
    if (unknown.length > 0) {
      throw new StockException('STOCK_PRODUCT_NOT_FOUND', 'Unknown products', unknown.flatMap(([, line]) => line.indexes.map((i) => ({ field: `lines.${i}.productId`, message: 'No such product' }))));
    }

    await this.orderSerial.run(order, async () => {
      // Report every short line at once when the stock is plainly not there (nothing written yet).
      const current = await findByIds<StockLevelRecord>(this.levels, [...wanted.values()].map((line) => line.product), { onHand: 1, reserved: 1, orders: 1 });
      const byId = new Map(current.map((level) => [level._id.toHexString(), level]));
      const short = [...wanted.entries()].filter(([key, line]) => {
        const level = byId.get(key);
        const held = level?.orders?.find((e) => e.orderId === order && e.state !== 'RELEASED');
        return !held && (level ? level.onHand - level.reserved : 0) < line.quantity;
      });
      if (short.length > 0) throw insufficient(order, short.map(([key, line]) => ({ line, available: availableOf(byId.get(key)) })));

      const touched: Types.ObjectId[] = [];
      try {
        for (const line of wanted.values()) {
          touched.push(line.product);
          await this.move(line.product, user, (level) => {
            const held = level.orders.find((e) => e.orderId === order);
            if (held && held.state !== 'RELEASED') return null;
            if (level.onHand - level.reserved < line.quantity) throw insufficient(order, [{ line, available: level.onHand - level.reserved }]);
            return {
              kind: 'RESERVED',
              quantity: line.quantity,
              onHandDelta: 0,
              reservedDelta: line.quantity,
              reason: null,
              orderId: order,
              orders: withEntry(level.orders, { orderId: order, quantity: line.quantity, state: 'RESERVED', at: new Date() }),
            };
          });
        }
      } catch (error) {
        // All or none: give back what this order holds of the products tried so far.
        for (const product of touched) await this.releaseOn(product, order, user, 'Reservation of the order failed');
        throw error;
      }
    });
  }

  /** Gives back what the order reserved and has not shipped (nothing if it reserved nothing). Idempotent. */
  async releaseForOrder(orderId: string, user: AuthUser): Promise<void> {
    const order = this.orderIdOf(orderId);
    await this.orderSerial.run(order, async () => {
      for (const product of await this.levelsOfOrder(order)) await this.releaseOn(product, order, user, null);
    });
  }

  /**
   * Ships what the order reserved: on hand and reserved both go down by it. Idempotent (shipped
   * products are left as they are); STOCK_NOT_RESERVED (CONFLICT) when the order neither holds nor
   * shipped anything.
   */
  async shipForOrder(orderId: string, user: AuthUser): Promise<void> {
    const order = this.orderIdOf(orderId);
    await this.orderSerial.run(order, async () => {
      const products = await this.levelsOfOrder(order, ['RESERVED', 'SHIPPED']);
      if (products.length === 0) throw new StockException('STOCK_NOT_RESERVED', `Order ${order} has no stock reserved`);
      for (const product of products) {
        await this.move(product, user, (level) => {
          const held = level.orders.find((e) => e.orderId === order);
          if (!held || held.state !== 'RESERVED') return null;
          return {
            kind: 'SHIPPED',
            quantity: held.quantity,
            onHandDelta: -held.quantity,
            reservedDelta: -held.quantity,
            reason: null,
            orderId: order,
            orders: withEntry(level.orders, { ...held, state: 'SHIPPED', at: new Date() }),
          };
        });
      }
    });
  }

  /**
   * Gives back reservations held for orders that were never stored. An order reserves under its new
   * id before it is inserted (so a shortfall writes nothing), and a crash between the two would hold
   * the stock for ever. Entries RESERVED longer than `graceMs` whose order `existing` does not know
   * are released by the system, with a reason on the movement. Idempotent; returns how many.
   */
  async releaseOrphanedReservations(now: Date, existing: (orderIds: string[]) => Promise<Set<string>>, graceMs = ORPHAN_GRACE_MS): Promise<number> {
    // One document per product, so a scan of the levels (their order entries only).
    const levels = await this.levels.find({ 'orders.state': 'RESERVED' }, { orders: 1 }).lean<StockLevelRecord[]>().exec();
    const held = levels.flatMap((level) =>
      level.orders.filter((e) => e.state === 'RESERVED' && now.getTime() - new Date(e.at).getTime() > graceMs).map((e) => ({ product: level._id, order: e.orderId })),
    );
    if (held.length === 0) return 0;
    const stored = await existing([...new Set(held.map((h) => h.order))]);
    let released = 0;
    for (const { product, order } of held.filter((h) => !stored.has(h.order))) {
      await this.orderSerial.run(order, () => this.releaseOn(product, order, SYSTEM_USER, 'No order was stored for this reservation'));
      released += 1;
    }
    return released;
  }

  // ---- Internals --------------------------------------------------------------------------------

  private orderIdOf(value: string): string {
    const parsed = orderId.safeParse(value);
    if (!parsed.success) invalid(parsed.error.issues, 'orderId');
    return parsed.data;
  }

  /** The products whose levels hold an entry of this order (in one of `states`). */
  private async levelsOfOrder(order: string, states: OrderStockEntry['state'][] = ['RESERVED']): Promise<Types.ObjectId[]> {
    const levels = await this.levels.find({ 'orders.orderId': order }, { orders: 1 }).lean<StockLevelRecord[]>().exec();
    return levels.filter((level) => level.orders.some((e) => e.orderId === order && states.includes(e.state))).map((level) => level._id);
  }

  private async releaseOn(product: Types.ObjectId, order: string, user: AuthUser, why: string | null): Promise<void> {
    await this.move(product, user, (level) => {
      const held = level.orders.find((e) => e.orderId === order);
      if (!held || held.state !== 'RESERVED') return null;
      return {
        kind: 'RELEASED',
        quantity: held.quantity,
        onHandDelta: 0,
        reservedDelta: -held.quantity,
        reason: why,
        orderId: order,
        orders: withEntry(level.orders, { ...held, state: 'RELEASED', at: new Date() }),
      };
    });
  }

  private async existing(id: string, field: string): Promise<Types.ObjectId> {
    const product = new Types.ObjectId(id);
    if (!(await this.products.exists({ _id: product }))) throw new StockException('STOCK_PRODUCT_NOT_FOUND', `No product ${id}`, [{ field, message: 'No such product' }]);
    return product;
  }

  /**
   * Applies one movement to a product's level: the levels, the order entries, the movement and its
   * event in one conditional update (or the first insert), retried on a concurrent change. A plan that
   * returns null changes nothing; one that would make on hand, reserved or available negative is
   * refused with STOCK_INSUFFICIENT and changes nothing.
   */
  private move(product: Types.ObjectId, user: AuthUser, plan: (level: StockLevelRecord) => Change | null): Promise<StockLevelView> {
    return this.serial.run(product.toHexString(), async () => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
        const stored = await this.levels.collection.findOne({ _id: product }, { projection: { [OUTBOX_FIELD]: 0, pendingMovements: 0 } });
        const now = new Date();
        const level: StockLevelRecord = stored
          ? { ...(stored as unknown as StockLevelRecord), orders: ((stored.orders ?? []) as OrderStockEntry[]).map((e) => ({ ...e, at: new Date(e.at) })) }
          : { _id: product, onHand: 0, reserved: 0, seq: 0, orders: [], pendingMovements: [], createdAt: now, updatedAt: now };
        const change = plan(level);
        if (!change) return view(product, level);
        const onHand = level.onHand + change.onHandDelta;
        const reserved = level.reserved + change.reservedDelta;
        if (onHand < 0 || reserved < 0 || onHand < reserved) {
          throw new StockException('STOCK_INSUFFICIENT', `Not enough stock: ${level.onHand} on hand, ${level.reserved} reserved`, change.fields ?? []);
        }
        if (onHand > MAX_LEVEL) throw new StockException('STOCK_INVALID_INPUT', `At most ${MAX_LEVEL} on hand`, change.fields ?? []);
        const seq = level.seq + 1;
        const movement: StockMovementRecord = {
          _id: movementId(product, seq),
          productId: product,
          seq,
          kind: change.kind,
          quantity: change.quantity,
          onHandDelta: change.onHandDelta,
          reservedDelta: change.reservedDelta,
          onHand,
          reserved,
          reason: change.reason,
          orderId: change.orderId,
          by: user.id,
          byName: user.name ?? user.username,
          at: now,
        };
        const state = { onHand, reserved, seq, updatedAt: now, ...(change.orders ? { orders: change.orders } : {}) };
        let written: boolean;
        if (!stored) {
          try {
            await this.levels.collection.insertOne({ ...state, _id: product, orders: change.orders ?? [], createdAt: now, pendingMovements: [movement], [OUTBOX_FIELD]: [stockMoved(movement)] } as never);
            written = true;
          } catch (error) {
            if (!isDuplicateKey(error)) throw error;
            written = false;
          }
        } else {
          const result = await this.levels.collection.updateOne(
            { _id: product, seq: level.seq } as never,
            { $set: state, $push: { pendingMovements: movement, [OUTBOX_FIELD]: stockMoved(movement) } } as never,
          );
          written = result.matchedCount === 1;
        }
        if (written) {
          await this.copyMovements(product);
          // The relay removes published events through `serial` too (registered in app.ts): on FerretDB
          // v1 its update must not overlap the next movement's. So: notify, never await it in here.
          this.relay.notify(this.levels, product);
          return { productId: product, onHand, reserved, available: onHand - reserved, updatedAt: now };
        }
      }
      throw new StockException('STOCK_BUSY', 'The stock of this product is changing too often; retry');
    });
  }

  /** Copies the level's pending movements into `stock_movements` (ids make it idempotent), then drops them from the level. */
  private async copyMovements(product: Types.ObjectId): Promise<void> {
    const stored = await this.levels.collection.findOne({ _id: product }, { projection: { pendingMovements: 1 } });
    const pending = (stored?.pendingMovements ?? []) as StockMovementRecord[];
    if (pending.length === 0) return;
    try {
      await this.movementLog.collection.insertMany(pending as never[], { ordered: false });
    } catch (error) {
      const writeErrors = (error as { writeErrors?: Array<{ code?: number }> }).writeErrors;
      const onlyDuplicates = isDuplicateKey(error) || (Array.isArray(writeErrors) && writeErrors.every((e) => e.code === DUPLICATE_KEY));
      if (!onlyDuplicates) throw error;
    }
    await this.levels.collection.updateOne({ _id: product }, { $pullAll: { pendingMovements: pending } } as never);
  }
}

function view(product: Types.ObjectId, level: Pick<StockLevelRecord, 'onHand' | 'reserved' | 'updatedAt'> | null): StockLevelView {
  const onHand = level?.onHand ?? 0;
  const reserved = level?.reserved ?? 0;
  return { productId: product, onHand, reserved, available: onHand - reserved, updatedAt: level?.updatedAt ?? null };
}

function availableOf(level: Pick<StockLevelRecord, 'onHand' | 'reserved'> | undefined): number {
  return level ? level.onHand - level.reserved : 0;
}

function insufficient(order: string, lines: Array<{ line: { product: Types.ObjectId; quantity: number; indexes: number[] }; available: number }>) {
  return new StockException(
    'STOCK_INSUFFICIENT',
    `Not enough stock for order ${order}`,
    lines.flatMap(({ line, available }) => line.indexes.map((i) => ({ field: `lines.${i}.quantity`, message: `${line.quantity} wanted, ${Math.max(available, 0)} available` }))),
  );
}
