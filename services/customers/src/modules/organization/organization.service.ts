import { Types } from 'mongoose';
import { z } from 'zod';
import type { AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { paginate, type Page, type PageArgs } from '@crm/mongo';
import { canWrite, readFilter } from '../customer/customer.access.js';
import { nameSortKeyOf } from '../customer/customer.search.js';
import { organizationCreated } from './organization.events.js';
import { OrganizationException } from './organization.errors.js';
import { ORGANIZATION_KINDS, type OrganizationModel, type OrganizationRecord } from './organization.model.js';

const createOrganizationInput = z.object({
  name: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
  kind: z.enum(ORGANIZATION_KINDS),
  country: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code').nullish().transform((v) => v ?? null),
  province: z.string().trim().max(100).nullish().transform((v) => v || null),
  city: z.string().trim().max(100).nullish().transform((v) => v || null),
});

/** The one facade for organisations (CUS-2). */
export class OrganizationService {
  constructor(
    private readonly organizations: OrganizationModel,
    private readonly relay: OutboxRelay,
  ) {}

  async create(input: z.input<typeof createOrganizationInput>, user: AuthUser): Promise<OrganizationRecord> {
    if (!canWrite(user)) throw new OrganizationException('ORGANIZATION_FORBIDDEN', 'Only sales staff and admins create organisations');
    const parsed = createOrganizationInput.safeParse(input);
    if (!parsed.success) throw new OrganizationException('ORGANIZATION_INVALID_INPUT', 'Invalid organisation', fieldProblems(parsed.error.issues));
    const now = new Date();
    const record: OrganizationRecord = { ...parsed.data, _id: new Types.ObjectId(), nameKey: nameSortKeyOf(parsed.data.name), createdBy: user.id, createdAt: now, updatedAt: now };
    try {
      await this.organizations.collection.insertOne({ ...record, [OUTBOX_FIELD]: [organizationCreated(record)] } as never);
    } catch (error) {
      if ((error as { code?: number }).code === 11000) {
        throw new OrganizationException('ORGANIZATION_NAME_TAKEN', `An organisation named ${record.name} exists`, [{ field: 'input.name', message: 'Already exists' }]);
      }
      throw error;
    }
    this.relay.notify(this.organizations, record._id);
    return record;
  }

  async get(id: string, user: AuthUser): Promise<OrganizationRecord | null> {
    if (!readFilter(user) || !/^[0-9a-f]{24}$/i.test(id)) return null;
    return this.organizations.findById(id).lean<OrganizationRecord>().exec();
  }

  /** For customers' organisation links: the organisation must exist. */
  async require(id: string): Promise<OrganizationRecord> {
    const found = /^[0-9a-f]{24}$/i.test(id) ? await this.organizations.findById(id).lean<OrganizationRecord>().exec() : null;
    if (!found) throw new OrganizationException('ORGANIZATION_NOT_FOUND', `No organisation ${id}`, [{ field: 'input.organizationId', message: 'No such organisation' }]);
    return found;
  }

  async list(args: PageArgs & { search?: string | null }, user: AuthUser): Promise<Page<OrganizationRecord>> {
    if (!readFilter(user)) throw new OrganizationException('ORGANIZATION_FORBIDDEN', 'Your role cannot list organisations');
    const key = args.search ? nameSortKeyOf(args.search) : '';
    // Prefix match on the normalised name: an anchored range, which MongoDB serves from the unique index.
    const filter = key ? { nameKey: { $gte: key, $lt: `${key}\uffff` } } : {};
    return paginate(this.organizations, filter, args, { sort: { field: 'nameKey', direction: 1 }, countLimit: 10_000 });
  }
}
