import { Types } from 'mongoose';
import { z } from 'zod';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { paginate, type Page, type PageArgs } from '@crm/mongo';
import { customerCreated } from './customer.events.js';
import { CustomerException } from './customer.errors.js';
import { LIFECYCLE_STAGES, type CustomerModel, type CustomerRecord } from './customer.model.js';

const STAFF = [Role.SALES_MANAGER, Role.SALES_REP, Role.SERVICE_AGENT, Role.MARKETER, Role.ANALYST] as const;
const CREATORS = [Role.SALES_MANAGER, Role.SALES_REP, Role.SERVICE_AGENT] as const;

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `At most ${max} characters`)
    .nullish()
    .transform((value) => (value ? value : null));

export const createCustomerInput = z.object({
  name: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
  email: z.email('Not an email address').trim().toLowerCase().max(254).nullish().or(z.literal('').transform(() => null)),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 ()-]{3,30}$/, 'Digits, spaces, ( ) and -, optionally starting with +')
    .nullish()
    .or(z.literal('').transform(() => null)),
  organization: optionalText(200),
  lifecycleStage: z.enum(LIFECYCLE_STAGES).nullish().transform((value) => value ?? 'LEAD'),
  source: optionalText(100),
  tags: z
    .array(z.string().trim().min(1, 'Empty tag').max(40, 'At most 40 characters'))
    .max(20, 'At most 20 tags')
    .nullish()
    .transform((tags) => [...new Set(tags ?? [])]),
});
export type CreateCustomerInput = z.input<typeof createCustomerInput>;

/** The one facade resolvers call for customers. */
export class CustomerService {
  constructor(
    private readonly customers: CustomerModel,
    private readonly relay: OutboxRelay,
  ) {}

  async create(input: CreateCustomerInput, user: AuthUser): Promise<CustomerRecord> {
    requireRole(user, CREATORS);
    const parsed = createCustomerInput.safeParse(input);
    if (!parsed.success) {
      throw new CustomerException('CUSTOMER_INVALID_INPUT', 'Invalid customer', fieldProblems(parsed.error.issues));
    }
    const now = new Date();
    const customer = new this.customers({ ...parsed.data, _id: new Types.ObjectId(), ownerId: user.id, createdAt: now, updatedAt: now });
    // The record and its event are one insert: both are stored or neither is.
    customer.set(OUTBOX_FIELD, [customerCreated(customer.toObject())]);
    await customer.save();
    this.relay.notify(this.customers, customer._id);
    return customer.toObject();
  }

  async get(id: string, user: AuthUser): Promise<CustomerRecord | null> {
    requireRole(user, STAFF);
    if (!Types.ObjectId.isValid(id) || !/^[0-9a-f]{24}$/i.test(id)) return null;
    return this.customers.findById(id).lean<CustomerRecord>().exec();
  }

  async list(args: PageArgs, user: AuthUser): Promise<Page<CustomerRecord>> {
    requireRole(user, STAFF);
    return paginate(this.customers, {}, args);
  }
}
