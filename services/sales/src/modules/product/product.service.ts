import { Types } from 'mongoose';
import { z } from 'zod';
import { hasAnyRole, requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { moneySchema, type Money } from '@crm/money';
import { paginate, type Page, type PageArgs } from '@crm/mongo';
import { productCreated } from './product.events.js';
import { ProductException } from './product.errors.js';
import { PRODUCT_STATUSES, type ProductModel, type ProductRecord } from './product.model.js';

/** Every staff role reads the catalogue (admins pass every check). */
const STAFF = [Role.SALES_MANAGER, Role.SALES_REP, Role.SERVICE_AGENT, Role.MARKETER, Role.ANALYST] as const;
const CREATORS = [Role.SALES_MANAGER] as const;
/** Who sees `cost` (margins); everyone else gets null. */
const COST_VIEWERS = [Role.SALES_MANAGER] as const;

const DUPLICATE_KEY = 11000;

export const createProductInput = z
  .object({
    sku: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z0-9][A-Z0-9-]{1,39}$/, '2 to 40 of A-Z, 0-9 and -, not starting with -'),
    name: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
    category: z
      .string()
      .trim()
      .max(100, 'At most 100 characters')
      .nullish()
      .transform((value) => (value ? value : null)),
    price: moneySchema(),
    cost: moneySchema()
      .nullish()
      .transform((value) => value ?? null),
    status: z.enum(PRODUCT_STATUSES).nullish().transform((value) => value ?? 'ACTIVE'),
  })
  .superRefine((input, ctx) => {
    if (input.cost && input.cost.currency !== input.price.currency) {
      ctx.addIssue({ code: 'custom', path: ['cost', 'currency'], message: `Must be the currency of the price (${input.price.currency})` });
    }
  });
export type CreateProductInput = z.input<typeof createProductInput>;

function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DUPLICATE_KEY;
}

/** The one facade resolvers call for products. */
export class ProductService {
  constructor(
    private readonly products: ProductModel,
    private readonly relay: OutboxRelay,
  ) {}

  async create(input: CreateProductInput, user: AuthUser): Promise<ProductRecord> {
    requireRole(user, CREATORS);
    const parsed = createProductInput.safeParse(input);
    if (!parsed.success) {
      throw new ProductException('PRODUCT_INVALID_INPUT', 'Invalid product', fieldProblems(parsed.error.issues));
    }
    const now = new Date();
    const product = new this.products({ ...parsed.data, _id: new Types.ObjectId(), createdAt: now, updatedAt: now });
    // The record and its event are one insert: both are stored or neither is.
    product.set(OUTBOX_FIELD, [productCreated(product.toObject())]);
    try {
      await product.save();
    } catch (error) {
      if (isDuplicateKey(error)) {
        throw new ProductException('PRODUCT_SKU_TAKEN', `SKU ${parsed.data.sku} is already taken`, [{ field: 'input.sku', message: 'Already taken' }]);
      }
      throw error;
    }
    this.relay.notify(this.products, product._id);
    return product.toObject();
  }

  async get(id: string, user: AuthUser): Promise<ProductRecord | null> {
    requireRole(user, STAFF);
    if (!Types.ObjectId.isValid(id) || !/^[0-9a-f]{24}$/i.test(id)) return null;
    return this.products.findById(id).lean<ProductRecord>().exec();
  }

  async list(args: PageArgs, user: AuthUser): Promise<Page<ProductRecord>> {
    requireRole(user, STAFF);
    return paginate(this.products, {}, args);
  }

  /** The product's cost if `user` may see it, else null. */
  costFor(product: ProductRecord, user: AuthUser): Money | null {
    return hasAnyRole(user, COST_VIEWERS) ? (product.cost ?? null) : null;
  }
}
