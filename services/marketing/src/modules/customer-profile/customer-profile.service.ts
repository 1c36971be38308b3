import type { Model } from 'mongoose';
import { z } from 'zod';
import { PoisonEventError, type CloudEvent } from '@crm/events';
import { PerKeySerializer, isDuplicateKey } from '@crm/mongo';
import type { CustomerProfileModel, CustomerProfileRecord, OrderFactModel, SpendEntry, TicketFactModel } from './customer-profile.model.js';

export const CUSTOMER_PROFILE_CUSTOMER_EVENTS = ['customer.created', 'customer.updated', 'customer.restored', 'customer.deleted', 'customer.merged', 'customer.erased'] as const;
/** Every order event carries the whole order (status, payment, totals, version): each one is applied. */
export const CUSTOMER_PROFILE_ORDER_EVENTS = [
  'order.placed',
  'order.updated',
  'order.approved',
  'order.rejected',
  'order.shipped',
  'order.delivered',
  'order.payment-recorded',
  'order.paid',
  'order.refunded',
  'order.cancelled',
] as const;

/** The service desk's ticket events (each carries the ticket's status, type, customer and version). */
export const CUSTOMER_PROFILE_TICKET_EVENTS = ['ticket.opened', 'ticket.assigned', 'ticket.status-changed', 'ticket.resolved', 'ticket.closed', 'ticket.reopened', 'ticket.updated'] as const;
const CLOSED_TICKET = ['RESOLVED', 'CLOSED'];

const OBJECT_ID = /^[0-9a-f]{24}$/i;
const id = z.string().regex(OBJECT_ID).transform((v) => v.toLowerCase());
const text = z.string().nullish().transform((v) => v ?? null);
const snapshot = z.object({
  customerId: id,
  name: z.string(),
  lifecycleStage: text,
  level: text,
  source: text,
  tags: z.array(z.string()).nullish().transform((v) => v ?? []),
  gender: text,
  birthday: text,
  country: text,
  province: text,
  city: text,
  portalUserId: text,
  version: z.number().int().nonnegative(),
});
const deleted = z.object({ customerId: id, version: z.number().int().nonnegative() });
const merged = snapshot.extend({ mergedId: id });
const orderData = z.object({
  orderId: id,
  customerId: id,
  status: z.string(),
  paymentStatus: z.string(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  totals: z.object({ total: z.object({ amountMinor: z.number().int(), currency: z.string() }) }),
  version: z.number().int().nonnegative(),
});

const ticketData = z.object({ ticketId: id, customerId: id, type: z.string(), status: z.string(), version: z.number().int().nonnegative() });

function parse<T>(schema: z.ZodType<T>, event: CloudEvent): T {
  const parsed = schema.safeParse(event.data);
  if (!parsed.success) throw new PoisonEventError(`${event.type} ${event.id}: ${parsed.error.issues.map((i) => i.path.join('.') || '(data)').join(', ')} invalid`);
  return parsed.data;
}

/** Which customer a signed-in self-service account is (`byPortalUser`), for modules that let customers act for themselves. */
export type PortalCustomer = (userId: string) => Promise<string | null>;

/** Value tiers: the highest threshold (minor units of `currency`) the customer's spend reached. */
export interface ValueTierPolicy {
  currency: string;
  /** Ascending by threshold. */
  tiers: Array<{ name: string; minMinor: number }>;
}

export function valueTierOf(spend: SpendEntry[], policy: ValueTierPolicy): string {
  const amount = spend.find((s) => s.currency === policy.currency)?.amountMinor ?? 0;
  let tier = 'NONE';
  for (const t of policy.tiers) if (amount >= t.minMinor) tier = t.name;
  return tier;
}

/** Whole years from `YYYY-MM-DD` to `now` (UTC calendar), or null. */
export function ageOn(birthday: string | null, now: Date): number | null {
  const m = birthday ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthday) : null;
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < mo || (now.getUTCMonth() + 1 === mo && now.getUTCDate() < d)) age -= 1;
  return age >= 0 ? age : null;
}

/**
 * A stored profile with every field present: an upsert's `$setOnInsert` of empty arrays and nulls
 * did not always reach the document on FerretDB v1 (a profile created by a customer event lacked
 * `spend`), so readers never rely on it.
 */
function withDefaults(profile: CustomerProfileRecord | null): CustomerProfileRecord | null {
  if (!profile) return null;
  return {
    ...profile,
    name: profile.name ?? '',
    tags: profile.tags ?? [],
    spend: profile.spend ?? [],
    paidOrderCount: profile.paidOrderCount ?? 0,
    lastOrderAt: profile.lastOrderAt ?? null,
    valueTier: profile.valueTier ?? 'NONE',
    openTickets: profile.openTickets ?? 0,
    openComplaints: profile.openComplaints ?? 0,
    deleted: profile.deleted ?? false,
    mergedInto: profile.mergedInto ?? null,
    customerVersion: profile.customerVersion ?? 0,
  };
}

/** A per-order or per-ticket fact kept by its newest version. */
interface VersionedFact {
  _id: string;
  customerId: string;
  version: number;
}

/**
 * Stores a fact unless the stored one is as new: an insert, or an update conditional on the version
 * read; a lost race is decided again. Returns the customers whose figures may change (the fact's, and
 * the one it belonged to before a reassignment such as a merge), none when nothing was stored.
 */
async function keepNewest<F extends VersionedFact>(model: Model<F>, id: string, version: number, fieldsOf: (previous: F | null) => Omit<F, '_id'>): Promise<string[]> {
  for (;;) {
    const previous = await model.findById(id).lean<F>().exec();
    if (previous && previous.version >= version) return [];
    const fact = fieldsOf(previous);
    if (previous) {
      const result = await model.updateOne({ _id: id, version: previous.version } as never, { $set: fact } as never).exec();
      if (result.matchedCount === 0) continue;
    } else {
      try {
        await model.collection.insertOne({ _id: id, ...fact } as never);
      } catch (error) {
        if (isDuplicateKey(error)) continue;
        throw error;
      }
    }
    return [...new Set([fact.customerId, ...(previous && previous.customerId !== fact.customerId ? [previous.customerId] : [])])];
  }
}

/**
 * Customer profiles (MKT-2): kept from `customer.*` (who they are) and `order.*` (how they buy) events.
 * Customer fields move only forward in the customer's version; each order counts by its newest
 * version, and a customer's behaviour is summed again from its orders whenever one changes, so
 * replays, duplicates and out-of-order events give the same profile.
 */
export class CustomerProfiles {
  private readonly serial = new PerKeySerializer();

  constructor(
    private readonly profiles: CustomerProfileModel,
    private readonly orderFacts: OrderFactModel,
    private readonly tierPolicy: ValueTierPolicy,
    private readonly ticketFacts: TicketFactModel,
  ) {}

  async get(customerId: string): Promise<CustomerProfileRecord | null> {
    if (!OBJECT_ID.test(customerId)) return null;
    return withDefaults(await this.profiles.findById(customerId.toLowerCase()).lean<CustomerProfileRecord>().exec());
  }

  /** Active profiles (not deleted, not merged away), in id order, `batch` at a time. */
  async *active(batch = 500): AsyncGenerator<CustomerProfileRecord> {
    let after = '';
    for (;;) {
      const page = await this.profiles.find({ _id: { $gt: after }, deleted: { $ne: true }, mergedInto: null }).sort({ _id: 1 }).limit(batch).lean<CustomerProfileRecord[]>().exec();
      for (const profile of page) yield withDefaults(profile)!;
      if (page.length < batch) return;
      after = page[page.length - 1]!._id;
    }
  }

  /** Active customers whose birthday falls on `MM-DD` (29 February birthdays count on 28 February in other years). */
  async birthdaysOn(monthDay: string, year: number): Promise<CustomerProfileRecord[]> {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const found: CustomerProfileRecord[] = [];
    for await (const profile of this.active()) {
      const md = profile.birthday?.slice(5);
      if (md === monthDay || (!leap && monthDay === '02-28' && md === '02-29')) found.push(profile);
    }
    return found;
  }

  async byPortalUser(userId: string): Promise<CustomerProfileRecord | null> {
    return withDefaults(await this.profiles.findOne({ portalUserId: userId, deleted: false, mergedInto: null }).lean<CustomerProfileRecord>().exec());
  }

  private readonly erasers: Array<(customerId: string) => Promise<unknown>> = [];

  /** Other marketing modules erase their records of a person here (messages, survey answers, consents); idempotent. */
  onErase(erase: (customerId: string) => Promise<unknown>): void {
    this.erasers.push(erase);
  }

  /** Applies one event; returns the customers whose profile may have changed. */
  async apply(event: CloudEvent): Promise<string[]> {
    if (event.type.startsWith('order.')) return this.applyOrder(event);
    if (event.type.startsWith('ticket.')) return this.applyTicket(event);
    switch (event.type) {
      case 'customer.deleted': {
        const d = parse(deleted, event);
        await this.setCustomer(d.customerId, d.version, { deleted: true });
        return [d.customerId];
      }
      case 'customer.erased': {
        // Right to erasure: the person's details go; spend, orders and tickets (figures) stay. The
        // newest version, so a replay of older snapshots cannot bring them back.
        const d = parse(deleted, event);
        await this.setCustomer(d.customerId, d.version, { name: 'Erased customer', gender: null, birthday: null, country: null, province: null, city: null, tags: [], source: null, portalUserId: null });
        await Promise.all(this.erasers.map((erase) => erase(d.customerId)));
        return [d.customerId];
      }
      case 'customer.merged': {
        const m = parse(merged, event);
        if (m.mergedId === m.customerId) throw new PoisonEventError(`customer.merged ${event.id} merges a customer into itself`);
        await this.setCustomer(m.customerId, m.version, this.fieldsOf(m));
        // The merged customer's own version is unknown here: it is gone for good, whatever comes later.
        await this.serial.run(m.mergedId, () =>
          this.profiles.updateOne({ _id: m.mergedId }, { $set: { mergedInto: m.customerId, deleted: true, updatedAt: new Date() }, $setOnInsert: { name: m.name } }, { upsert: true }).exec(),
        );
        return [m.customerId, m.mergedId];
      }
      default: {
        const s = parse(snapshot, event);
        await this.setCustomer(s.customerId, s.version, this.fieldsOf(s));
        return [s.customerId];
      }
    }
  }

  private fieldsOf(s: z.output<typeof snapshot>): Partial<CustomerProfileRecord> {
    const { customerId: _id, version: _v, ...fields } = s;
    return { ...fields, deleted: false };
  }

  private setCustomer(customerId: string, version: number, fields: Partial<CustomerProfileRecord>): Promise<void> {
    return this.serial.run(customerId, async () => {
      try {
        await this.profiles
          .updateOne(
            { _id: customerId, customerVersion: { $lt: version } },
            { $set: { ...fields, customerVersion: version, updatedAt: new Date() }, $setOnInsert: { spend: [], paidOrderCount: 0, lastOrderAt: null, valueTier: 'NONE', mergedInto: null } },
            { upsert: true },
          )
          .exec();
      } catch (error) {
        // A newer (or the same) version is stored: the filter missed and the upsert collided on _id.
        if (!isDuplicateKey(error)) throw error;
      }
    });
  }

  private async applyOrder(event: CloudEvent): Promise<string[]> {
    const o = parse(orderData, event);
    const counted = o.paymentStatus === 'PAID' && o.status !== 'CANCELLED';
    const at = new Date(event.time);
    const affected = await keepNewest(this.orderFacts, o.orderId, o.version, (previous) => ({
      customerId: o.customerId,
      version: o.version,
      currency: o.currency,
      amountMinor: o.totals.total.amountMinor,
      counted,
      paidAt: counted ? (previous?.paidAt ?? at) : (previous?.paidAt ?? null),
    }));
    for (const customerId of affected) await this.recomputeBehaviour(customerId);
    return affected;
  }

  private async applyTicket(event: CloudEvent): Promise<string[]> {
    const t = parse(ticketData, event);
    const affected = await keepNewest(this.ticketFacts, t.ticketId, t.version, () => ({ customerId: t.customerId, version: t.version, type: t.type, open: !CLOSED_TICKET.includes(t.status) }));
    for (const customerId of affected) {
      await this.serial.run(customerId, async () => {
        const open = (await this.ticketFacts.find({ customerId }).lean().exec()).filter((f) => f.open);
        await this.profiles
          .updateOne({ _id: customerId }, { $set: { openTickets: open.length, openComplaints: open.filter((f) => f.type === 'COMPLAINT').length, updatedAt: new Date() } }, { upsert: true })
          .exec();
      });
    }
    return affected;
  }

  /** Sums a customer's counted orders into the profile (creating a placeholder before its customer.created). */
  private recomputeBehaviour(customerId: string): Promise<void> {
    return this.serial.run(customerId, async () => {
      const facts = await this.orderFacts.find({ customerId }).lean().exec();
      const totals = new Map<string, number>();
      let count = 0;
      let last: Date | null = null;
      for (const fact of facts) {
        if (!fact.counted) continue;
        count += 1;
        totals.set(fact.currency, (totals.get(fact.currency) ?? 0) + fact.amountMinor);
        if (fact.paidAt && (!last || fact.paidAt > last)) last = fact.paidAt;
      }
      const spend = [...totals.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amountMinor]) => ({ currency, amountMinor }));
      await this.profiles
        .updateOne(
          { _id: customerId },
          { $set: { spend, paidOrderCount: count, lastOrderAt: last, valueTier: valueTierOf(spend, this.tierPolicy), updatedAt: new Date() }, $setOnInsert: { customerVersion: 0, deleted: false, mergedInto: null, tags: [] } },
          { upsert: true },
        )
        .exec();
    });
  }
}
