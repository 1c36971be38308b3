import { Types } from 'mongoose';
import { z } from 'zod';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { fieldProblems } from '@crm/errors';
import { AggregateWriter, type OutboxRelay } from '@crm/events';
import { moneySchema, type Money } from '@crm/money';
import { isDuplicateKey } from '@crm/mongo';
import { ChannelEventType, channelEvent } from './channel.events.js';
import { ChannelException } from './channel.errors.js';
import { CHANNEL_KINDS, type ChannelModel, type ChannelRecord } from './channel.model.js';

const DESIGNERS = [Role.MARKETER] as const;
export const CHANNEL_READERS = [Role.MARKETER, Role.SALES_MANAGER, Role.ANALYST] as const;

const name = z.string().trim().min(1, 'Required').max(100, 'At most 100 characters');
const description = z.string().trim().max(1000, 'At most 1000 characters').nullish().transform((v) => (v ? v : null));
const createInput = z.object({ name, kind: z.enum(CHANNEL_KINDS), description });
const updateInput = z.object({ name: name.nullish(), description: z.string().trim().max(1000, 'At most 1000 characters').nullish(), active: z.boolean().nullish() });
const costInput = z.object({
  period: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'A month as YYYY-MM')
    .refine((p) => p >= '2000-01' && p <= '2100-12', 'Between 2000-01 and 2100-12'),
  amount: moneySchema(),
  note: z.string().trim().max(500, 'At most 500 characters').nullish().transform((v) => (v ? v : null)),
});
export type CreateChannelInput = z.input<typeof createInput>;
export type UpdateChannelInput = z.input<typeof updateInput>;
export type ChannelCostInput = z.input<typeof costInput>;

/** Sum of the costs per currency (integer minor units), by currency code. */
export function totalCost(channel: ChannelRecord): Money[] {
  const sums = new Map<string, number>();
  for (const cost of channel.costs) sums.set(cost.amount.currency, (sums.get(cost.amount.currency) ?? 0) + cost.amount.amountMinor);
  return [...sums.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amountMinor]) => ({ amountMinor, currency }));
}

/** Marketing channels and their monthly costs (MKT-4): the one facade the resolvers call. */
export class ChannelService {
  private readonly writer: AggregateWriter<ChannelRecord>;

  constructor(
    private readonly channels: ChannelModel,
    relay: OutboxRelay,
  ) {
    this.writer = new AggregateWriter(channels, relay, {
      notFound: (id) => new ChannelException('CHANNEL_NOT_FOUND', `No channel ${id}`),
      conflict: (message) => new ChannelException('CHANNEL_VERSION_CONFLICT', message),
    });
  }

  get serial() {
    return this.writer.serial;
  }

  async create(input: CreateChannelInput, user: AuthUser): Promise<ChannelRecord> {
    requireRole(user, DESIGNERS);
    const parsed = createInput.safeParse(input);
    if (!parsed.success) throw new ChannelException('CHANNEL_INVALID_INPUT', 'Invalid channel', fieldProblems(parsed.error.issues));
    const now = new Date();
    const channel: ChannelRecord = { _id: new Types.ObjectId(), ...parsed.data, nameKey: parsed.data.name.toLowerCase(), active: true, costs: [], version: 1, createdBy: user.id, createdAt: now, updatedAt: now };
    try {
      return await this.writer.insert(channel, [channelEvent(ChannelEventType.CREATED, channel, user.id)]);
    } catch (error) {
      if (isDuplicateKey(error)) throw new ChannelException('CHANNEL_NAME_TAKEN', `A channel named ${channel.name} exists`, [{ field: 'input.name', message: 'Taken' }]);
      throw error;
    }
  }

  async update(id: string, expectedVersion: number, input: UpdateChannelInput, user: AuthUser): Promise<ChannelRecord> {
    requireRole(user, DESIGNERS);
    const parsed = updateInput.safeParse(input);
    if (!parsed.success) throw new ChannelException('CHANNEL_INVALID_INPUT', 'Invalid channel', fieldProblems(parsed.error.issues));
    const d = parsed.data;
    try {
      return await this.writer.mutate(id, expectedVersion, () => {
        const changes: Partial<ChannelRecord> = {};
        if (d.name) Object.assign(changes, { name: d.name, nameKey: d.name.toLowerCase() });
        if (d.description !== undefined) changes.description = d.description || null;
        if (d.active != null) changes.active = d.active;
        return { changes, events: (next) => [channelEvent(ChannelEventType.UPDATED, next, user.id)] };
      });
    } catch (error) {
      if (isDuplicateKey(error)) throw new ChannelException('CHANNEL_NAME_TAKEN', `A channel named ${d.name} exists`, [{ field: 'input.name', message: 'Taken' }]);
      throw error;
    }
  }

  /** Records a month's cost; recording the same month and currency again replaces it (a correction). */
  async recordCost(id: string, input: ChannelCostInput, user: AuthUser): Promise<ChannelRecord> {
    requireRole(user, DESIGNERS);
    const parsed = costInput.safeParse(input);
    if (!parsed.success) throw new ChannelException('CHANNEL_INVALID_INPUT', 'Invalid cost', fieldProblems(parsed.error.issues));
    const cost = { ...parsed.data, recordedBy: user.id, recordedAt: new Date() };
    return this.writer.mutate(id, null, (current) => {
      const costs = [...current.costs.filter((c) => !(c.period === cost.period && c.amount.currency === cost.amount.currency)), cost].sort((a, b) => a.period.localeCompare(b.period) || a.amount.currency.localeCompare(b.amount.currency));
      return { changes: { costs }, events: (next) => [channelEvent(ChannelEventType.COST_RECORDED, next, user.id, { period: cost.period, amount: cost.amount })] };
    });
  }

  async get(id: string, user: AuthUser): Promise<ChannelRecord | null> {
    requireRole(user, CHANNEL_READERS);
    return /^[0-9a-f]{24}$/i.test(id) ? this.channels.findById(id.toLowerCase()).lean<ChannelRecord>().exec() : null;
  }

  /** Whether a channel exists (for other modules; no role check). */
  async exists(id: string): Promise<boolean> {
    return /^[0-9a-f]{24}$/i.test(id) && (await this.channels.countDocuments({ _id: id.toLowerCase() }).exec()) > 0;
  }

  async list(includeInactive: boolean, user: AuthUser): Promise<ChannelRecord[]> {
    requireRole(user, CHANNEL_READERS);
    const all = await this.channels.find(includeInactive ? {} : { active: true }).lean<ChannelRecord[]>().exec();
    return all.sort((a, b) => a.nameKey.localeCompare(b.nameKey));
  }
}
