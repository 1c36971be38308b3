import { randomBytes } from 'node:crypto';
import { hasAnyRole, requireRole, Role, type AuthUser } from '@crm/auth';
import { appendEvents, OUTBOX_FIELD, PoisonEventError, type CloudEvent, type OutboxRelay } from '@crm/events';
import type { Money } from '@crm/money';
import { PerKeySerializer, isDuplicateKey } from '@crm/mongo';
import { ReferralEventType, referralEvent } from './referral.events.js';
import { ReferralException } from './referral.errors.js';
import type { ReferralModels, ReferralRecord } from './referral.model.js';
import type { PortalCustomer } from '../customer-profile/customer-profile.service.js';

const MARKETERS = [Role.MARKETER] as const;
const READERS = [Role.MARKETER, Role.SALES_MANAGER, Role.ANALYST] as const;
const OBJECT_ID = /^[0-9a-f]{24}$/i;
/** Crockford base32 without I, L, O, U: nothing to misread when a code is read out or typed. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE = /^[0-9A-HJKMNP-TV-Z]{8}$/;
/** How a sign-up carries a code: the customer's `source` is `referral:<CODE>`. */
export const REFERRAL_SOURCE = /^referral:([0-9a-z]{8})$/i;
export const REFERRAL_EVENTS = ['customer.created', 'order.paid'] as const;

export interface ReferralRewards {
  referrer: Money;
  referee: Money;
}

const newCode = () => Array.from(randomBytes(8), (b) => ALPHABET[b % 32]).join('');

/**
 * Referrals (MKT-5). Guards: no self-referral; one referral per referee (its insert is the claim);
 * one reward per referee (a conditional update from "not rewarded"): replayed events and repeated
 * claims find it done.
 */
export class ReferralService {
  private readonly serial = new PerKeySerializer();

  constructor(
    private readonly models: ReferralModels,
    private readonly relay: OutboxRelay,
    private readonly rewards: ReferralRewards,
    private readonly portalCustomer: PortalCustomer,
  ) {}

  get serializer() {
    return this.serial;
  }

  /** The customer's code, created on first ask (one per customer, also across replicas). */
  async codeOf(customerId: string): Promise<string> {
    const id = customerId.toLowerCase();
    for (;;) {
      const existing = await this.models.customerCodes.findById(id).lean().exec();
      if (existing) return existing.code;
      const code = newCode();
      try {
        await this.models.codes.collection.insertOne({ _id: code, customerId: id, createdAt: new Date() } as never);
      } catch (error) {
        if (isDuplicateKey(error)) continue; // another customer's code: draw again
        throw error;
      }
      try {
        await this.models.customerCodes.collection.insertOne({ _id: id, code } as never);
        return code;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // Another replica gave this customer a code first: that one stands (ours points to the same customer).
      }
    }
  }

  /** What a reader sees of a customer's referrals: staff, or the customer themself. */
  async forCustomer(customerId: string, user: AuthUser) {
    if (!hasAnyRole(user, READERS) && (await this.portalCustomer(user.id)) !== customerId.toLowerCase()) requireRole(user, READERS);
    const id = customerId.toLowerCase();
    const [code, referredBy, referred] = await Promise.all([
      this.codeOf(id),
      this.models.referrals.findById(id).lean<ReferralRecord>().exec(),
      this.models.referrals.find({ referrerId: id }).lean<ReferralRecord[]>().exec(),
    ]);
    return { code, referredBy, referred: referred.sort((a, b) => b.recordedAt.getTime() - a.recordedAt.getTime()) };
  }

  async mine(user: AuthUser) {
    requireRole(user, [Role.CUSTOMER]);
    const customerId = await this.portalCustomer(user.id);
    return customerId ? this.forCustomer(customerId, user) : null;
  }

  async recordByHand(code: string, refereeId: string, user: AuthUser): Promise<ReferralRecord> {
    requireRole(user, MARKETERS);
    if (!OBJECT_ID.test(refereeId)) throw new ReferralException('REFERRAL_INVALID_INPUT', 'Invalid referral', [{ field: 'refereeId', message: 'Not a customer id' }]);
    return this.record(code, refereeId.toLowerCase(), `user:${user.id}`);
  }

  async claimByHand(refereeId: string, orderId: string | null | undefined, user: AuthUser): Promise<ReferralRecord> {
    requireRole(user, MARKETERS);
    const referral = OBJECT_ID.test(refereeId) ? await this.models.referrals.findById(refereeId.toLowerCase()).lean<ReferralRecord>().exec() : null;
    if (!referral) throw new ReferralException('REFERRAL_NOT_FOUND', `No referral of customer ${refereeId}`, [{ field: 'refereeId', message: 'Not referred' }]);
    const rewarded = await this.reward(referral._id, orderId ?? null);
    if (!rewarded) throw new ReferralException('REFERRAL_ALREADY_REWARDED', `The referral of ${refereeId} was rewarded on ${referral.rewardedAt?.toISOString() ?? 'an earlier claim'}`);
    return rewarded;
  }

  /** Applies `customer.created` (a sign-up with a code) and `order.paid` (the first paid order rewards). */
  async apply(event: CloudEvent): Promise<void> {
    const data = (event.data ?? {}) as { customerId?: unknown; source?: unknown; orderId?: unknown };
    if (typeof data.customerId !== 'string' || !OBJECT_ID.test(data.customerId)) throw new PoisonEventError(`${event.type} ${event.id} lacks a valid customerId`);
    const customerId = data.customerId.toLowerCase();
    if (event.type === 'customer.created') {
      const match = typeof data.source === 'string' ? REFERRAL_SOURCE.exec(data.source.trim()) : null;
      if (!match) return;
      // A bad or self-referring code on a sign-up is the customer's mistake, not a poison event: no referral.
      await this.record(match[1]!, customerId, 'sign-up').catch((error: unknown) => {
        if (!(error instanceof ReferralException)) throw error;
      });
      return;
    }
    await this.reward(customerId, typeof data.orderId === 'string' ? data.orderId.toLowerCase() : null);
  }

  private async record(code: string, refereeId: string, recordedBy: string): Promise<ReferralRecord> {
    const normalized = code.trim().toUpperCase();
    if (!CODE.test(normalized)) throw new ReferralException('REFERRAL_INVALID_INPUT', 'Invalid referral', [{ field: 'code', message: '8 characters of 0-9 and A-Z (no I, L, O, U)' }]);
    const owner = await this.models.codes.findById(normalized).lean().exec();
    if (!owner) throw new ReferralException('REFERRAL_NOT_FOUND', `No referral code ${normalized}`, [{ field: 'code', message: 'Unknown code' }]);
    if (owner.customerId === refereeId) throw new ReferralException('REFERRAL_SELF', 'A customer cannot refer themself', [{ field: 'refereeId', message: 'The code is this customer\'s own' }]);
    const now = new Date();
    const referral: ReferralRecord = { _id: refereeId, referrerId: owner.customerId, code: normalized, recordedBy, recordedAt: now, rewardedAt: null, rewardOrderId: null, referrerReward: null, refereeReward: null, version: 1 };
    try {
      await this.models.referrals.collection.insertOne({ ...referral, [OUTBOX_FIELD]: [referralEvent(ReferralEventType.RECORDED, referral, now)] } as never);
    } catch (error) {
      if (isDuplicateKey(error)) throw new ReferralException('REFERRAL_ALREADY_REFERRED', `Customer ${refereeId} was already referred`, [{ field: 'refereeId', message: 'Already referred' }]);
      throw error;
    }
    this.relay.notify(this.models.referrals, refereeId);
    return referral;
  }

  /** Rewards both sides once: a conditional update from "not rewarded" with its event. Null when there is nothing (left) to reward. */
  private reward(refereeId: string, orderId: string | null): Promise<ReferralRecord | null> {
    return this.serial.run(refereeId, async () => {
      const referral = await this.models.referrals.findById(refereeId).lean<ReferralRecord>().exec();
      if (!referral || referral.rewardedAt) return null;
      const now = new Date();
      const next: ReferralRecord = { ...referral, rewardedAt: now, rewardOrderId: orderId, referrerReward: this.rewards.referrer, refereeReward: this.rewards.referee, version: referral.version + 1 };
      const result = await this.models.referrals.collection.updateOne(
        { _id: refereeId, version: referral.version, rewardedAt: null } as never,
        { $set: { rewardedAt: now, rewardOrderId: orderId, referrerReward: next.referrerReward, refereeReward: next.refereeReward, version: next.version }, ...appendEvents([referralEvent(ReferralEventType.REWARDED, next, now)]) } as never,
      );
      if (result.matchedCount === 0) return null;
      this.relay.notify(this.models.referrals, refereeId);
      return next;
    });
  }
}
