import { randomUUID } from 'node:crypto';
import { requireRole, Role, type AuthUser } from '@crm/auth';
import { appendEvents, type OutboxRelay } from '@crm/events';
import { isDuplicateKey } from '@crm/mongo';
import type { ConsentService } from '../consent/consent.service.js';
import type { ContactChannel } from '../consent/consent.model.js';
import { MessageException } from './message.errors.js';
import { messageSent } from './message.events.js';
import type { MessageChannel } from './message.channels.js';
import type { MessageModel, MessageRecord } from './message.model.js';

const MARKETERS = [Role.MARKETER] as const;
const READERS = [Role.MARKETER, Role.SALES_MANAGER, Role.ANALYST] as const;
const OBJECT_ID = /^[0-9a-f]{24}$/i;
const PLACEHOLDER = /\{\{\s*([a-zA-Z]+)\s*\}\}/g;

/** Placeholders a template uses that are not among `known`. */
export function unknownPlaceholders(template: string, known: readonly string[]): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((name) => !known.includes(name)))];
}

/** Fills `{{name}}`-style placeholders (all must be known: check with `unknownPlaceholders` first). */
export function render(template: string, values: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (_all, name: string) => values[name] ?? '');
}

export interface SendRequest {
  customerId: string;
  channel: ContactChannel;
  /** Same occasion, same customer: sent once. */
  occasion: string;
  subject: string;
  body: string;
  campaignId?: string | null;
}

/**
 * Sends marketing messages (MKT-3) exactly once per customer and occasion: the message document's
 * insert is the claim; delivery follows; SENT and `message.sent` are one update. Without consent the
 * message is SKIPPED (scheduled sends) or refused (sendMessage). A crash between delivery and the
 * update leaves it PENDING: delivery is at least once at that point (an SMTP server cannot be asked).
 */
export class MessageService {
  private readonly channels = new Map<ContactChannel, MessageChannel>();

  constructor(
    private readonly messages: MessageModel,
    private readonly relay: OutboxRelay,
    private readonly consents: ConsentService,
    channels: MessageChannel[],
    private readonly names: (customerId: string) => Promise<string | null>,
    private readonly companyName: string,
  ) {
    for (const channel of channels) this.channels.set(channel.channel, channel);
  }

  /** Placeholders every message may use; care plans add their own. */
  static readonly PLACEHOLDERS = ['name', 'company'] as const;

  async sendNow(input: { customerId: string; channel: ContactChannel; subject: string; body: string; campaignId?: string | null; idempotencyKey?: string | null }, user: AuthUser): Promise<MessageRecord> {
    requireRole(user, MARKETERS);
    const problems = [];
    if (!OBJECT_ID.test(input.customerId)) problems.push({ field: 'input.customerId', message: 'Not a customer id' });
    if (!input.subject.trim() || input.subject.length > 200) problems.push({ field: 'input.subject', message: '1 to 200 characters' });
    if (!input.body.trim() || input.body.length > 20_000) problems.push({ field: 'input.body', message: '1 to 20000 characters' });
    for (const field of ['subject', 'body'] as const) {
      const unknown = unknownPlaceholders(input[field], MessageService.PLACEHOLDERS);
      if (unknown.length) problems.push({ field: `input.${field}`, message: `Unknown placeholder ${unknown.map((u) => `{{${u}}}`).join(', ')} (known: {{name}}, {{company}})` });
    }
    if (input.campaignId && !OBJECT_ID.test(input.campaignId)) problems.push({ field: 'input.campaignId', message: 'Not a campaign id' });
    if (input.idempotencyKey && !/^[\w:.-]{1,100}$/.test(input.idempotencyKey)) problems.push({ field: 'input.idempotencyKey', message: 'Up to 100 of letters, digits and _ : . -' });
    if (problems.length) throw new MessageException('MESSAGE_INVALID_INPUT', 'Invalid message', problems);
    const customerId = input.customerId.toLowerCase();
    if (!(await this.consents.addressFor(customerId, input.channel))) {
      throw new MessageException('MESSAGE_NO_CONSENT', `Customer ${customerId} has not agreed to ${input.channel} messages`, [{ field: 'input.channel', message: 'No consent on this channel' }]);
    }
    const occasion = `manual:${input.idempotencyKey ?? randomUUID()}`;
    return (await this.send({ customerId, channel: input.channel, occasion, subject: input.subject, body: input.body, campaignId: input.campaignId?.toLowerCase() ?? null }, {})).message;
  }

  /**
   * One message for one occasion (scheduled sends call this directly): the message as stored, and
   * what this call did (`ALREADY_DONE` when the occasion had reached the customer before).
   */
  async send(request: SendRequest, extraValues: Record<string, string>): Promise<{ message: MessageRecord; outcome: 'SENT' | 'SKIPPED' | 'FAILED' | 'ALREADY_DONE' }> {
    const done = (message: MessageRecord) => ({ message, outcome: 'ALREADY_DONE' as const });
    const _id = `${request.occasion}:${request.customerId}`;
    const now = new Date();
    const existing = await this.messages.findById(_id).lean<MessageRecord>().exec();
    if (existing && existing.status !== 'FAILED') return done(existing);
    const address = await this.consents.addressFor(request.customerId, request.channel);
    const values = { name: (await this.names(request.customerId)) ?? '', company: this.companyName, ...extraValues };
    const message: MessageRecord = {
      _id,
      customerId: request.customerId,
      channel: request.channel,
      occasion: request.occasion,
      campaignId: request.campaignId ?? null,
      subject: render(request.subject, values),
      body: render(request.body, values),
      status: address ? 'PENDING' : 'SKIPPED',
      reason: address ? null : `No consent to ${request.channel} messages`,
      to: address,
      deliveredVia: null,
      sentAt: null,
      attempts: (existing?.attempts ?? 0) + (address ? 1 : 0),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    try {
      if (existing) {
        const retried = await this.writing(_id, () => this.messages.collection.updateOne({ _id, status: 'FAILED', attempts: existing.attempts } as never, { $set: message } as never));
        if (retried.matchedCount === 0) return done((await this.messages.findById(_id).lean<MessageRecord>().exec())!);
      } else {
        await this.messages.collection.insertOne(message as never);
      }
    } catch (error) {
      if (isDuplicateKey(error)) return done((await this.messages.findById(_id).lean<MessageRecord>().exec())!);
      throw error;
    }
    if (!address) return { message, outcome: 'SKIPPED' };
    const channel = this.channels.get(request.channel);
    try {
      if (!channel) throw new Error(`No ${request.channel} channel is configured`);
      await channel.deliver({ to: address, subject: message.subject, body: message.body });
    } catch (error) {
      const reason = error instanceof Error ? error.message.slice(0, 500) : String(error);
      await this.writing(_id, () => this.messages.collection.updateOne({ _id } as never, { $set: { status: 'FAILED', reason, updatedAt: new Date() } } as never));
      return { message: { ...message, status: 'FAILED', reason }, outcome: 'FAILED' };
    }
    const sentAt = new Date();
    const event = messageSent(message, channel.via, sentAt);
    await this.writing(_id, () =>
      this.messages.collection.updateOne({ _id } as never, { $set: { status: 'SENT', deliveredVia: channel.via, sentAt, updatedAt: sentAt }, ...appendEvents([event]) } as never),
    );
    this.relay.notify(this.messages, _id);
    return { message: { ...message, status: 'SENT', deliveredVia: channel.via, sentAt }, outcome: 'SENT' };
  }

  /** Updates of a stored message, in step with the relay (FerretDB v1: see OutboxRelay.writing). */
  private writing<T>(id: string, work: () => Promise<T>): Promise<T> {
    return this.relay.writing(this.messages, id, work);
  }

  async of(customerId: string, first: number, user: AuthUser): Promise<MessageRecord[]> {
    requireRole(user, READERS);
    const found = await this.messages.find({ customerId: customerId.toLowerCase() }).lean<MessageRecord[]>().exec();
    return found.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).slice(0, Math.min(Math.max(first, 1), 100));
  }
}

