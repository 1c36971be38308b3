import { Types } from 'mongoose';
import { z } from 'zod';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems, type FieldProblem } from '@crm/errors';
import { OUTBOX_FIELD, appendEvents, type CloudEvent, type OutboxRelay } from '@crm/events';
import { paginate, type Page, type PageArgs, type PageSort } from '@crm/mongo';
import { duplicateKeysOf, DuplicateIndex } from './customer.duplicates.js';
import { canWrite, departmentsOf, readFilter, seesIdentityNumbers, teamsOf, writeFilter } from './customer.access.js';
import { maskIdentity, type IdentityVault } from './customer.crypto.js';
import { customerCreated, customerDeleted, customerErased, customerMerged, customerRestored, customerUpdated } from './customer.events.js';
import { CustomerException } from './customer.errors.js';
import type { CustomerModel, CustomerRecord } from './customer.model.js';
import { nameSortKeyOf, searchKeysOf, searchTermsOf } from './customer.search.js';
import {
  canTransition,
  createCustomerInput,
  CUSTOMER_LEVELS,
  LIFECYCLE_STAGES,
  STAGE_TRANSITIONS,
  updateCustomerInput,
  type CreateCustomerInput,
  type CustomerProfile,
  type IdentityDocumentType,
  type UpdateCustomerInput,
} from './customer.validation.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** Above this many matches a list reports a lower bound instead of counting on. */
export const COUNT_LIMIT = 10_000;

export const CUSTOMER_ORDERS: Record<string, PageSort> = {
  CREATED_DESC: { field: 'createdAt', direction: -1 },
  CREATED_ASC: { field: 'createdAt', direction: 1 },
  NAME_ASC: { field: 'nameSortKey', direction: 1 },
  NAME_DESC: { field: 'nameSortKey', direction: -1 },
  LAST_ACTIVITY_DESC: { field: 'lastActivityAt', direction: -1 },
  LAST_ACTIVITY_ASC: { field: 'lastActivityAt', direction: 1 },
};

export const customerFilterInput = z
  .object({
    lifecycleStages: z.array(z.enum(LIFECYCLE_STAGES)).max(5).nullish(),
    levels: z.array(z.enum(CUSTOMER_LEVELS)).max(5).nullish(),
    tags: z.array(z.string().trim().min(1).max(40)).max(10).nullish(),
    ownerId: z.string().max(64).nullish(),
    organizationId: z.string().regex(OBJECT_ID, 'Not an organisation id').nullish(),
    groupId: z.string().regex(OBJECT_ID, 'Not a group id').nullish(),
    country: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code').nullish(),
    province: z.string().trim().max(100).nullish(),
    city: z.string().trim().max(100).nullish(),
    createdAfter: z.date().nullish(),
    createdBefore: z.date().nullish(),
    deleted: z.boolean().nullish(),
  })
  .nullish();
export type CustomerFilterInput = z.input<typeof customerFilterInput>;

export interface ListArgs extends PageArgs {
  filter?: CustomerFilterInput;
  search?: string | null;
  orderBy?: string | null;
  /** False when the caller does not need the total (saves a counting query). */
  count?: boolean;
}

function invalid(issues: z.core.$ZodIssue[], prefix = 'input'): never {
  throw new CustomerException('CUSTOMER_INVALID_INPUT', 'Invalid customer', fieldProblems(issues, prefix));
}

/** The one facade resolvers (and the import job) call for customers. */
/** What an erased customer is called: nothing of the person remains. */
export const ERASED_NAME = 'Erased customer';

export class CustomerService {
  constructor(
    private readonly customers: CustomerModel,
    private readonly relay: OutboxRelay,
    private readonly vault: IdentityVault,
  ) {}

  /** The identity document as this caller may see it: in clear for admins and sales managers, else masked. */
  identityOf(customer: CustomerRecord, user: AuthUser): { type: IdentityDocumentType; number: string; masked: boolean } | null {
    if (!customer.identity) return null;
    const type = customer.identity.type as IdentityDocumentType;
    return seesIdentityNumbers(user)
      ? { type, number: this.vault.open(customer.identity), masked: false }
      : { type, number: maskIdentity(customer.identity.last4), masked: true };
  }

  private derived(profile: { name: string; phones: Array<{ number: string }>; email: string | null; organization: string | null }) {
    return { searchKeys: searchKeysOf(profile), nameSortKey: nameSortKeyOf(profile.name) };
  }

  async create(input: CreateCustomerInput, user: AuthUser, options: { id?: Types.ObjectId } = {}): Promise<CustomerRecord> {
    if (!canWrite(user)) throw new CustomerException('CUSTOMER_FORBIDDEN', 'Only sales staff and admins create customers');
    const parsed = createCustomerInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    if (parsed.data.organizationId) parsed.data.organization = await this.organizationName(parsed.data.organizationId);
    const record = this.newRecord(parsed.data, options.id ?? new Types.ObjectId(), user, new Date());
    // The record and its event are one insert: both are stored or neither is.
    await this.customers.collection.insertOne({ ...record, [OUTBOX_FIELD]: [customerCreated(record)] } as never);
    this.relay.notify(this.customers, record._id);
    return record;
  }

  /** A new customer as stored: the validated profile, sealed identity, owner, derived search fields. */
  private newRecord(data: CustomerProfile, id: Types.ObjectId, user: AuthUser, now: Date): CustomerRecord {
    const { identityDocument, ...profile } = data;
    return {
      ...profile,
      _id: id,
      identity: identityDocument ? this.vault.seal(identityDocument.type, identityDocument.number) : null,
      ownerId: user.id,
      department: departmentsOf(user)[0] ?? null,
      ownerTeams: teamsOf(user),
      portalUserId: null,
      ...this.derived(profile),
      lastActivityAt: now,
      deletedAt: null,
      deletedBy: null,
      erasedAt: null,
      erasedBy: null,
      mergedInto: null,
      mergedFrom: [],
      groupIds: [],
      followedProductIds: [],
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * Bulk create (the import job): validates every row, inserts the valid ones in one unordered
   * insertMany with their events, and reports each row. Ids are the caller's (derived from the file and
   * row), so re-running an import skips rows already stored instead of duplicating them.
   */
  async createMany(
    rows: Array<{ id: Types.ObjectId; input: CreateCustomerInput }>,
    user: AuthUser,
    options: { duplicates?: DuplicateIndex } = {},
  ): Promise<Array<{ id: string; status: 'CREATED' | 'SKIPPED' | 'INVALID'; problems?: FieldProblem[]; likelyDuplicates?: Array<{ customerId: string; reasons: DuplicateReason[] }> }>> {
    if (!canWrite(user)) throw new CustomerException('CUSTOMER_FORBIDDEN', 'Only sales staff and admins create customers');
    const now = new Date();
    const results = rows.map(({ id, input }) => {
      const parsed = createCustomerInput.safeParse(input);
      if (!parsed.success) return { id: id.toHexString(), status: 'INVALID' as const, problems: fieldProblems(parsed.error.issues, '') };
      const record = this.newRecord(parsed.data, id, user, now);
      return { id: id.toHexString(), status: 'CREATED' as const, record };
    });
    const valid = results.filter((r) => r.status === 'CREATED');
    const duplicates = new Set<string>();
    if (valid.length > 0) {
      try {
        await this.customers.collection.insertMany(valid.map((r) => ({ ...r.record, [OUTBOX_FIELD]: [customerCreated(r.record!)] })) as never[], { ordered: false });
      } catch (error) {
        const writeErrors = (error as { writeErrors?: Array<{ code?: number; index: number }> }).writeErrors ?? [];
        if (writeErrors.length === 0 || writeErrors.some((e) => e.code !== 11000)) throw error;
        for (const e of writeErrors) duplicates.add(valid[e.index]!.id);
      }
    }
    // CUS-6 on import: each row created is checked against the customers known before it (and the
    // rows before it), in memory; then it is known too.
    const likely = new Map<string, Array<{ customerId: string; reasons: DuplicateReason[] }>>();
    if (options.duplicates) {
      for (const r of valid) {
        if (duplicates.has(r.id)) continue;
        const keys = duplicateKeysOf(r.record!);
        const matches = options.duplicates.match(keys);
        matches.delete(r.id);
        if (matches.size > 0) likely.set(r.id, [...matches].map(([customerId, reasons]) => ({ customerId, reasons })));
        options.duplicates.add(r.id, keys);
      }
    }
    // Events go out with the relay's next batch (one Kafka request per batch, not per row), soon.
    if (valid.length > duplicates.size) this.relay.pollSoon();
    return results.map(({ id, status, problems }) => {
      if (status === 'CREATED' && duplicates.has(id)) return { id, status: 'SKIPPED' as const };
      const candidates = likely.get(id);
      return { id, status, ...(problems ? { problems } : {}), ...(candidates ? { likelyDuplicates: candidates } : {}) };
    });
  }

  /**
   * The duplicate keys of every live customer the user can see, read in one pass (for an import job:
   * see `DuplicateIndex`).
   */
  async duplicateIndex(user: AuthUser): Promise<DuplicateIndex> {
    const index = new DuplicateIndex();
    const visible = readFilter(user);
    if (!visible) return index;
    const cursor = this.customers.collection.find(
      { $and: [visible, { deletedAt: null }] } as never,
      { projection: { phones: 1, email: 1, identity: 1, nameSortKey: 1, organization: 1 }, batchSize: 2000 },
    );
    for await (const doc of cursor) {
      const customer = doc as unknown as CustomerRecord;
      index.add(customer._id.toHexString(), duplicateKeysOf(customer));
    }
    return index;
  }

  /**
   * A customer the caller may read; deleted ones only with `includeDeleted`. The id of a customer
   * merged away resolves to its survivor (CUS-6), so other services' references keep working.
   */
  async get(id: string, user: AuthUser, { includeDeleted = false } = {}, hops = 0): Promise<CustomerRecord | null> {
    const visible = readFilter(user);
    if (!visible || !OBJECT_ID.test(id)) return null;
    const found = await this.customers.findOne({ $and: [{ _id: new Types.ObjectId(id) }, visible] }).lean<CustomerRecord>().exec();
    if (found?.mergedInto && hops < 5) return this.get(found.mergedInto, user, { includeDeleted }, hops + 1);
    if (!found || (found.deletedAt && !includeDeleted)) return null;
    return found;
  }

  async list(args: ListArgs, user: AuthUser): Promise<Page<CustomerRecord>> {
    const visible = readFilter(user);
    if (!visible) throw new CustomerException('CUSTOMER_FORBIDDEN', 'Your role cannot list customers');
    const filter = customerFilterInput.safeParse(args.filter);
    if (!filter.success) invalid(filter.error.issues, 'filter');
    const f = filter.data ?? {};
    const sort = CUSTOMER_ORDERS[args.orderBy ?? 'CREATED_DESC'];
    if (!sort) throw new CustomerException('CUSTOMER_INVALID_INPUT', 'Invalid order', [{ field: 'orderBy', message: `One of ${Object.keys(CUSTOMER_ORDERS).join(', ')}` }]);
    const clauses: Record<string, unknown>[] = [visible, f.deleted ? { deletedAt: { $ne: null }, mergedInto: null } : { deletedAt: null }];
    if (f.deleted && !writeFilter(user)) throw new CustomerException('CUSTOMER_FORBIDDEN', 'Only admins and sales staff see deleted customers');
    if (f.lifecycleStages?.length) clauses.push({ lifecycleStage: { $in: f.lifecycleStages } });
    if (f.levels?.length) clauses.push({ level: { $in: f.levels } });
    if (f.tags?.length) clauses.push({ tags: { $all: f.tags } });
    if (f.ownerId) clauses.push({ ownerId: f.ownerId });
    if (f.organizationId) clauses.push({ organizationId: f.organizationId.toLowerCase() });
    if (f.groupId) clauses.push({ groupIds: f.groupId.toLowerCase() });
    if (f.country) clauses.push({ 'address.country': f.country });
    if (f.province) clauses.push({ 'address.province': f.province });
    if (f.city) clauses.push({ 'address.city': f.city });
    if (f.createdAfter || f.createdBefore) {
      clauses.push({ createdAt: { ...(f.createdAfter ? { $gte: f.createdAfter } : {}), ...(f.createdBefore ? { $lt: f.createdBefore } : {}) } });
    }
    const terms = args.search ? searchTermsOf(args.search) : [];
    if (args.search && terms.length === 0) throw new CustomerException('CUSTOMER_INVALID_INPUT', 'Invalid search', [{ field: 'search', message: 'Nothing to search for' }]);
    if (terms.length) clauses.push(terms.length === 1 ? { searchKeys: terms[0] } : { searchKeys: { $all: terms } });
    return paginate(this.customers, { $and: clauses }, args, { sort, countLimit: COUNT_LIMIT, count: args.count !== false });
  }

  /** Reads a customer the caller may change, or explains why not. */
  private async writable(id: string, user: AuthUser, { deleted = false } = {}): Promise<CustomerRecord> {
    const allowed = writeFilter(user);
    if (!allowed) throw new CustomerException('CUSTOMER_FORBIDDEN', 'Your role cannot change customers');
    if (!OBJECT_ID.test(id)) throw new CustomerException('CUSTOMER_NOT_FOUND', `No customer ${id}`);
    const current = await this.customers
      .findOne({ _id: new Types.ObjectId(id), deletedAt: deleted ? { $ne: null } : null, mergedInto: null })
      .lean<CustomerRecord>()
      .exec();
    if (!current) {
      if (deleted && (await this.get(id, user))) throw new CustomerException('CUSTOMER_NOT_DELETED', `Customer ${id} is not deleted`);
      throw new CustomerException('CUSTOMER_NOT_FOUND', `No customer ${id}`);
    }
    if (current.erasedAt) throw new CustomerException('CUSTOMER_ERASED', `Customer ${id} was erased and cannot change`);
    const mayWrite = await this.customers.countDocuments({ $and: [{ _id: current._id }, allowed] }).exec();
    if (!mayWrite) {
      // Visible but not yours to change, or not visible at all (do not reveal it exists).
      if (readFilter(user) && (await this.get(id, user))) throw new CustomerException('CUSTOMER_FORBIDDEN', 'You may not change this customer');
      throw new CustomerException('CUSTOMER_NOT_FOUND', `No customer ${id}`);
    }
    return current;
  }

  /**
   * Applies `changes` and its event in one conditional update on the version read: a concurrent
   * change makes it CONFLICT instead of silently overwriting (no transactions needed).
   */
  /**
   * Every update of a stored customer goes through here: in step with the relay's removal of
   * published events from the same document (FerretDB v1 rewrites whole documents, and a removal
   * racing a change undid it; see OutboxRelay.writing).
   */
  private writing<T>(id: Types.ObjectId | string, work: () => Promise<T>): Promise<T> {
    return this.relay.writing(this.customers, String(id).toLowerCase(), work);
  }

  /** Moves `lastActivityAt` forward to `at` (never back, never past now): `$max`, idempotent. */
  async touchLastActivity(customerId: string, at: Date): Promise<void> {
    const when = new Date(Math.min(at.getTime(), Date.now()));
    await this.writing(customerId, () => this.customers.collection.updateOne({ _id: new Types.ObjectId(customerId) } as never, { $max: { lastActivityAt: when } } as never));
  }

  private async commit(current: CustomerRecord, changes: Partial<CustomerRecord>, event: (next: CustomerRecord) => CloudEvent): Promise<CustomerRecord> {
    const next: CustomerRecord = { ...current, ...changes, version: current.version + 1, updatedAt: new Date() };
    const result = await this.writing(current._id, () =>
      this.customers.collection.updateOne(
        { _id: current._id, version: current.version } as never,
        { $set: { ...changes, version: next.version, updatedAt: next.updatedAt }, ...appendEvents([event(next)]) } as never,
      ),
    );
    if (result.matchedCount === 0) throw new CustomerException('CUSTOMER_VERSION_CONFLICT', 'The customer was changed meanwhile; reload and retry');
    this.relay.notify(this.customers, current._id);
    return next;
  }

  async update(id: string, input: UpdateCustomerInput, user: AuthUser, expectedVersion?: number | null): Promise<CustomerRecord> {
    const current = await this.writable(id, user);
    if (expectedVersion != null && expectedVersion !== current.version) {
      throw new CustomerException('CUSTOMER_VERSION_CONFLICT', `Expected version ${expectedVersion}, found ${current.version}`);
    }
    // `name: null` fails here (a string is required); `lifecycleStage: null` is refused below.
    const parsed = updateCustomerInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const given = Object.keys(input) as Array<keyof UpdateCustomerInput>;
    const { identityDocument, lifecycleStage, ...fields } = parsed.data;
    const changes: Partial<CustomerRecord> = {};
    for (const key of given) {
      if (key === 'identityDocument' || key === 'lifecycleStage') continue;
      (changes as Record<string, unknown>)[key] = (fields as Record<string, unknown>)[key];
    }
    if (given.includes('lifecycleStage')) {
      if (!lifecycleStage) invalid([{ path: ['lifecycleStage'], message: 'Required', code: 'custom', input: null } as z.core.$ZodIssue]);
      if (!canTransition(current.lifecycleStage, lifecycleStage)) {
        throw new CustomerException('CUSTOMER_STAGE_TRANSITION', `A ${current.lifecycleStage} customer cannot become ${lifecycleStage}`, [
          { field: 'input.lifecycleStage', message: `From ${current.lifecycleStage} only to ${STAGE_TRANSITIONS[current.lifecycleStage].join(', ')}` },
        ]);
      }
      changes.lifecycleStage = lifecycleStage;
    }
    if (given.includes('organizationId')) {
      changes.organization = fields.organizationId ? await this.organizationName(fields.organizationId) : (changes.organization ?? current.organization);
    }
    if (given.includes('identityDocument')) {
      changes.identity = identityDocument ? this.vault.seal(identityDocument.type, identityDocument.number) : null;
    }
    const merged = { ...current, ...changes };
    if (['name', 'phones', 'email', 'organization'].some((k) => k in changes)) Object.assign(changes, this.derived(merged));
    const changed = given.filter((key) => key in changes || key === 'identityDocument');
    if (changed.length === 0) return current;
    return this.commit(current, changes, (next) => customerUpdated(next, changed.map(String)));
  }

  /** Soft delete: hidden from every list and reference until restored. */
  async delete(id: string, user: AuthUser): Promise<CustomerRecord> {
    const current = await this.writable(id, user);
    return this.commit(current, { deletedAt: new Date(), deletedBy: user.id }, (next) => customerDeleted(next, user.id));
  }

  /**
   * Right to erasure, for the customer record (the module `customer-erasure` also erases the person's
   * activities, timeline and feedback): everything that identifies the person goes, in one
   * versioned update with its `customer.erased` event. Erasing again returns the erased record.
   */
  async erase(id: string, reason: string, user: AuthUser): Promise<CustomerRecord> {
    requireRole(user, [Role.ADMIN]);
    const why = reason.trim();
    if (why.length < 3 || why.length > 500) throw new CustomerException('CUSTOMER_INVALID_INPUT', 'Invalid erasure', [{ field: 'reason', message: '3 to 500 characters' }]);
    if (!OBJECT_ID.test(id)) throw new CustomerException('CUSTOMER_NOT_FOUND', `No customer ${id}`);
    const current = await this.customers.findOne({ _id: new Types.ObjectId(id) }).lean<CustomerRecord>().exec();
    if (!current) throw new CustomerException('CUSTOMER_NOT_FOUND', `No customer ${id}`);
    if (current.erasedAt) return current;
    // The modules' records first: if this stops half way, the record is not marked erased yet and a
    // retry runs everything again.
    for (const hook of this.eraseHooks) await hook(id);
    const now = new Date();
    const changes = erasedFields(now, user.id);
    // The records merged into this one were the same person; they stay (deleted) for their ids only.
    for (const mergedId of (await this.mergedInto(id)).slice(1)) {
      await this.writing(mergedId, () => this.customers.collection.updateOne({ _id: new Types.ObjectId(mergedId) } as never, { $set: changes } as never));
    }
    return this.commit(current, changes, (next) => customerErased(next, user.id, current.portalUserId ?? null));
  }

  /** This customer's id and those of every record merged into it, directly or through earlier merges. */
  async mergedInto(id: string): Promise<string[]> {
    const ids = [id];
    for (let i = 0; i < ids.length && ids.length < 1000; i += 1) {
      const record = await this.customers.findOne({ _id: new Types.ObjectId(ids[i]) }, { mergedFrom: 1 }).lean<Pick<CustomerRecord, 'mergedFrom'>>().exec();
      for (const merged of record?.mergedFrom ?? []) if (OBJECT_ID.test(merged) && !ids.includes(merged)) ids.push(merged);
    }
    return ids;
  }

  /** Moves identity numbers sealed under a previous key to the current one (key rotation); no event: nothing a consumer sees changes. */
  async reencryptIdentities(batchSize: number, user: AuthUser): Promise<{ resealed: number; remaining: number }> {
    requireRole(user, [Role.ADMIN]);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 5000) {
      throw new CustomerException('CUSTOMER_INVALID_INPUT', 'Invalid batch size', [{ field: 'batchSize', message: 'Must be 1 to 5000' }]);
    }
    const stale = { 'identity.ciphertext': { $exists: true, $not: new RegExp(`^${this.vault.currentPrefix()}`) } };
    const batch = await this.customers.find(stale, { identity: 1 }).limit(batchSize).lean<Array<Pick<CustomerRecord, '_id' | 'identity'>>>().exec();
    let resealed = 0;
    for (const { _id, identity } of batch) {
      if (!identity) continue;
      // Only if unchanged since read: a concurrent update sealed it under the current key already.
      const result = await this.writing(_id, () =>
        this.customers.updateOne({ _id, 'identity.ciphertext': identity.ciphertext }, { $set: { 'identity.ciphertext': this.vault.reseal(identity).ciphertext } }).exec(),
      );
      resealed += result.modifiedCount;
    }
    return { resealed, remaining: await this.customers.countDocuments(stale).exec() };
  }

  async restore(id: string, user: AuthUser): Promise<CustomerRecord> {
    const current = await this.writable(id, user, { deleted: true });
    return this.commit(current, { deletedAt: null, deletedBy: null }, (next) => customerRestored(next));
  }

  /** Likely duplicates of a customer (CUS-6): same phone, email or identity number; same name (pinyin) in the same organisation. */
  async duplicatesOf(customer: DuplicateProbe, user: AuthUser): Promise<DuplicateCandidate[]> {
    return (await this.duplicatesAmong([customer], user)).get(customer._id.toHexString()) ?? [];
  }

  /**
   * Likely duplicates of several customers at once (CUS-6), one query for all of them (an import
   * batch): same phone, email or identity number, or the same name in the same organisation. Each
   * customer's own record is never its duplicate; other customers of the same batch can be. At most
   * 20 candidates per customer.
   */
  async duplicatesAmong(probes: DuplicateProbe[], user: AuthUser): Promise<Map<string, DuplicateCandidate[]>> {
    const found = new Map<string, DuplicateCandidate[]>();
    const visible = readFilter(user);
    if (!visible || probes.length === 0) return found;
    const phones = [...new Set(probes.flatMap((p) => (p.phones ?? []).map((phone) => phone.number)))];
    const emails = [...new Set(probes.flatMap((p) => (p.email ? [p.email] : [])))];
    const hashes = [...new Set(probes.flatMap((p) => (p.identity ? [p.identity.hash] : [])))];
    const named = probes.filter((p) => p.organization);
    const signals: Record<string, unknown>[] = [];
    if (phones.length) signals.push({ 'phones.number': { $in: phones } });
    if (emails.length) signals.push({ email: { $in: emails } });
    if (hashes.length) signals.push({ 'identity.hash': { $in: hashes } });
    if (named.length) signals.push({ nameSortKey: { $in: [...new Set(named.map((p) => p.nameSortKey))] }, organization: { $in: [...new Set(named.map((p) => p.organization))] } });
    if (signals.length === 0) return found;
    const candidates = await this.customers
      .find({ $and: [visible, { deletedAt: null }, { $or: signals }] })
      .limit(20 * probes.length + probes.length)
      .lean<CustomerRecord[]>()
      .exec();
    for (const probe of probes) {
      const id = probe._id.toHexString();
      const probePhones = (probe.phones ?? []).map((p) => p.number);
      const matches: DuplicateCandidate[] = [];
      for (const candidate of candidates) {
        if (candidate._id.equals(probe._id) || matches.length >= 20) continue;
        const reasons: DuplicateReason[] = [];
        if (candidate.phones.some((p) => probePhones.includes(p.number))) reasons.push('SAME_PHONE');
        if (probe.email && candidate.email === probe.email) reasons.push('SAME_EMAIL');
        if (probe.identity && candidate.identity?.hash === probe.identity.hash) reasons.push('SAME_IDENTITY_NUMBER');
        if (probe.organization && candidate.organization === probe.organization && candidate.nameSortKey === probe.nameSortKey) reasons.push('SIMILAR_NAME_SAME_ORGANIZATION');
        if (reasons.length > 0) matches.push({ customer: candidate, reasons });
      }
      if (matches.length > 0) found.set(id, matches);
    }
    return found;
  }

  /**
   * Merges `mergedId` into `survivorId` (CUS-6). The caller picks, per field, which side's value the
   * survivor keeps; phones, tags and groups are united. Two single-document updates, each conditional
   * on the version read, in an order that makes a retry after a crash finish the job: the survivor
   * first (with `mergedFrom` and the `customer.merged` event), then the merged record is retired.
   */
  async merge(survivorId: string, mergedId: string, choose: Partial<Record<MergeableField, 'SURVIVOR' | 'MERGED'>>, user: AuthUser): Promise<CustomerRecord> {
    if (survivorId === mergedId) throw new CustomerException('CUSTOMER_MERGE_INVALID', 'A customer cannot be merged into itself', [{ field: 'mergedId', message: 'Must differ from survivorId' }]);
    const survivor = await this.writable(survivorId, user);
    const merged = await this.writable(mergedId, user).catch(async (error: unknown) => {
      // A retried merge whose survivor step already happened finds the merged record as it left it.
      if (survivor.mergedFrom.includes(mergedId)) return null;
      throw error;
    });
    let next = survivor;
    if (!survivor.mergedFrom.includes(mergedId)) {
      if (!merged) throw new CustomerException('CUSTOMER_NOT_FOUND', `No customer ${mergedId}`);
      const changes: Partial<CustomerRecord> = {};
      for (const field of MERGEABLE_FIELDS) {
        if (choose[field] === 'MERGED') (changes as Record<string, unknown>)[field] = merged[field];
      }
      changes.phones = [...new Map([...survivor.phones, ...merged.phones].map((p) => [p.number, p])).values()];
      changes.tags = [...new Set([...survivor.tags, ...merged.tags])];
      changes.groupIds = [...new Set([...survivor.groupIds, ...merged.groupIds])];
      changes.mergedFrom = [...survivor.mergedFrom, mergedId];
      changes.lastActivityAt = new Date(Math.max(survivor.lastActivityAt.getTime(), merged.lastActivityAt.getTime()));
      Object.assign(changes, this.derived({ ...survivor, ...changes } as CustomerRecord));
      next = await this.commit(survivor, changes, (updated) => customerMerged(updated, mergedId));
    }
    if (merged) {
      const now = new Date();
      await this.writing(merged._id, () =>
        this.customers.collection.updateOne(
          { _id: merged._id, version: merged.version } as never,
          { $set: { mergedInto: survivorId, deletedAt: now, deletedBy: user.id, updatedAt: now, version: merged.version + 1 } } as never,
        ),
      );
    }
    for (const hook of this.mergeHooks) await hook(mergedId, survivorId);
    return next;
  }

  private readonly mergeHooks: Array<(mergedId: string, survivorId: string) => Promise<void>> = [];
  private organizationName: (id: string) => Promise<string> = async () => {
    throw new CustomerException('CUSTOMER_INVALID_INPUT', 'Organisations are not available', [{ field: 'input.organizationId', message: 'Not available' }]);
  };

  /** How to find an organisation's name (the organisation module); it throws NOT_FOUND for unknown ids. */
  useOrganizations(nameOf: (id: string) => Promise<string>): void {
    this.organizationName = nameOf;
  }

  /** A customer the caller may change, or the reason why not (for other modules of this service). */
  requireWritable(id: string, user: AuthUser): Promise<CustomerRecord> {
    return this.writable(id, user);
  }

  /** The record linked to a `customer` account (CUS-8). */
  async ownRecord(user: AuthUser): Promise<CustomerRecord | null> {
    return this.customers.findOne({ portalUserId: user.id, deletedAt: null }).lean<CustomerRecord>().exec();
  }

  /** Links a customer record to the Keycloak account its customer signs in with (admins and sales managers). */
  async linkAccount(id: string, portalUserId: string | null, user: AuthUser): Promise<CustomerRecord> {
    if (!seesIdentityNumbers(user)) throw new CustomerException('CUSTOMER_FORBIDDEN', 'Only admins and sales managers link customer accounts');
    if (portalUserId !== null && !/^[0-9a-f-]{36}$/.test(portalUserId)) {
      throw new CustomerException('CUSTOMER_INVALID_INPUT', 'Invalid account', [{ field: 'userId', message: 'A Keycloak user id (UUID)' }]);
    }
    const current = await this.writable(id, user);
    if (portalUserId && (await this.customers.countDocuments({ portalUserId, _id: { $ne: current._id } }).exec())) {
      throw new CustomerException('CUSTOMER_VERSION_CONFLICT', 'That account is already linked to another customer');
    }
    return this.commit(current, { portalUserId }, (next) => customerUpdated(next, ['portalAccount']));
  }

  /** The customer follows a product or stops following it (CUS-8). */
  async setFollowedProduct(current: CustomerRecord, productId: string, follow: boolean): Promise<CustomerRecord> {
    const ids = follow ? [...new Set([...current.followedProductIds, productId])] : current.followedProductIds.filter((p) => p !== productId);
    if (ids.length === current.followedProductIds.length && ids.every((p, i) => p === current.followedProductIds[i])) return current;
    return this.commit(current, { followedProductIds: ids }, (next) => customerUpdated(next, ['followedProducts']));
  }

  /** Puts a customer in a group or takes it out (CUS-2), as a versioned update with its event. */
  async setGroupMembership(id: string, groupId: string, add: boolean, user: AuthUser): Promise<CustomerRecord> {
    const current = await this.writable(id, user);
    const groupIds = add ? [...new Set([...current.groupIds, groupId])] : current.groupIds.filter((g) => g !== groupId);
    if (groupIds.length === current.groupIds.length && groupIds.every((g, i) => g === current.groupIds[i])) return current;
    return this.commit(current, { groupIds }, (next) => customerUpdated(next, ['groups']));
  }

  /** Lets other modules of this service re-point their own records when customers merge (e.g. activities). */
  onMerge(hook: (mergedId: string, survivorId: string) => Promise<void>): void {
    this.mergeHooks.push(hook);
  }

  private readonly eraseHooks: Array<(customerId: string) => Promise<void>> = [];

  /** Lets other modules of this service erase their own records of a person (idempotent: a retried erasure runs them again). */
  onErase(hook: (customerId: string) => Promise<void>): void {
    this.eraseHooks.push(hook);
  }
}

/** What erasure leaves of a person's record: ids, stage, level, owner and times. */
function erasedFields(now: Date, erasedBy: string): Partial<CustomerRecord> {
  return {
    name: ERASED_NAME,
    gender: null,
    birthday: null,
    email: null,
    phones: [],
    identity: null,
    address: null,
    organization: null,
    source: null,
    tags: [],
    notes: null,
    portalUserId: null,
    searchKeys: [],
    nameSortKey: '',
    erasedAt: now,
    erasedBy,
  };
}

export const MERGEABLE_FIELDS = ['name', 'gender', 'birthday', 'email', 'identity', 'address', 'organization', 'organizationId', 'source', 'level', 'lifecycleStage', 'notes'] as const;
export type MergeableField = (typeof MERGEABLE_FIELDS)[number];
/** What `duplicatesOf` compares. */
export type DuplicateProbe = Pick<CustomerRecord, '_id' | 'phones' | 'email' | 'identity' | 'nameSortKey' | 'organization'>;

export type DuplicateReason = 'SAME_PHONE' | 'SAME_EMAIL' | 'SAME_IDENTITY_NUMBER' | 'SIMILAR_NAME_SAME_ORGANIZATION';
export interface DuplicateCandidate {
  customer: CustomerRecord;
  reasons: DuplicateReason[];
}
