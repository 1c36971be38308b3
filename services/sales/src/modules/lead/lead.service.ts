import { createHash } from 'node:crypto';
import { Types } from 'mongoose';
import { z } from 'zod';
import type { AuthUser } from '@crm/auth';
import { fieldProblems, type FieldProblem } from '@crm/errors';
import { appendEvents, OUTBOX_FIELD, type CloudEvent, type OutboxRelay } from '@crm/events';
import { paginate, PerKeySerializer, type Page, type PageArgs } from '@crm/mongo';
import { isSalesStaff, ownedReadFilter, ownedWriteFilter, ownershipOf } from '../../shared/ownership.js';
import { OpportunityException } from '../opportunity/opportunity.errors.js';
import type { OpportunityRecord } from '../opportunity/opportunity.model.js';
import type { OpportunityService } from '../opportunity/opportunity.service.js';
import type { ConversionOpportunityInput, OpportunityDraft } from '../opportunity/opportunity.validation.js';
import { leadConverted, leadCreated, leadDisqualified, leadQualified, leadUpdated } from './lead.events.js';
import { LeadException } from './lead.errors.js';
import type { LeadContact, LeadModel, LeadRecord, LeadStatus } from './lead.model.js';
import {
  canMoveLead,
  changeStatusInput,
  contactOverridesInput,
  createLeadInput,
  LEAD_TRANSITIONS,
  leadFilterInput,
  updateLeadInput,
  type CreateLeadInput,
  type LeadFilterInput,
  type UpdateLeadInput,
} from './lead.validation.js';

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const NEWEST_FIRST = { field: 'createdAt', direction: -1 } as const;

function invalid(issues: z.core.$ZodIssue[], prefix = 'input'): never {
  throw new LeadException('LEAD_INVALID_INPUT', 'Invalid lead', fieldProblems(issues, prefix));
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A 24-hex id derived from the lead id: the same lead always converts into the same ids. */
function derivedId(kind: string, leadId: string): string {
  return createHash('sha256').update(`crm/sales/lead-conversion/${kind}/${leadId}`).digest('hex').slice(0, 24);
}
/** The id of the customer a lead converts into (the customers service creates it with this id). */
export const customerIdForLead = (leadId: string) => derivedId('customer', leadId);
export const opportunityIdForLead = (leadId: string) => derivedId('opportunity', leadId);

export const convertLeadInput = z
  .object({
    customerId: z
      .string()
      .regex(OBJECT_ID, 'Not a customer id')
      .nullish()
      .transform((v) => v?.toLowerCase() ?? null),
    customerOverrides: contactOverridesInput.nullish().transform((v) => v ?? null),
    opportunity: z.unknown().nullish(),
  })
  .superRefine((input, ctx) => {
    if (input.customerId && input.customerOverrides) ctx.addIssue({ code: 'custom', path: ['customerOverrides'], message: 'Only for a new customer (leave out customerId)' });
  });
export type ConvertLeadInput = { customerId?: string | null; customerOverrides?: Partial<Record<keyof LeadContact, unknown>> | null; opportunity?: ConversionOpportunityInput | null };

export interface LeadListArgs extends PageArgs {
  filter?: LeadFilterInput;
  search?: string | null;
  count?: boolean;
}

export interface LeadConversionResult {
  lead: LeadRecord;
  opportunity: OpportunityRecord | null;
}

/** The one facade resolvers call for leads (SAL-2). */
export class LeadService {
  /** Writes to one lead (or opportunity) one at a time in this process (FerretDB v1); the outbox relay joins it. */
  readonly serial = new PerKeySerializer();

  constructor(
    private readonly leads: LeadModel,
    private readonly opportunities: OpportunityService,
    private readonly relay: OutboxRelay,
  ) {}

  async create(input: CreateLeadInput, user: AuthUser): Promise<LeadRecord> {
    if (!isSalesStaff(user)) throw new LeadException('LEAD_FORBIDDEN', 'Only sales staff and admins create leads');
    const parsed = createLeadInput.safeParse(input);
    if (!parsed.success) invalid(parsed.error.issues);
    const now = new Date();
    const record: LeadRecord = {
      ...parsed.data,
      _id: new Types.ObjectId(),
      status: 'NEW',
      disqualifiedReason: null,
      statusChangedAt: now,
      customerId: null,
      opportunityId: null,
      conversion: null,
      ...ownershipOf(user),
      createdBy: user.id,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    // The record and its event are one insert: both are stored or neither is.
    await this.leads.collection.insertOne({ ...record, [OUTBOX_FIELD]: [leadCreated(record)] } as never);
    this.relay.notify(this.leads, record._id);
    return record;
  }

  /** A lead the caller may read, else null. */
  async get(id: string, user: AuthUser): Promise<LeadRecord | null> {
    const visible = ownedReadFilter(user);
    if (!visible || !OBJECT_ID.test(id)) return null;
    return this.leads.findOne({ $and: [{ _id: new Types.ObjectId(id) }, visible] }).lean<LeadRecord>().exec();
  }

  /** Leads newest first, filtered, and matching `search` in name, company, email or phone digits. */
  async list(args: LeadListArgs, user: AuthUser): Promise<Page<LeadRecord>> {
    const visible = ownedReadFilter(user);
    if (!visible) throw new LeadException('LEAD_FORBIDDEN', 'Your role cannot see leads');
    const filter = leadFilterInput.safeParse(args.filter);
    if (!filter.success) invalid(filter.error.issues, 'filter');
    const f = filter.data ?? {};
    const clauses: Record<string, unknown>[] = [visible];
    if (f.statuses?.length) clauses.push({ status: { $in: f.statuses } });
    if (f.sources?.length) clauses.push({ source: { $in: f.sources } });
    if (f.ownerId) clauses.push({ ownerId: f.ownerId });
    if (f.campaignCode) clauses.push({ campaignCode: f.campaignCode });
    if (f.customerId) clauses.push({ customerId: f.customerId.toLowerCase() });
    if (f.createdAfter || f.createdBefore) {
      clauses.push({ createdAt: { ...(f.createdAfter ? { $gte: f.createdAfter } : {}), ...(f.createdBefore ? { $lt: f.createdBefore } : {}) } });
    }
    if (args.search != null) {
      const search = args.search.trim();
      if (!search || search.length > 100) throw new LeadException('LEAD_INVALID_INPUT', 'Invalid search', [{ field: 'search', message: '1 to 100 characters' }]);
      const pattern = { $regex: escapeRegex(search), $options: 'i' };
      const any: Record<string, unknown>[] = [{ name: pattern }, { company: pattern }, { email: pattern }];
      const digits = search.replace(/[\s()+-]/g, '');
      if (/^\d{3,}$/.test(digits)) any.push({ phones: { $regex: escapeRegex(digits) } });
      clauses.push({ $or: any });
    }
    return paginate(this.leads, { $and: clauses }, args, { sort: NEWEST_FIRST, count: args.count !== false });
  }

  /** Reads a lead the caller may change, or explains why not. */
  private async writable(id: string, user: AuthUser): Promise<LeadRecord> {
    const allowed = ownedWriteFilter(user);
    if (!allowed || !isSalesStaff(user)) throw new LeadException('LEAD_FORBIDDEN', 'Your role cannot change leads');
    if (!OBJECT_ID.test(id)) throw new LeadException('LEAD_NOT_FOUND', `No lead ${id}`);
    const found = await this.leads.findOne({ $and: [{ _id: new Types.ObjectId(id) }, allowed] }).lean<LeadRecord>().exec();
    if (found) return found;
    if (await this.get(id, user)) throw new LeadException('LEAD_FORBIDDEN', 'You may not change this lead');
    throw new LeadException('LEAD_NOT_FOUND', `No lead ${id}`);
  }

  private checkVersion(current: LeadRecord, expectedVersion: number | null | undefined): void {
    if (expectedVersion != null && expectedVersion !== current.version) {
      throw new LeadException('LEAD_VERSION_CONFLICT', `Expected version ${expectedVersion}, found ${current.version}`);
    }
  }

  /**
   * Applies `changes` and their events in one update conditional on the version read: a concurrent
   * change makes it CONFLICT instead of overwriting. Callers run it inside `serial` (FerretDB v1).
   */
  private async commit(current: LeadRecord, changes: Partial<LeadRecord>, events: (next: LeadRecord) => CloudEvent[]): Promise<LeadRecord> {
    const next: LeadRecord = { ...current, ...changes, version: current.version + 1, updatedAt: new Date() };
    const result = await this.leads.collection.updateOne(
      { _id: current._id, version: current.version } as never,
      { $set: { ...changes, version: next.version, updatedAt: next.updatedAt }, ...appendEvents(events(next)) } as never,
    );
    if (result.matchedCount === 0) throw new LeadException('LEAD_VERSION_CONFLICT', 'The lead was changed meanwhile; reload and retry');
    this.relay.notify(this.leads, current._id);
    return next;
  }

  async update(id: string, input: UpdateLeadInput, expectedVersion: number | null | undefined, user: AuthUser): Promise<LeadRecord> {
    return this.serial.run(id.toLowerCase(), async () => {
      const current = await this.writable(id, user);
      this.checkVersion(current, expectedVersion);
      if (current.status === 'CONVERTED') throw new LeadException('LEAD_ALREADY_CONVERTED', 'A converted lead no longer changes; edit its customer and opportunity');
      const parsed = updateLeadInput.safeParse(input);
      if (!parsed.success) invalid(parsed.error.issues);
      const given = Object.keys(input).filter((key) => key in parsed.data) as Array<keyof typeof parsed.data>;
      if (given.length === 0) return current;
      const changes = Object.fromEntries(given.map((key) => [key, parsed.data[key]])) as Partial<LeadRecord>;
      const merged = { ...current, ...changes };
      if (!merged.email && merged.phones.length === 0) {
        throw new LeadException('LEAD_INVALID_INPUT', 'Invalid lead', [{ field: given.includes('email') ? 'input.email' : 'input.phones', message: 'Give an email or a phone number' }]);
      }
      return this.commit(current, changes, (next) => [leadUpdated(next, given.map(String))]);
    });
  }

  /** NEW → CONTACTED → QUALIFIED | DISQUALIFIED (with a reason); see `LEAD_TRANSITIONS`. */
  async changeStatus(id: string, status: LeadStatus, reason: string | null | undefined, expectedVersion: number | null | undefined, user: AuthUser): Promise<LeadRecord> {
    return this.serial.run(id.toLowerCase(), async () => {
      const current = await this.writable(id, user);
      this.checkVersion(current, expectedVersion);
      const parsed = changeStatusInput.safeParse({ status, reason });
      if (!parsed.success) invalid(parsed.error.issues, '');
      if (parsed.data.status === 'CONVERTED') {
        throw new LeadException('LEAD_INVALID_INPUT', 'Use convertLead', [{ field: 'status', message: 'A lead becomes CONVERTED through convertLead' }]);
      }
      if (current.status === 'CONVERTED') throw new LeadException('LEAD_ALREADY_CONVERTED', 'The lead is converted; its status no longer changes');
      if (!canMoveLead(current.status, parsed.data.status)) {
        throw new LeadException('LEAD_STATUS_TRANSITION', `A ${current.status} lead cannot become ${parsed.data.status}`, [
          { field: 'status', message: `From ${current.status} only to ${LEAD_TRANSITIONS[current.status].join(', ') || 'nothing'}` },
        ]);
      }
      const changes: Partial<LeadRecord> = {
        status: parsed.data.status,
        statusChangedAt: new Date(),
        disqualifiedReason: parsed.data.status === 'DISQUALIFIED' ? parsed.data.reason : null,
      };
      return this.commit(current, changes, (next) => {
        if (next.status === 'QUALIFIED') return [leadQualified(next)];
        if (next.status === 'DISQUALIFIED') return [leadDisqualified(next)];
        return [leadUpdated(next, ['status'])];
      });
    });
  }

  /**
   * Converts a QUALIFIED lead in one step (SAL-2): into a new customer (id derived from the lead id;
   * the customers service creates it from `lead.converted`) or an existing one (`customerId`), and
   * optionally an opportunity for that customer. One conditional write marks the lead CONVERTED with
   * the customer and opportunity ids and `lead.converted`; the opportunity (with a derived id) is
   * inserted next. A second conversion is CONFLICT, unless the first stopped between the two writes:
   * then the retry creates the opportunity the lead recorded.
   */
  async convert(id: string, input: ConvertLeadInput, expectedVersion: number | null | undefined, user: AuthUser): Promise<LeadConversionResult> {
    return this.serial.run(id.toLowerCase(), async () => {
      const current = await this.writable(id, user);
      if (current.status === 'CONVERTED') return this.finishConversion(current, user);
      this.checkVersion(current, expectedVersion);
      if (current.status !== 'QUALIFIED') {
        throw new LeadException('LEAD_STATUS_TRANSITION', `A ${current.status} lead cannot be converted; qualify it first`, [{ field: 'id', message: 'Only QUALIFIED leads convert' }]);
      }
      const problems: FieldProblem[] = [];
      const parsed = convertLeadInput.safeParse(input ?? {});
      if (!parsed.success) problems.push(...fieldProblems(parsed.error.issues));
      let draft: OpportunityDraft | null = null;
      if (input?.opportunity) {
        try {
          draft = await this.opportunities.draft(input.opportunity, 'input.opportunity');
          draft = { ...draft, campaignCode: draft.campaignCode ?? current.campaignCode };
        } catch (error) {
          if (!(error instanceof OpportunityException) || error.reason !== 'OPPORTUNITY_INVALID_INPUT') throw error;
          problems.push(...error.fields);
        }
      }
      if (!parsed.success || problems.length > 0) throw new LeadException('LEAD_INVALID_INPUT', 'Invalid conversion', problems);
      const leadId = current._id.toHexString();
      const newCustomer = !parsed.data.customerId;
      const overrides = (parsed.data.customerOverrides ?? {}) as Partial<LeadContact>;
      const pick = <K extends keyof LeadContact>(key: K): LeadContact[K] => (key in overrides ? (overrides[key] as LeadContact[K]) : current[key]);
      const at = new Date();
      const conversion = {
        at,
        by: user.id,
        customerId: parsed.data.customerId ?? customerIdForLead(leadId),
        newCustomer,
        contact: newCustomer ? { name: pick('name'), email: pick('email'), phones: pick('phones') ?? [], company: pick('company') } : null,
        opportunityId: draft ? opportunityIdForLead(leadId) : null,
        opportunity: draft,
      };
      const converted = await this.commit(
        current,
        { status: 'CONVERTED', statusChangedAt: at, customerId: conversion.customerId, opportunityId: conversion.opportunityId, conversion },
        (next) => [leadConverted(next)],
      );
      return { lead: converted, opportunity: await this.createOpportunity(converted) };
    });
  }

  /** A converted lead: creates its opportunity if the conversion stopped before it, else CONFLICT. */
  private async finishConversion(lead: LeadRecord, user: AuthUser): Promise<LeadConversionResult> {
    const { opportunityId } = lead;
    if (opportunityId && lead.conversion?.opportunity && !(await this.opportunities.exists(opportunityId))) {
      return { lead, opportunity: await this.createOpportunity(lead) };
    }
    throw new LeadException('LEAD_ALREADY_CONVERTED', `Lead ${lead._id.toHexString()} is already converted (customer ${lead.customerId})`, [
      { field: 'id', message: `Converted by ${lead.conversion?.by === user.id ? 'you' : 'someone else'} at ${lead.conversion?.at.toISOString()}` },
    ]);
  }

  /** The opportunity a conversion recorded, owned like the lead (idempotent: its id is derived). */
  private async createOpportunity(lead: LeadRecord): Promise<OpportunityRecord | null> {
    const conversion = lead.conversion!;
    if (!conversion.opportunity || !conversion.opportunityId) return null;
    const { record } = await this.opportunities.insert(conversion.opportunity, {
      id: new Types.ObjectId(conversion.opportunityId),
      customerId: conversion.customerId,
      leadId: lead._id.toHexString(),
      ownership: { ownerId: lead.ownerId, department: lead.department, ownerTeams: lead.ownerTeams },
      createdBy: conversion.by,
    });
    return record;
  }

  /** A customer's leads the caller may see (Customer.leads). */
  forCustomer(customerId: string, args: LeadListArgs, user: AuthUser): Promise<Page<LeadRecord>> {
    return this.list({ ...args, filter: { ...args.filter, customerId } }, user);
  }

  /**
   * customer.merged: every lead converted into `fromId` now points at `toId`, each with its
   * `lead.updated` event (changed: customerId). Idempotent: a redelivery finds none left.
   */
  async repointCustomer(fromId: string, toId: string): Promise<number> {
    const ids = (await this.leads.find({ customerId: fromId }, { _id: 1 }).lean<Array<{ _id: Types.ObjectId }>>().exec()).map((doc) => doc._id);
    let moved = 0;
    for (const id of ids) {
      moved += await this.serial.run(id.toHexString(), async () => {
        for (let attempt = 0; attempt < 5; attempt += 1) {
          const current = await this.leads.findOne({ _id: id, customerId: fromId }).lean<LeadRecord>().exec();
          if (!current) return 0;
          try {
            await this.commit(current, { customerId: toId }, (next) => [leadUpdated(next, ['customerId'])]);
            return 1;
          } catch (error) {
            if (!(error instanceof LeadException) || error.reason !== 'LEAD_VERSION_CONFLICT') throw error;
          }
        }
        throw new Error(`Lead ${id.toHexString()} kept changing while re-pointing its customer`);
      });
    }
    return moved;
  }
}
