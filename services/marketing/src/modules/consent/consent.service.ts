import { appendEvents, OUTBOX_FIELD, type OutboxRelay } from '@crm/events';
import { hasAnyRole, requireRole, Role, type AuthUser } from '@crm/auth';
import { PerKeySerializer } from '@crm/mongo';
import { ConsentException } from './consent.errors.js';
import { consentChanged } from './consent.events.js';
import type { ContactChannel, ContactConsentModel, ContactConsentRecord } from './consent.model.js';
import type { PortalCustomer } from '../customer-profile/customer-profile.service.js';

const MARKETERS = [Role.MARKETER] as const;
const READERS = [Role.MARKETER, Role.SALES_MANAGER, Role.ANALYST] as const;
const OBJECT_ID = /^[0-9a-f]{24}$/i;
const ADDRESS: Record<ContactChannel, { pattern: RegExp; message: string }> = {
  EMAIL: { pattern: /^[^\s@]{1,64}@[^\s@]{1,255}\.[^\s@]{2,}$/, message: 'An email address' },
  SMS: { pattern: /^\+[1-9]\d{6,14}$/, message: 'A mobile number in international form, e.g. +8613912345678' },
  WECHAT: { pattern: /^[A-Za-z0-9_-]{6,64}$/, message: 'A WeChat OpenID' },
};

/**
 * Consent per customer and channel (MKT-3). Marketing sends only where the customer opted in; the
 * address comes with the consent (the customers service keeps contact data out of its events).
 */
export class ConsentService {
  readonly serial = new PerKeySerializer();

  constructor(
    private readonly consents: ContactConsentModel,
    private readonly relay: OutboxRelay,
    private readonly portalCustomer: PortalCustomer,
  ) {}

  private async requireSelfOrRoles(customerId: string, user: AuthUser, roles: readonly Role[]): Promise<'STAFF' | 'CUSTOMER'> {
    if (hasAnyRole(user, roles)) return 'STAFF';
    if (user.roles.includes(Role.CUSTOMER) && (await this.portalCustomer(user.id)) === customerId) return 'CUSTOMER';
    requireRole(user, roles);
    return 'STAFF';
  }

  async set(customerId: string, input: { channel: ContactChannel; optedIn: boolean; address?: string | null }, user: AuthUser): Promise<ContactConsentRecord> {
    if (!OBJECT_ID.test(customerId)) throw new ConsentException('CONSENT_INVALID_INPUT', 'Invalid consent', [{ field: 'customerId', message: 'Not a customer id' }]);
    const id = customerId.toLowerCase();
    const source = await this.requireSelfOrRoles(id, user, MARKETERS);
    const address = input.address?.trim() || null;
    const rule = ADDRESS[input.channel];
    if (address && !rule.pattern.test(address)) throw new ConsentException('CONSENT_INVALID_INPUT', 'Invalid consent', [{ field: 'input.address', message: rule.message }]);
    const _id = `${id}:${input.channel}`;
    return this.serial.run(_id, async () => {
      const current = await this.consents.findById(_id).lean<ContactConsentRecord>().exec();
      const nextAddress = address ?? current?.address ?? null;
      if (input.optedIn && !nextAddress) throw new ConsentException('CONSENT_INVALID_INPUT', 'Invalid consent', [{ field: 'input.address', message: `Required to opt in: ${rule.message.toLowerCase()}` }]);
      const now = new Date();
      const next: ContactConsentRecord = { _id, customerId: id, channel: input.channel, optedIn: input.optedIn, address: nextAddress, source, changedBy: user.id, changedAt: now, version: (current?.version ?? 0) + 1 };
      const event = consentChanged(next);
      if (current) {
        const { _id: _ignored, ...fields } = next;
        const result = await this.consents.collection.updateOne({ _id, version: current.version } as never, { $set: fields, ...appendEvents([event]) } as never);
        if (result.matchedCount === 0) throw new ConsentException('CONSENT_INVALID_INPUT', 'Changed meanwhile; retry');
      } else {
        await this.consents.collection.insertOne({ ...next, [OUTBOX_FIELD]: [event] } as never);
      }
      this.relay.notify(this.consents, _id);
      return next;
    });
  }

  async of(customerId: string, user: AuthUser): Promise<ContactConsentRecord[]> {
    const id = customerId.toLowerCase();
    await this.requireSelfOrRoles(id, user, READERS);
    return (await this.consents.find({ customerId: id }).lean<ContactConsentRecord[]>().exec()).sort((a, b) => a.channel.localeCompare(b.channel));
  }

  /** Where to reach a customer on a channel, or null without consent (for the message module). */
  async addressFor(customerId: string, channel: ContactChannel): Promise<string | null> {
    const consent = await this.consents.findById(`${customerId.toLowerCase()}:${channel}`).lean<ContactConsentRecord>().exec();
    return consent?.optedIn && consent.address ? consent.address : null;
  }
}
