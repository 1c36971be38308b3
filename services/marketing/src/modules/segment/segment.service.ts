import { Types } from 'mongoose';
import { z } from 'zod';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems, type FieldProblem } from '@crm/errors';
import { AggregateWriter, appendEvents, OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { findByIds, paginate, PerKeySerializer, type Page, type PageArgs, isDuplicateKey } from '@crm/mongo';
import type { CustomerProfiles } from '../customer-profile/customer-profile.service.js';
import { membershipChanged, SegmentEventType, segmentStateEvent, type MembershipReason } from './segment.events.js';
import { SegmentException } from './segment.errors.js';
import { SEGMENT_KINDS, type SegmentMembershipModel, type SegmentMembershipRecord, type SegmentModel, type SegmentRecord } from './segment.model.js';
import { checkRule, matches, normalizeRule, type SegmentRule } from './segment.rules.js';

/** Who designs segments (admins pass every check). */
const DESIGNERS = [Role.MARKETER] as const;
/** Who reads segments and who is in them. */
export const SEGMENT_READERS = [Role.MARKETER, Role.SALES_MANAGER, Role.ANALYST] as const;
const OBJECT_ID = /^[0-9a-f]{24}$/i;
const PREVIEW_SAMPLE = 10;
const MAX_MANUAL = 1000;

const optionalText = z.string().trim().max(1000, 'At most 1000 characters').nullish().transform((v) => (v ? v : null));
const customerIds = z.array(z.string().regex(OBJECT_ID, 'Not a customer id')).max(MAX_MANUAL, `At most ${MAX_MANUAL} customers at once`);
const createInput = z.object({
  name: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
  description: optionalText,
  kind: z.enum(SEGMENT_KINDS),
  rule: z.custom<SegmentRule>().nullish(),
  customerIds: customerIds.nullish().transform((v) => v ?? []),
});
export type CreateSegmentInput = z.input<typeof createInput>;
export interface UpdateSegmentInput {
  name?: string | null;
  description?: string | null;
  rule?: SegmentRule | null;
}

function invalid(problems: FieldProblem[], message = 'Invalid segment'): never {
  throw new SegmentException('SEGMENT_INVALID_INPUT', message, problems);
}

/**
 * Segments (MKT-2): the one facade the resolvers call, and what other modules ask for members.
 * Membership of dynamic segments follows profile changes (`reevaluate`, called by the profile
 * consumer before it commits), one membership document per (segment, customer) with its
 * `segment.membership-changed` events in the same write.
 */
export class SegmentService {
  private readonly writer: AggregateWriter<SegmentRecord>;
  readonly membershipSerial = new PerKeySerializer();

  constructor(
    private readonly segments: SegmentModel,
    private readonly memberships: SegmentMembershipModel,
    private readonly profiles: CustomerProfiles,
    private readonly relay: OutboxRelay,
  ) {
    this.writer = new AggregateWriter(segments, relay, {
      notFound: (id) => new SegmentException('SEGMENT_NOT_FOUND', `No segment ${id}`),
      conflict: (message) => new SegmentException('SEGMENT_VERSION_CONFLICT', message),
    });
  }

  get serial() {
    return this.writer.serial;
  }

  async create(input: CreateSegmentInput, user: AuthUser): Promise<SegmentRecord> {
    requireRole(user, DESIGNERS);
    const parsed = createInput.safeParse(input);
    const problems: FieldProblem[] = parsed.success ? [] : fieldProblems(parsed.error.issues);
    const kind = parsed.success ? parsed.data.kind : input.kind;
    if (kind === 'DYNAMIC') problems.push(...checkRule(input.rule, 'input.rule'));
    if (kind === 'DYNAMIC' && input.customerIds?.length) problems.push({ field: 'input.customerIds', message: 'A DYNAMIC segment takes its members from the rule' });
    if (kind === 'STATIC' && input.rule) problems.push({ field: 'input.rule', message: 'A STATIC segment has no rule' });
    if (!parsed.success || problems.length) invalid(problems);
    const now = new Date();
    const segment: SegmentRecord = {
      _id: new Types.ObjectId(),
      name: parsed.data.name,
      description: parsed.data.description,
      kind: parsed.data.kind,
      rule: parsed.data.kind === 'DYNAMIC' ? normalizeRule(input.rule!) : null,
      version: 1,
      createdBy: user.id,
      createdAt: now,
      updatedAt: now,
    };
    await this.writer.insert(segment, [segmentStateEvent(SegmentEventType.CREATED, segment, user.id)]);
    if (segment.kind === 'DYNAMIC') await this.recomputeMembers(segment);
    else for (const customerId of parsed.data.customerIds) await this.setMember(segment._id.toHexString(), customerId.toLowerCase(), true, 'MANUAL');
    return segment;
  }

  async update(id: string, expectedVersion: number, input: UpdateSegmentInput, user: AuthUser): Promise<SegmentRecord> {
    requireRole(user, DESIGNERS);
    const name = input.name == null ? undefined : input.name.trim();
    const problems: FieldProblem[] = [];
    if (name !== undefined && (name.length < 1 || name.length > 200)) problems.push({ field: 'input.name', message: '1 to 200 characters' });
    if (input.rule) problems.push(...checkRule(input.rule, 'input.rule'));
    if (problems.length) invalid(problems);
    const updated = await this.writer.mutate(id, expectedVersion, (current) => {
      if (input.rule && current.kind === 'STATIC') throw new SegmentException('SEGMENT_WRONG_KIND', 'A STATIC segment has no rule');
      const changes: Partial<SegmentRecord> = {};
      if (name !== undefined) changes.name = name;
      if (input.description !== undefined) changes.description = input.description?.trim() || null;
      if (input.rule) changes.rule = normalizeRule(input.rule);
      return { changes, events: (next) => [segmentStateEvent(SegmentEventType.UPDATED, next, user.id)] };
    });
    if (input.rule) await this.recomputeMembers(updated);
    return updated;
  }

  async get(id: string, user: AuthUser): Promise<SegmentRecord | null> {
    requireRole(user, SEGMENT_READERS);
    return OBJECT_ID.test(id) ? this.segments.findById(id.toLowerCase()).lean<SegmentRecord>().exec() : null;
  }

  async list(args: PageArgs, user: AuthUser): Promise<Page<SegmentRecord>> {
    requireRole(user, SEGMENT_READERS);
    return paginate(this.segments, {}, args);
  }

  /** The customers a rule matches now, without saving anything. */
  async preview(rule: SegmentRule, user: AuthUser): Promise<{ count: number; sample: string[] }> {
    requireRole(user, DESIGNERS);
    const problems = checkRule(rule);
    if (problems.length) invalid(problems, 'Invalid rule');
    const normalized = normalizeRule(rule);
    const now = new Date();
    let count = 0;
    const sample: string[] = [];
    for await (const profile of this.profiles.active()) {
      if (!matches(normalized, profile, now)) continue;
      count += 1;
      if (sample.length < PREVIEW_SAMPLE) sample.push(profile._id);
    }
    return { count, sample };
  }

  async addMembers(id: string, customers: string[], user: AuthUser): Promise<SegmentRecord> {
    return this.manual(id, customers, true, user);
  }

  async removeMembers(id: string, customers: string[], user: AuthUser): Promise<SegmentRecord> {
    return this.manual(id, customers, false, user);
  }

  private async manual(id: string, customers: string[], member: boolean, user: AuthUser): Promise<SegmentRecord> {
    requireRole(user, DESIGNERS);
    const parsed = customerIds.min(1, 'At least one customer').safeParse(customers);
    if (!parsed.success) invalid(fieldProblems(parsed.error.issues, 'customerIds'));
    const segment = await this.existing(id);
    if (segment.kind !== 'STATIC') throw new SegmentException('SEGMENT_WRONG_KIND', 'Members of a DYNAMIC segment follow its rule');
    for (const customerId of parsed.data) await this.setMember(segment._id.toHexString(), customerId.toLowerCase(), member, 'MANUAL');
    return segment;
  }

  async recompute(id: string, user: AuthUser): Promise<{ segment: SegmentRecord; joined: number; left: number }> {
    requireRole(user, DESIGNERS);
    const segment = await this.existing(id);
    if (segment.kind !== 'DYNAMIC') throw new SegmentException('SEGMENT_WRONG_KIND', 'A STATIC segment has no rule to recompute');
    return { segment, ...(await this.recomputeMembers(segment, 'RECOMPUTED')) };
  }

  /** Current members' customer ids (for campaigns, care plans and surveys); NOT_FOUND for an unknown segment. */
  async membersOf(segmentId: string): Promise<string[]> {
    const segment = await this.existing(segmentId);
    const docs = await this.memberships.find({ segmentId: segment._id.toHexString(), member: true }, { customerId: 1 }).lean().exec();
    return docs.map((d) => d.customerId).sort();
  }

  async memberIds(segment: SegmentRecord, first: number, after: string | null | undefined): Promise<string[]> {
    const size = Math.min(Math.max(first, 1), 1000);
    const filter: Record<string, unknown> = { segmentId: segment._id.toHexString(), member: true };
    if (after) filter.customerId = { $gt: after.toLowerCase() };
    const docs = await this.memberships.find(filter, { customerId: 1 }).sort({ customerId: 1 }).limit(size).lean().exec();
    return docs.map((d) => d.customerId);
  }

  memberCount(segment: SegmentRecord): Promise<number> {
    return this.memberships.countDocuments({ segmentId: segment._id.toHexString(), member: true }).exec();
  }

  /** Ids of the segments a customer is in now (for other modules; no role check). */
  async segmentIdsOfCustomer(customerId: string): Promise<string[]> {
    return (await this.memberships.find({ customerId: customerId.toLowerCase(), member: true }, { segmentId: 1 }).lean().exec()).map((d) => d.segmentId);
  }

  /** Segments a customer is in now (marketing staff only). */
  async ofCustomer(customerId: string, user: AuthUser): Promise<SegmentRecord[]> {
    requireRole(user, SEGMENT_READERS);
    const docs = await this.memberships.find({ customerId: customerId.toLowerCase(), member: true }, { segmentId: 1 }).lean().exec();
    const found = await findByIds<SegmentRecord>(this.segments, docs.map((d) => new Types.ObjectId(d.segmentId)));
    return found.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * After a profile change: each dynamic segment's rule decides again for these customers (no full
   * recompute). Idempotent: a redelivered event finds nothing to change.
   */
  async reevaluate(customers: string[]): Promise<void> {
    const dynamic = await this.segments.find({ kind: 'DYNAMIC' }).lean<SegmentRecord[]>().exec();
    if (dynamic.length === 0) return;
    const now = new Date();
    for (const customerId of customers) {
      const profile = await this.profiles.get(customerId);
      for (const segment of dynamic) {
        const should = profile ? matches(segment.rule!, profile, now) : false;
        await this.setMember(segment._id.toHexString(), customerId, should, 'PROFILE_CHANGED');
      }
    }
  }

  private async recomputeMembers(segment: SegmentRecord, reason: MembershipReason = 'RECOMPUTED'): Promise<{ joined: number; left: number }> {
    const segmentId = segment._id.toHexString();
    const now = new Date();
    const before = new Set((await this.memberships.find({ segmentId, member: true }, { customerId: 1 }).lean().exec()).map((d) => d.customerId));
    let joined = 0;
    let left = 0;
    for await (const profile of this.profiles.active()) {
      const should = matches(segment.rule!, profile, now);
      if (should !== before.has(profile._id) && (await this.setMember(segmentId, profile._id, should, reason))) {
        if (should) joined += 1;
        else left += 1;
      }
      before.delete(profile._id);
    }
    // Members no longer active (deleted, merged away) leave.
    for (const customerId of before) if (await this.setMember(segmentId, customerId, false, reason)) left += 1;
    return { joined, left };
  }

  /** Sets one membership; true when it changed (and its event was written with it). */
  private setMember(segmentId: string, customerId: string, member: boolean, reason: MembershipReason): Promise<boolean> {
    const _id = `${segmentId}:${customerId}`;
    return this.membershipSerial.run(_id, async () => {
      for (;;) {
        const current = await this.memberships.findById(_id).lean<SegmentMembershipRecord>().exec();
        if ((current?.member ?? false) === member) return false;
        const now = new Date();
        const version = (current?.version ?? 0) + 1;
        const event = membershipChanged(segmentId, customerId, member, reason, version, now);
        const fields = { segmentId, customerId, member, since: member ? now : null, version, updatedAt: now };
        try {
          if (!current) await this.memberships.collection.insertOne({ _id, ...fields, [OUTBOX_FIELD]: [event] } as never);
          else {
            const result = await this.memberships.collection.updateOne({ _id, version: current.version } as never, { $set: fields, ...appendEvents([event]) } as never);
            if (result.matchedCount === 0) continue;
          }
        } catch (error) {
          if (isDuplicateKey(error)) continue;
          throw error;
        }
        this.relay.notify(this.memberships, _id);
        return true;
      }
    });
  }

  private async existing(id: string): Promise<SegmentRecord> {
    const segment = OBJECT_ID.test(id) ? await this.segments.findById(id.toLowerCase()).lean<SegmentRecord>().exec() : null;
    if (!segment) throw new SegmentException('SEGMENT_NOT_FOUND', `No segment ${id}`, [{ field: 'segmentId', message: `No segment ${id}` }]);
    return segment;
  }
}
