import { randomBytes } from 'node:crypto';
import { Types } from 'mongoose';
import { z } from 'zod';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems, type FieldProblem } from '@crm/errors';
import { AggregateWriter, PoisonEventError, type CloudEvent, type OutboxRelay } from '@crm/events';
import { moneySchema, type Money } from '@crm/money';
import { paginate, type Page, type PageArgs, isDuplicateKey } from '@crm/mongo';
import { campaignChanged, campaignCreated, CampaignEventType } from './campaign.events.js';
import { CampaignException } from './campaign.errors.js';
import { CAMPAIGN_CHANNELS, CAMPAIGN_STATUSES, CAMPAIGN_TRANSITIONS, type CampaignAttributionModel, type CampaignModel, type CampaignRecord, type CampaignStatus } from './campaign.model.js';

/** Who reads campaigns (admins pass every check). */
const READERS = [Role.MARKETER, Role.SALES_MANAGER, Role.ANALYST] as const;
const CREATORS = [Role.MARKETER] as const;
const OBJECT_ID = /^[0-9a-f]{24}$/i;
const CODE = /^[A-Z0-9][A-Z0-9-]{2,29}$/;
const MAX_MEMBERS = 10_000;
export const CAMPAIGN_ATTRIBUTION_EVENTS = [
  'lead.created', 'lead.updated', 'lead.qualified', 'lead.disqualified', 'lead.converted',
  'order.placed', 'order.updated', 'order.approved', 'order.rejected', 'order.shipped', 'order.delivered', 'order.payment-recorded', 'order.paid', 'order.refunded', 'order.cancelled',
] as const;

const instant = z.date({ error: 'An ISO 8601 instant' }).refine((date) => !Number.isNaN(date.getTime()), 'An ISO 8601 instant');
const ids = (what: string) => z.array(z.string().regex(OBJECT_ID, `Not a ${what} id`).transform((v) => v.toLowerCase())).max(MAX_MEMBERS, `At most ${MAX_MEMBERS}`);
const goal = z.string().trim().max(1000, 'At most 1000 characters').nullish().transform((value) => (value ? value : null));
const code = z
  .string()
  .trim()
  .transform((v) => v.toUpperCase())
  .pipe(z.string().regex(CODE, '3 to 30 of A-Z, 0-9 and -, not starting with -'));

export const createCampaignInput = z
  .object({
    name: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters'),
    goal,
    code: code.nullish(),
    channel: z.enum(CAMPAIGN_CHANNELS),
    channelId: z.string().regex(OBJECT_ID, 'Not a channel id').nullish().transform((v) => v?.toLowerCase() ?? null),
    budget: moneySchema(),
    status: z.enum(CAMPAIGN_STATUSES).nullish().transform((value) => value ?? 'PLANNED'),
    startsAt: instant,
    endsAt: instant,
    participantIds: z.array(z.string().min(1).max(100)).max(100, 'At most 100').nullish().transform((v) => [...new Set(v ?? [])]),
  })
  .superRefine((input, ctx) => {
    if (input.endsAt.getTime() <= input.startsAt.getTime()) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'Must be after startsAt' });
    }
  });
export type CreateCampaignInput = z.input<typeof createCampaignInput>;

const updateCampaignInput = z.object({
  name: z.string().trim().min(1, 'Required').max(200, 'At most 200 characters').nullish(),
  goal: z.string().trim().max(1000, 'At most 1000 characters').nullish(),
  channelId: z.string().regex(OBJECT_ID, 'Not a channel id').nullish(),
  budget: moneySchema().nullish(),
  startsAt: instant.nullish(),
  endsAt: instant.nullish(),
  participantIds: z.array(z.string().min(1).max(100)).max(100, 'At most 100').nullish(),
});
export type UpdateCampaignInput = z.input<typeof updateCampaignInput>;
const membersInput = z.object({ customerIds: ids('customer').nullish().transform((v) => v ?? []), segmentIds: ids('segment').nullish().transform((v) => v ?? []) });
export type CampaignMembersInput = z.input<typeof membersInput>;
const costInput = z.object({ amount: moneySchema(), note: z.string().trim().max(500, 'At most 500 characters').nullish().transform((v) => (v ? v : null)), incurredAt: instant });
export type CampaignCostInput = z.input<typeof costInput>;

const leadData = z.object({ leadId: z.string().regex(OBJECT_ID), campaignCode: z.string().nullish(), status: z.string(), version: z.number().int().nonnegative() });
const orderData = z.object({
  orderId: z.string().regex(OBJECT_ID),
  campaignCode: z.string().nullish(),
  status: z.string(),
  paymentStatus: z.string(),
  totals: z.object({ total: z.object({ amountMinor: z.number().int(), currency: z.string().regex(/^[A-Z]{3}$/) }) }),
  version: z.number().int().nonnegative(),
});

/** What other modules answer for campaigns (wired in app.ts). */
export interface CampaignPorts {
  /** Current members of a segment (NOT_FOUND for an unknown one). */
  segmentMembers(segmentId: string): Promise<string[]>;
  /** Segments a customer is in now. */
  segmentsOfCustomer(customerId: string): Promise<string[]>;
  channelExists(channelId: string): Promise<boolean>;
  /** Survey responses of the campaign's surveys. */
  surveyResponses(campaignId: string): Promise<number>;
}

export interface CampaignRoi {
  currency: string;
  revenue: Money;
  cost: Money;
  /** (revenue − cost) / cost in basis points, rounded; null without cost. */
  roiBasisPoints: number | null;
}

export interface CampaignResults {
  membersReached: number;
  responses: number;
  leads: number;
  convertedLeads: number;
  orders: number;
  revenue: Money[];
  cost: Money[];
  roi: CampaignRoi[];
}

function invalid(issues: Parameters<typeof fieldProblems>[0], prefix = 'input'): never {
  throw new CampaignException('CAMPAIGN_INVALID_INPUT', 'Invalid campaign', fieldProblems(issues, prefix));
}

const sumByCurrency = (amounts: Money[]) => {
  const totals = new Map<string, number>();
  for (const a of amounts) totals.set(a.currency, (totals.get(a.currency) ?? 0) + a.amountMinor);
  return [...totals.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amountMinor]) => ({ amountMinor, currency }));
};

/** ROI per currency in integer arithmetic (BigInt: no rounding drift, no overflow). */
export function roiOf(revenue: Money[], cost: Money[]): CampaignRoi[] {
  const currencies = [...new Set([...revenue, ...cost].map((m) => m.currency))].sort();
  return currencies.map((currency) => {
    const r = revenue.find((m) => m.currency === currency)?.amountMinor ?? 0;
    const c = cost.find((m) => m.currency === currency)?.amountMinor ?? 0;
    let roiBasisPoints: number | null = null;
    if (c > 0) {
      const scaled = (BigInt(r - c) * 10_000n * 2n) / BigInt(c);
      roiBasisPoints = Number(scaled >= 0n ? (scaled + 1n) / 2n : (scaled - 1n) / 2n);
    }
    return { currency, revenue: { amountMinor: r, currency }, cost: { amountMinor: c, currency }, roiBasisPoints };
  });
}

/** The one facade resolvers (and the attribution consumer) call for campaigns (MKT-1). */
export class CampaignService {
  private readonly writer: AggregateWriter<CampaignRecord>;

  constructor(
    private readonly campaigns: CampaignModel,
    private readonly attributions: CampaignAttributionModel,
    relay: OutboxRelay,
    private readonly ports: CampaignPorts,
  ) {
    this.writer = new AggregateWriter(campaigns, relay, {
      notFound: (id) => new CampaignException('CAMPAIGN_NOT_FOUND', `No campaign ${id}`),
      conflict: (message) => new CampaignException('CAMPAIGN_VERSION_CONFLICT', message),
    });
  }

  get serial() {
    return this.writer.serial;
  }

  async create(input: CreateCampaignInput, user: AuthUser): Promise<CampaignRecord> {
    requireRole(user, CREATORS);
    const parsed = createCampaignInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const d = parsed.data;
    if (d.channelId && !(await this.ports.channelExists(d.channelId))) throw new CampaignException('CAMPAIGN_INVALID_INPUT', 'Invalid campaign', [{ field: 'input.channelId', message: 'No such channel' }]);
    const now = new Date();
    const campaign: CampaignRecord = {
      _id: new Types.ObjectId(),
      name: d.name,
      goal: d.goal,
      code: d.code ?? `C-${randomBytes(5).toString('hex').toUpperCase()}`,
      channel: d.channel,
      channelId: d.channelId,
      budget: d.budget,
      status: d.status,
      startsAt: d.startsAt,
      endsAt: d.endsAt,
      ownerId: user.id,
      participantIds: d.participantIds,
      memberCustomerIds: [],
      memberSegmentIds: [],
      costs: [],
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    try {
      return await this.writer.insert(campaign, [campaignCreated(campaign)]);
    } catch (error) {
      if (isDuplicateKey(error)) throw new CampaignException('CAMPAIGN_CODE_TAKEN', `Campaign code ${campaign.code} is taken`, [{ field: 'input.code', message: 'Taken' }]);
      throw error;
    }
  }

  async get(id: string, user: AuthUser): Promise<CampaignRecord | null> {
    requireRole(user, READERS);
    if (!OBJECT_ID.test(id)) return null;
    return this.campaigns.findById(id).lean<CampaignRecord>().exec();
  }

  async list(args: PageArgs, user: AuthUser): Promise<Page<CampaignRecord>> {
    requireRole(user, READERS);
    return paginate(this.campaigns, {}, args);
  }

  async update(id: string, expectedVersion: number, input: UpdateCampaignInput, user: AuthUser): Promise<CampaignRecord> {
    requireRole(user, CREATORS);
    const parsed = updateCampaignInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const d = parsed.data;
    if (d.channelId && !(await this.ports.channelExists(d.channelId))) throw new CampaignException('CAMPAIGN_INVALID_INPUT', 'Invalid campaign', [{ field: 'input.channelId', message: 'No such channel' }]);
    return this.writer.mutate(id, expectedVersion, (current) => {
      this.requireOpen(current);
      const changes: Partial<CampaignRecord> = {};
      if (d.name) changes.name = d.name;
      if (d.goal !== undefined) changes.goal = d.goal || null;
      if (d.channelId !== undefined) changes.channelId = d.channelId?.toLowerCase() ?? null;
      if (d.budget) changes.budget = d.budget;
      if (d.startsAt) changes.startsAt = d.startsAt;
      if (d.endsAt) changes.endsAt = d.endsAt;
      if (d.participantIds) changes.participantIds = [...new Set(d.participantIds)];
      const problems: FieldProblem[] = [];
      if ((changes.endsAt ?? current.endsAt) <= (changes.startsAt ?? current.startsAt)) problems.push({ field: 'input.endsAt', message: 'Must be after startsAt' });
      if (problems.length) throw new CampaignException('CAMPAIGN_INVALID_INPUT', 'Invalid campaign', problems);
      return { changes, events: (next) => [campaignChanged(CampaignEventType.UPDATED, next, user.id)] };
    });
  }

  transition(id: string, expectedVersion: number, to: CampaignStatus, user: AuthUser): Promise<CampaignRecord> {
    requireRole(user, CREATORS);
    const type = { ACTIVE: CampaignEventType.ACTIVATED, COMPLETED: CampaignEventType.COMPLETED, CANCELLED: CampaignEventType.CANCELLED, PLANNED: null }[to];
    return this.writer.mutate(id, expectedVersion, (current) => {
      if (!type || !CAMPAIGN_TRANSITIONS[current.status].includes(to)) {
        throw new CampaignException('CAMPAIGN_ILLEGAL_TRANSITION', `A ${current.status} campaign cannot become ${to}`, [{ field: 'id', message: `Allowed from ${current.status}: ${CAMPAIGN_TRANSITIONS[current.status].join(', ') || 'nothing'}` }]);
      }
      return { changes: { status: to }, events: (next) => [campaignChanged(type, next, user.id)] };
    });
  }

  /** Adds (or removes) customers and segments as members; segments must exist. */
  async changeMembers(id: string, input: CampaignMembersInput, add: boolean, user: AuthUser): Promise<CampaignRecord> {
    requireRole(user, CREATORS);
    const parsed = membersInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues, 'members');
    const d = parsed.data;
    if (add) for (const segmentId of d.segmentIds) await this.ports.segmentMembers(segmentId);
    return this.writer.mutate(id, null, (current) => {
      this.requireOpen(current);
      const customers = new Set(current.memberCustomerIds);
      const segments = new Set(current.memberSegmentIds);
      for (const c of d.customerIds) {
        if (add) customers.add(c);
        else customers.delete(c);
      }
      for (const s of d.segmentIds) {
        if (add) segments.add(s);
        else segments.delete(s);
      }
      if (customers.size > MAX_MEMBERS) throw new CampaignException('CAMPAIGN_INVALID_INPUT', 'Too many members', [{ field: 'members.customerIds', message: `At most ${MAX_MEMBERS} customers; use a segment` }]);
      if (customers.size === current.memberCustomerIds.length && segments.size === current.memberSegmentIds.length && [...customers].every((c) => current.memberCustomerIds.includes(c)) && [...segments].every((s) => current.memberSegmentIds.includes(s))) return null;
      return { changes: { memberCustomerIds: [...customers].sort(), memberSegmentIds: [...segments].sort() }, events: (next) => [campaignChanged(CampaignEventType.MEMBERS_CHANGED, next, user.id)] };
    });
  }

  async recordCost(id: string, input: CampaignCostInput, user: AuthUser): Promise<CampaignRecord> {
    requireRole(user, CREATORS);
    const parsed = costInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const cost = { id: randomBytes(6).toString('hex'), ...parsed.data, recordedBy: user.id };
    return this.writer.mutate(id, null, (current) => {
      if (current.status === 'CANCELLED') throw new CampaignException('CAMPAIGN_CLOSED', 'The campaign was cancelled');
      return { changes: { costs: [...current.costs, cost] }, events: (next) => [campaignChanged(CampaignEventType.COST_RECORDED, next, user.id, { id: cost.id, amount: cost.amount, incurredAt: cost.incurredAt.toISOString() })] };
    });
  }

  /** Customers the campaign reaches now: its customers and the current members of its segments. */
  async memberIds(campaign: CampaignRecord): Promise<string[]> {
    const all = new Set(campaign.memberCustomerIds);
    for (const segmentId of campaign.memberSegmentIds) {
      for (const member of await this.ports.segmentMembers(segmentId).catch(() => [] as string[])) all.add(member);
    }
    return [...all].sort();
  }

  /** Results from events and entries, when read: never typed in. */
  async results(campaign: CampaignRecord): Promise<CampaignResults> {
    const [members, responses, facts] = await Promise.all([
      this.memberIds(campaign),
      this.ports.surveyResponses(campaign._id.toHexString()),
      this.attributions.find({ campaignCode: campaign.code }).lean().exec(),
    ]);
    const leads = facts.filter((f) => f.kind === 'LEAD');
    const orders = facts.filter((f) => f.kind === 'ORDER' && f.counted);
    const revenue = sumByCurrency(orders.map((o) => o.amount!));
    const cost = sumByCurrency((campaign.costs ?? []).map((c) => c.amount));
    return {
      membersReached: members.length,
      responses,
      leads: leads.length,
      convertedLeads: leads.filter((l) => l.status === 'CONVERTED').length,
      orders: orders.length,
      revenue,
      cost,
      roi: roiOf(revenue, cost),
    };
  }

  /** Campaigns a customer is a member of (directly or through a segment). */
  async ofCustomer(customerId: string, user: AuthUser): Promise<CampaignRecord[]> {
    requireRole(user, READERS);
    const id = customerId.toLowerCase();
    const segments = await this.ports.segmentsOfCustomer(id);
    const found = await this.campaigns.find({ $or: [{ memberCustomerIds: id }, ...(segments.length ? [{ memberSegmentIds: { $in: segments } }] : [])] }).lean<CampaignRecord[]>().exec();
    return found.sort((a, b) => b.startsAt.getTime() - a.startsAt.getTime());
  }

  /** Applies one sales lead or order event to the attribution facts (newest version wins; idempotent). */
  async attribute(event: CloudEvent): Promise<void> {
    const isLead = event.type.startsWith('lead.');
    const parsed = isLead ? leadData.safeParse(event.data) : orderData.safeParse(event.data);
    if (!parsed.success) throw new PoisonEventError(`${event.type} ${event.id}: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')} invalid`);
    const data = parsed.data as z.output<typeof leadData> & Partial<z.output<typeof orderData>>;
    const _id = isLead ? `lead:${data.leadId.toLowerCase()}` : `order:${data.orderId!.toLowerCase()}`;
    const campaignCode = data.campaignCode?.trim().toUpperCase() ?? '';
    const existing = await this.attributions.findById(_id).lean().exec();
    if (!campaignCode && !existing) return;
    if (existing && existing.version >= data.version) return;
    const fields = {
      kind: isLead ? 'LEAD' : 'ORDER',
      campaignCode,
      version: data.version,
      status: data.status,
      counted: isLead ? true : data.paymentStatus === 'PAID' && data.status !== 'CANCELLED',
      amount: isLead ? null : { amountMinor: data.totals!.total.amountMinor, currency: data.totals!.total.currency },
      updatedAt: new Date(event.time),
    };
    try {
      await this.attributions.updateOne({ _id, version: { $lt: data.version } }, { $set: fields }, { upsert: true }).exec();
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  private requireOpen(campaign: CampaignRecord): void {
    if (campaign.status === 'COMPLETED' || campaign.status === 'CANCELLED') throw new CampaignException('CAMPAIGN_CLOSED', `The campaign is ${campaign.status}`);
  }
}
