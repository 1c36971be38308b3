import { Types } from 'mongoose';
import { z } from 'zod';
import type { AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { findByIds, paginate, type Page, type PageArgs } from '@crm/mongo';
import { canWrite, readFilter } from '../customer/customer.access.js';
import type { CustomerService } from '../customer/customer.service.js';
import { CustomerGroupException } from './customer-group.errors.js';
import type { CustomerGroupModel, CustomerGroupRecord } from './customer-group.model.js';

const createGroupInput = z.object({
  name: z.string().trim().min(1, 'Required').max(100, 'At most 100 characters'),
  description: z.string().trim().max(1000).nullish().transform((v) => v || null),
});
const memberIds = z.array(z.string().regex(/^[0-9a-f]{24}$/i, 'Not a customer id')).min(1, 'At least one').max(100, 'At most 100 per call');

/** The one facade for customer groups (CUS-2). Membership changes go through CustomerService (versions, events). */
export class CustomerGroupService {
  constructor(
    private readonly groups: CustomerGroupModel,
    private readonly customers: CustomerService,
  ) {}

  async create(input: z.input<typeof createGroupInput>, user: AuthUser): Promise<CustomerGroupRecord> {
    if (!canWrite(user)) throw new CustomerGroupException('GROUP_FORBIDDEN', 'Only sales staff and admins create groups');
    const parsed = createGroupInput.safeParse(input);
    if (!parsed.success) throw new CustomerGroupException('GROUP_INVALID_INPUT', 'Invalid group', fieldProblems(parsed.error.issues));
    const now = new Date();
    const record: CustomerGroupRecord = { ...parsed.data, _id: new Types.ObjectId(), nameKey: parsed.data.name.toLowerCase(), createdBy: user.id, createdAt: now, updatedAt: now };
    try {
      await this.groups.collection.insertOne(record as never);
    } catch (error) {
      if ((error as { code?: number }).code === 11000) throw new CustomerGroupException('GROUP_NAME_TAKEN', `A group named ${record.name} exists`, [{ field: 'input.name', message: 'Already exists' }]);
      throw error;
    }
    return record;
  }

  async get(id: string, user: AuthUser): Promise<CustomerGroupRecord | null> {
    if (!readFilter(user) || !/^[0-9a-f]{24}$/i.test(id)) return null;
    return this.groups.findById(id).lean<CustomerGroupRecord>().exec();
  }

  async byIds(ids: string[]): Promise<CustomerGroupRecord[]> {
    return findByIds<CustomerGroupRecord>(this.groups, ids.map((id) => new Types.ObjectId(id)));
  }

  async list(args: PageArgs, user: AuthUser): Promise<Page<CustomerGroupRecord>> {
    if (!readFilter(user)) throw new CustomerGroupException('GROUP_FORBIDDEN', 'Your role cannot list groups');
    return paginate(this.groups, {}, args, { sort: { field: 'nameKey', direction: 1 } });
  }

  /** Adds or removes customers (each must be writable by the caller); returns the group. */
  async changeMembers(groupId: string, customerIds: string[], add: boolean, user: AuthUser): Promise<CustomerGroupRecord> {
    const group = await this.get(groupId, user);
    if (!group) throw new CustomerGroupException('GROUP_NOT_FOUND', `No group ${groupId}`);
    const ids = memberIds.safeParse(customerIds);
    if (!ids.success) throw new CustomerGroupException('GROUP_INVALID_INPUT', 'Invalid customers', fieldProblems(ids.error.issues, 'customerIds'));
    for (const id of new Set(ids.data)) await this.customers.setGroupMembership(id, groupId, add, user);
    return group;
  }
}
