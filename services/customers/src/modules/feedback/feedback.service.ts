import { Types } from 'mongoose';
import { z } from 'zod';
import { Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { paginate, type Page, type PageArgs } from '@crm/mongo';
import type { CustomerRecord } from '../customer/customer.model.js';
import type { CustomerService } from '../customer/customer.service.js';
import { feedbackSubmitted } from './feedback.events.js';
import { FeedbackException } from './feedback.errors.js';
import type { FeedbackModel, FeedbackRecord } from './feedback.model.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const submitFeedbackInput = z.object({
  productId: z.string().regex(OBJECT_ID, 'Not a product id'),
  feature: z.string().trim().max(100, 'At most 100 characters').nullish().transform((v) => v || null),
  rating: z.number().int('A whole number').min(1, 'From 1').max(5, 'To 5'),
  comment: z.string().trim().max(5000, 'At most 5000 characters').nullish().transform((v) => v || null),
  /** Staff may record feedback for a customer they can change; customers always give their own. */
  customerId: z.string().regex(OBJECT_ID, 'Not a customer id').nullish(),
});

/**
 * The customer's own voice (CUS-8): a `customer` user linked to one record reads it, rates products
 * and features, and follows products; staff see all of it on the customer.
 */
export class FeedbackService {
  constructor(
    private readonly feedback: FeedbackModel,
    private readonly customers: CustomerService,
    private readonly relay: OutboxRelay,
  ) {
    // Erasure keeps ratings (product aggregates) and drops what the person wrote.
    customers.onErase(async (customerId) => {
      // One by one in step with the relay (FerretDB v1: a bulk rewrite racing its removal of events could undo either).
      await this.relay.updateMatching(this.feedback, { customerId }, { $set: { comment: null, feature: null } });
    });
  }

  /** The record linked to the calling customer account. */
  async myProfile(user: AuthUser): Promise<CustomerRecord> {
    const own = user.roles.includes(Role.CUSTOMER) ? await this.customers.ownRecord(user) : null;
    if (!own) throw new FeedbackException('FEEDBACK_NO_CUSTOMER', 'This account is not linked to a customer record');
    return own;
  }

  async submit(input: z.input<typeof submitFeedbackInput>, user: AuthUser): Promise<FeedbackRecord> {
    const parsed = submitFeedbackInput.safeParse(input);
    if (!parsed.success) throw new FeedbackException('FEEDBACK_INVALID_INPUT', 'Invalid feedback', fieldProblems(parsed.error.issues));
    const { customerId: forCustomer, ...fields } = parsed.data;
    let customerId: string;
    if (user.roles.includes(Role.CUSTOMER)) {
      customerId = (await this.myProfile(user))._id.toHexString();
    } else {
      if (!forCustomer) throw new FeedbackException('FEEDBACK_INVALID_INPUT', 'Invalid feedback', [{ field: 'input.customerId', message: 'Required for staff' }]);
      await this.customers.requireWritable(forCustomer, user);
      customerId = forCustomer.toLowerCase();
    }
    const now = new Date();
    const record: FeedbackRecord = { ...fields, productId: fields.productId.toLowerCase(), _id: new Types.ObjectId(), customerId, authorId: user.id, createdAt: now, updatedAt: now };
    await this.feedback.collection.insertOne({ ...record, [OUTBOX_FIELD]: [feedbackSubmitted(record)] } as never);
    this.relay.notify(this.feedback, record._id);
    return record;
  }

  /** Feedback of a customer the caller can read (the caller has already read `customer`). */
  async ofCustomer(customer: CustomerRecord, args: PageArgs): Promise<Page<FeedbackRecord>> {
    return paginate(this.feedback, { customerId: customer._id.toHexString() }, args, { sort: { field: 'createdAt', direction: -1 } });
  }

  async follow(productId: string, follow: boolean, user: AuthUser): Promise<CustomerRecord> {
    if (!OBJECT_ID.test(productId)) throw new FeedbackException('FEEDBACK_INVALID_INPUT', 'Invalid product', [{ field: 'productId', message: 'Not a product id' }]);
    const own = await this.myProfile(user);
    return this.customers.setFollowedProduct(own, productId.toLowerCase(), follow);
  }
}
