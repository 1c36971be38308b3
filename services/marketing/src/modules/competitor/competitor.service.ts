import { Types } from 'mongoose';
import { z } from 'zod';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { AggregateWriter, PoisonEventError, type CloudEvent, type OutboxRelay } from '@crm/events';
import type { Money } from '@crm/money';
import { isDuplicateKey } from '@crm/mongo';
import { CompetitorEventType, competitorEvent } from './competitor.events.js';
import { CompetitorException } from './competitor.errors.js';
import type { CompetitorModel, CompetitorOpportunityModel, CompetitorOpportunityRecord, CompetitorRecord } from './competitor.model.js';

const DESIGNERS = [Role.MARKETER] as const;
const READERS = [Role.MARKETER, Role.SALES_MANAGER, Role.SALES_REP, Role.ANALYST] as const;
export const COMPETITOR_OPPORTUNITY_EVENTS = ['opportunity.created', 'opportunity.updated', 'opportunity.stage-changed', 'opportunity.won', 'opportunity.lost'] as const;

const text = (max: number) => z.string().trim().max(max, `At most ${max} characters`).nullish().transform((v) => (v ? v : null));
const name = z.string().trim().min(1, 'Required').max(100, 'At most 100 characters');
const aliases = z.array(z.string().trim().min(1, 'Must not be empty').max(100, 'At most 100 characters')).max(20, 'At most 20 aliases');
const createInput = z.object({ name, aliases: aliases.nullish().transform((v) => v ?? []), website: text(300), strengths: text(2000), weaknesses: text(2000), notes: text(2000) });
const updateInput = z.object({ name: name.nullish(), aliases: aliases.nullish(), website: text(300).optional(), strengths: text(2000).optional(), weaknesses: text(2000).optional(), notes: text(2000).optional() });
export type CreateCompetitorInput = z.input<typeof createInput>;
export type UpdateCompetitorInput = z.input<typeof updateInput>;

const opportunityData = z.object({
  opportunityId: z.string().regex(/^[0-9a-f]{24}$/i),
  status: z.enum(['OPEN', 'WON', 'LOST']),
  amount: z.object({ amountMinor: z.number().int(), currency: z.string().regex(/^[A-Z]{3}$/) }),
  competitors: z.array(z.string()).nullish().transform((v) => v ?? []),
  version: z.number().int().nonnegative(),
});

const keyOf = (value: string) => value.trim().toLowerCase();
const keysOf = (name: string, aliases: string[]) => [...new Set([name, ...aliases].map(keyOf))];

export interface CompetitorStats {
  opportunities: number;
  open: number;
  won: number;
  lost: number;
  winRateBasisPoints: number | null;
  wonAmount: Money[];
  lostAmount: Money[];
}

/** Win/loss of the opportunities that named a competitor (pure). */
export function statsOf(facts: Pick<CompetitorOpportunityRecord, 'status' | 'amount'>[]): CompetitorStats {
  const sum = (status: string) => {
    const totals = new Map<string, number>();
    for (const f of facts) if (f.status === status) totals.set(f.amount.currency, (totals.get(f.amount.currency) ?? 0) + f.amount.amountMinor);
    return [...totals.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amountMinor]) => ({ amountMinor, currency }));
  };
  const count = (status: string) => facts.filter((f) => f.status === status).length;
  const [won, lost] = [count('WON'), count('LOST')];
  return { opportunities: facts.length, open: count('OPEN'), won, lost, winRateBasisPoints: won + lost ? Math.round((won * 10_000) / (won + lost)) : null, wonAmount: sum('WON'), lostAmount: sum('LOST') };
}

/** Competitors (MKT-4) and the opportunities that named them: the one facade resolvers and the consumer call. */
export class CompetitorService {
  private readonly writer: AggregateWriter<CompetitorRecord>;

  constructor(
    private readonly competitors: CompetitorModel,
    private readonly opportunities: CompetitorOpportunityModel,
    relay: OutboxRelay,
  ) {
    this.writer = new AggregateWriter(competitors, relay, {
      notFound: (id) => new CompetitorException('COMPETITOR_NOT_FOUND', `No competitor ${id}`),
      conflict: (message) => new CompetitorException('COMPETITOR_VERSION_CONFLICT', message),
    });
  }

  get serial() {
    return this.writer.serial;
  }

  async create(input: CreateCompetitorInput, user: AuthUser): Promise<CompetitorRecord> {
    requireRole(user, DESIGNERS);
    const parsed = createInput.safeParse(input);
    if (!parsed.success) throw new CompetitorException('COMPETITOR_INVALID_INPUT', 'Invalid competitor', fieldProblems(parsed.error.issues));
    const keys = keysOf(parsed.data.name, parsed.data.aliases);
    await this.requireFreeKeys(keys, null);
    const now = new Date();
    const competitor: CompetitorRecord = { _id: new Types.ObjectId(), ...parsed.data, keys, version: 1, createdBy: user.id, createdAt: now, updatedAt: now };
    return this.writer.insert(competitor, [competitorEvent(CompetitorEventType.CREATED, competitor, user.id)]);
  }

  async update(id: string, expectedVersion: number, input: UpdateCompetitorInput, user: AuthUser): Promise<CompetitorRecord> {
    requireRole(user, DESIGNERS);
    const parsed = updateInput.safeParse(input);
    if (!parsed.success) throw new CompetitorException('COMPETITOR_INVALID_INPUT', 'Invalid competitor', fieldProblems(parsed.error.issues));
    const d = parsed.data;
    return this.writer.mutate(id, expectedVersion, async (current) => {
      const changes: Partial<CompetitorRecord> = {};
      if (d.name) changes.name = d.name;
      if (d.aliases) changes.aliases = d.aliases;
      for (const field of ['website', 'strengths', 'weaknesses', 'notes'] as const) if (d[field] !== undefined) changes[field] = d[field];
      changes.keys = keysOf(changes.name ?? current.name, changes.aliases ?? current.aliases);
      await this.requireFreeKeys(changes.keys, current._id);
      return { changes, events: (next) => [competitorEvent(CompetitorEventType.UPDATED, next, user.id)] };
    });
  }

  /** Names and aliases identify a competitor: no two share one (checked on write; concurrent creates of one name can still race). */
  private async requireFreeKeys(keys: string[], self: Types.ObjectId | null): Promise<void> {
    const clash = await this.competitors.findOne({ keys: { $in: keys }, ...(self ? { _id: { $ne: self } } : {}) }).lean<CompetitorRecord>().exec();
    if (clash) {
      const taken = keys.filter((k) => clash.keys.includes(k));
      throw new CompetitorException('COMPETITOR_NAME_TAKEN', `${taken.join(', ')} already names ${clash.name}`, [{ field: 'input.name', message: `Already names ${clash.name}` }]);
    }
  }

  async get(id: string, user: AuthUser): Promise<CompetitorRecord | null> {
    requireRole(user, READERS);
    return /^[0-9a-f]{24}$/i.test(id) ? this.competitors.findById(id.toLowerCase()).lean<CompetitorRecord>().exec() : null;
  }

  async list(user: AuthUser): Promise<CompetitorRecord[]> {
    requireRole(user, READERS);
    return (await this.competitors.find({}).lean<CompetitorRecord[]>().exec()).sort((a, b) => a.name.localeCompare(b.name));
  }

  private linked(competitor: CompetitorRecord) {
    return this.opportunities.find({ competitorKeys: { $in: competitor.keys } }).lean<CompetitorOpportunityRecord[]>().exec();
  }

  async stats(competitor: CompetitorRecord): Promise<CompetitorStats> {
    return statsOf(await this.linked(competitor));
  }

  async opportunityIds(competitor: CompetitorRecord): Promise<string[]> {
    return (await this.linked(competitor))
      .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())
      .slice(0, 100)
      .map((f) => f._id);
  }

  /** Applies one opportunity event (newest version wins; idempotent). */
  async apply(event: CloudEvent): Promise<void> {
    const parsed = opportunityData.safeParse(event.data);
    if (!parsed.success) throw new PoisonEventError(`${event.type} ${event.id}: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')} invalid`);
    const o = parsed.data;
    const _id = o.opportunityId.toLowerCase();
    const fields = { competitorKeys: [...new Set(o.competitors.map(keyOf).filter(Boolean))], status: o.status, amount: o.amount, version: o.version, updatedAt: new Date(event.time) };
    try {
      await this.opportunities.updateOne({ _id, version: { $lt: o.version } }, { $set: fields }, { upsert: true }).exec();
    } catch (error) {
      // A newer (or the same) version is stored: the filter missed and the upsert collided on _id.
      if (!isDuplicateKey(error)) throw error;
    }
  }
}
