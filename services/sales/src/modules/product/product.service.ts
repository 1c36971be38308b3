import { Types } from 'mongoose';
import { z } from 'zod';
import { hasAnyRole, requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems, type FieldProblem } from '@crm/errors';
import { appendEvents, OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { moneySchema, type Money } from '@crm/money';
import { paginate, PerKeySerializer, type Page, type PageArgs } from '@crm/mongo';
import { productCreated, productUpdated } from './product.events.js';
import { ProductException } from './product.errors.js';
import { PRODUCT_STATUSES, PRODUCT_TRANSITIONS, type ProductModel, type ProductRecord, type ProductStatus } from './product.model.js';

/** Every staff role reads the catalogue (admins pass every check). */
const STAFF = [Role.SALES_MANAGER, Role.SALES_REP, Role.SERVICE_AGENT, Role.MARKETER, Role.ANALYST] as const;
const CREATORS = [Role.SALES_MANAGER] as const;
/** Who sees `cost` (margins); everyone else gets null. */
const COST_VIEWERS = [Role.SALES_MANAGER] as const;

const DUPLICATE_KEY = 11000;
const OBJECT_ID = /^[0-9a-f]{24}$/i;

/** Optional text: trimmed, empty means null. */
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters`)
    .nullish()
    .transform((value) => (value ? value : null));

/** A calendar date YYYY-MM-DD (not in the future) as a Date at 00:00 UTC. */
export const productionDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'A date YYYY-MM-DD')
  .transform((value, ctx) => {
    const date = new Date(`${value}T00:00:00.000Z`);
    if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
      ctx.addIssue({ code: 'custom', message: 'Not a calendar date' });
      return z.NEVER;
    }
    // A day of slack: "today" somewhere east of UTC is still tomorrow here.
    if (date.getTime() > Date.now() + 24 * 3600 * 1000) {
      ctx.addIssue({ code: 'custom', message: 'Must not be in the future' });
      return z.NEVER;
    }
    return date;
  });

const fields = {
  sku: z
    .string()
    .trim()
    .toUpperCase()
    .regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, '2 to 40 of A-Z, 0-9 and -, not starting with -'),
  name: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
  category: optionalText(100),
  placeOfProduction: optionalText(200),
  productionDate: productionDateSchema.nullish().transform((value) => value ?? null),
  processingNotes: optionalText(2000),
  price: moneySchema(),
  cost: moneySchema()
    .nullish()
    .transform((value) => value ?? null),
};

function sameCurrency(input: { price?: Money | null; cost?: Money | null }, ctx: z.RefinementCtx) {
  if (input.cost && input.price && input.cost.currency !== input.price.currency) {
    ctx.addIssue({ code: 'custom', path: ['cost', 'currency'], message: `Must be the currency of the price (${input.price.currency})` });
  }
}

export const createProductInput = z
  .object({ ...fields, status: z.enum(PRODUCT_STATUSES).nullish().transform((value) => value ?? 'ACTIVE') })
  .superRefine(sameCurrency);
export type CreateProductInput = z.input<typeof createProductInput>;
export type ParsedProductInput = z.output<typeof createProductInput>;

/** Every field optional; a given `null` clears the optional ones (name, price and status cannot be null). */
export const updateProductInput = z.object({
  name: fields.name.optional(),
  category: fields.category.optional(),
  placeOfProduction: fields.placeOfProduction.optional(),
  productionDate: fields.productionDate.optional(),
  processingNotes: fields.processingNotes.optional(),
  price: fields.price.optional(),
  cost: fields.cost.optional(),
  status: z.enum(PRODUCT_STATUSES).optional(),
});
/** As GraphQL sends it: any field may be null (refused for name, price and status). */
export type UpdateProductInput = { [K in keyof z.input<typeof updateProductInput>]?: z.input<typeof updateProductInput>[K] | null };

export const productFilterInput = z
  .object({
    status: z.array(z.enum(PRODUCT_STATUSES)).max(3).nullish(),
    category: z.string().trim().min(1, 'Required').max(100).nullish(),
    search: z.string().trim().min(1, 'Nothing to search for').max(100, 'At most 100 characters').nullish(),
  })
  .nullish();
export type ProductFilterInput = z.input<typeof productFilterInput>;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

/** `text` as a literal inside a regular expression. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function invalid(issues: z.core.$ZodIssue[], prefix = 'input'): never {
  throw new ProductException('PRODUCT_INVALID_INPUT', 'Invalid product', fieldProblems(issues, prefix));
}

/** The one facade resolvers (and the product import) call for products. */
export class ProductService {
  /** Writes to one product, by id; also given to the outbox relay (see app.ts). */
  readonly serial = new PerKeySerializer();

  constructor(
    private readonly products: ProductModel,
    private readonly relay: OutboxRelay,
  ) {}

  /** Whether `user` may create and change products. */
  canWrite(user: AuthUser): boolean {
    return hasAnyRole(user, CREATORS);
  }

  async create(input: CreateProductInput, user: AuthUser): Promise<ProductRecord> {
    requireRole(user, CREATORS);
    const parsed = createProductInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const record = this.newRecord(parsed.data, new Types.ObjectId(), new Date());
    // The record and its event are one insert: both are stored or neither is.
    try {
      await this.products.collection.insertOne({ ...record, [OUTBOX_FIELD]: [productCreated(record)] } as never);
    } catch (error) {
      if (isDuplicateKey(error)) {
        throw new ProductException('PRODUCT_SKU_TAKEN', `SKU ${parsed.data.sku} is already taken`, [{ field: 'input.sku', message: 'Already taken' }]);
      }
      throw error;
    }
    this.relay.notify(this.products, record._id);
    return record;
  }

  /** A new product as stored, from validated input. */
  newRecord(data: ParsedProductInput, id: Types.ObjectId, now: Date): ProductRecord {
    return { ...data, _id: id, version: 1, createdAt: now, updatedAt: now };
  }

  /**
   * Bulk create (the product import): validates each row, inserts the valid ones in one unordered
   * insertMany with their events. Ids are the caller's (derived from the SKU), and the SKU is unique, so
   * a SKU already in the catalogue is SKIPPED, never stored twice.
   */
  async createMany(
    rows: Array<{ id: Types.ObjectId; input: CreateProductInput }>,
    user: AuthUser,
  ): Promise<Array<{ id: string; status: 'CREATED' | 'SKIPPED' | 'INVALID'; problems?: FieldProblem[] }>> {
    requireRole(user, CREATORS);
    const now = new Date();
    const results = rows.map(({ id, input }) => {
      const parsed = createProductInput.safeParse(input);
      if (!parsed.success) return { id: id.toHexString(), status: 'INVALID' as const, problems: fieldProblems(parsed.error.issues, '') };
      return { id: id.toHexString(), status: 'CREATED' as const, record: this.newRecord(parsed.data, id, now) };
    });
    const valid = results.filter((r) => r.status === 'CREATED');
    // By position, not id: two rows of one SKU share an id, and only the second is the duplicate.
    const skipped = new Set<(typeof results)[number]>();
    if (valid.length > 0) {
      try {
        await this.products.collection.insertMany(
          valid.map((r) => ({ ...r.record!, [OUTBOX_FIELD]: [productCreated(r.record!)] }) as never),
          { ordered: false },
        );
      } catch (error) {
        const writeErrors = (error as { writeErrors?: Array<{ index: number; code?: number }> }).writeErrors;
        if (!Array.isArray(writeErrors) || writeErrors.some((e) => e.code !== DUPLICATE_KEY)) throw error;
        for (const e of writeErrors) skipped.add(valid[e.index]!);
      }
    }
    // Their events go out with the relay's next poll, brought forward (one Kafka request per batch).
    this.relay.pollSoon();
    return results.map((result) => {
      const { id, status, problems } = result;
      return status === 'CREATED' && skipped.has(result) ? { id, status: 'SKIPPED' as const } : { id, status, ...(problems ? { problems } : {}) };
    });
  }

  async update(id: string, input: UpdateProductInput, user: AuthUser, expectedVersion?: number | null): Promise<ProductRecord> {
    requireRole(user, CREATORS);
    if (!OBJECT_ID.test(id)) throw new ProductException('PRODUCT_NOT_FOUND', `No product ${id}`);
    const parsed = updateProductInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const productId = new Types.ObjectId(id);
    return this.serial.run(productId.toHexString(), async () => {
      const current = await this.products.findById(productId).lean<ProductRecord>().exec();
      if (!current) throw new ProductException('PRODUCT_NOT_FOUND', `No product ${id}`);
      const version = current.version ?? 1;
      if (expectedVersion != null && expectedVersion !== version) {
        throw new ProductException('PRODUCT_VERSION_CONFLICT', `Expected version ${expectedVersion}, found ${version}`, [{ field: 'expectedVersion', message: `The product is at version ${version}; reload it` }]);
      }
      const given = Object.keys(input).filter((key) => key in parsed.data) as Array<keyof typeof parsed.data>;
      const changes: Partial<ProductRecord> = {};
      for (const key of given) {
        const value = parsed.data[key];
        if (value === undefined) continue;
        if (!sameValue(current[key as keyof ProductRecord], value)) (changes as Record<string, unknown>)[key] = value;
      }
      if ('status' in changes && !PRODUCT_TRANSITIONS[current.status].includes(changes.status!)) {
        throw new ProductException('PRODUCT_STATUS_TRANSITION', `A ${current.status} product cannot become ${changes.status}`, [
          { field: 'input.status', message: `From ${current.status} only to ${PRODUCT_TRANSITIONS[current.status].join(' or ')}` },
        ]);
      }
      const merged = { ...current, ...changes };
      if (merged.cost && merged.cost.currency !== merged.price.currency) {
        throw new ProductException('PRODUCT_INVALID_INPUT', 'Invalid product', [
          { field: 'cost' in changes ? 'input.cost.currency' : 'input.price.currency', message: `Price and cost must share one currency (${merged.cost.currency} and ${merged.price.currency})` },
        ]);
      }
      const changed = Object.keys(changes);
      if (changed.length === 0) return current;
      const next: ProductRecord = { ...merged, version: version + 1, updatedAt: new Date() };
      // Conditional on the version read: another replica's change makes this CONFLICT, never a lost update.
      const result = await this.products.collection.updateOne(
        { _id: current._id, version: current.version ?? { $exists: false } } as never,
        { $set: { ...changes, version: next.version, updatedAt: next.updatedAt }, ...appendEvents([productUpdated(next, changed, 'status' in changes ? current.status : null)]) } as never,
      );
      if (result.matchedCount === 0) throw new ProductException('PRODUCT_VERSION_CONFLICT', 'The product was changed meanwhile; reload and retry');
      this.relay.notify(this.products, current._id);
      return next;
    });
  }

  async get(id: string, user: AuthUser): Promise<ProductRecord | null> {
    requireRole(user, STAFF);
    if (!Types.ObjectId.isValid(id) || !OBJECT_ID.test(id)) return null;
    return this.products.findById(id).lean<ProductRecord>().exec();
  }

  /** Products oldest first, filtered by status, category (exact) and a search in name and SKU. */
  async list(args: PageArgs & { filter?: ProductFilterInput }, user: AuthUser): Promise<Page<ProductRecord>> {
    requireRole(user, STAFF);
    const parsed = productFilterInput.safeParse(args.filter);
    if (!parsed.success) invalid(parsed.error.issues, 'filter');
    const clauses: Record<string, unknown>[] = [];
    const filter = parsed.data;
    if (filter?.status?.length) clauses.push({ status: { $in: filter.status } });
    if (filter?.category) clauses.push({ category: filter.category });
    if (filter?.search) {
      const pattern = new RegExp(escapeRegex(filter.search), 'i');
      clauses.push({ $or: [{ name: pattern }, { sku: pattern }] });
    }
    return paginate(this.products, clauses.length ? { $and: clauses } : {}, args);
  }

  /** The product's cost if `user` may see it, else null. */
  costFor(product: ProductRecord, user: AuthUser): Money | null {
    return hasAnyRole(user, COST_VIEWERS) ? (product.cost ?? null) : null;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const x = a as Money;
    const y = b as Money;
    return x.amountMinor === y.amountMinor && x.currency === y.currency;
  }
  return (a ?? null) === (b ?? null);
}

export type { ProductStatus };
