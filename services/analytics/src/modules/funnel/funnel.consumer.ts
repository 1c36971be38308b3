import { z } from 'zod';
import { PoisonEventError, type CloudEvent, type EventConsumer } from '@crm/events';
import { isDuplicateKey } from '@crm/mongo';
import type { Model } from 'mongoose';
import type { ReadModelConsumerFactory } from '../read-model/read-model.consumers.js';
import type { FunnelModels } from './funnel.model.js';

const lead = z.object({
  leadId: z.string().min(1),
  source: z.string().min(1),
  campaignCode: z.string().nullable(),
  status: z.string().min(1),
  createdAt: z.iso.datetime(),
  version: z.number().int().nonnegative(),
  opportunityId: z.string().nullable().optional(),
  convertedAt: z.iso.datetime().optional(),
});
const opportunity = z.object({
  opportunityId: z.string().min(1),
  customerId: z.string().min(1),
  leadId: z.string().nullable(),
  campaignCode: z.string().nullable(),
  status: z.string().min(1),
  amount: z.object({ amountMinor: z.number().int().safe(), currency: z.string().regex(/^[A-Z]{3}$/) }),
  closedAt: z.iso.datetime().nullable(),
  version: z.number().int().nonnegative(),
});

export const FUNNEL_EVENT_TYPES = [
  'lead.created', 'lead.updated', 'lead.qualified', 'lead.disqualified', 'lead.converted',
  'opportunity.created', 'opportunity.updated', 'opportunity.stage-changed', 'opportunity.won', 'opportunity.lost',
];

function invalid(event: CloudEvent, error: z.ZodError): never {
  throw new PoisonEventError(`${event.type} ${event.id}: ${error.issues.map((i) => i.path.join('.') || 'data').join(', ')} invalid`);
}

/** Inserts or replaces a fact when the event's version is newer; older and repeated events change nothing. */
async function keepNewest(model: Model<any>, id: string, version: number, fact: Record<string, unknown>, keep: (current: Record<string, any>) => Record<string, unknown> = () => ({})): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const current = await model.findById(id).lean<Record<string, any>>().exec(); // eslint-disable-line @typescript-eslint/no-explicit-any
  if (!current) {
    try {
      await model.collection.insertOne({ _id: id, version, ...fact } as never);
      return;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      throw new Error(`fact ${id} was created concurrently; retrying`, { cause: error });
    }
  }
  if (current.version >= version) return;
  await model.collection.updateOne({ _id: id, version: current.version } as never, { $set: { version, ...fact, ...keep(current) } });
}

export async function applyFunnelEvent(models: FunnelModels, event: CloudEvent): Promise<void> {
  if (event.type.startsWith('lead.')) {
    const parsed = lead.safeParse(event.data);
    if (!parsed.success) invalid(event, parsed.error);
    const d = parsed.data;
    const converted = event.type === 'lead.converted' ? { convertedAt: new Date(d.convertedAt ?? event.time), opportunityId: d.opportunityId ?? null } : {};
    await keepNewest(models.leads, d.leadId, d.version, { source: d.source, campaignCode: d.campaignCode, status: d.status, createdAt: new Date(d.createdAt), ...converted }, (current) =>
      event.type === 'lead.converted' ? {} : { convertedAt: current.convertedAt ?? null, opportunityId: current.opportunityId ?? null },
    );
    return;
  }
  const parsed = opportunity.safeParse(event.data);
  if (!parsed.success) invalid(event, parsed.error);
  const d = parsed.data;
  await keepNewest(
    models.opportunities,
    d.opportunityId,
    d.version,
    { leadId: d.leadId, customerId: d.customerId, campaignCode: d.campaignCode, status: d.status, amountMinor: d.amount.amountMinor, currency: d.amount.currency, closedAt: d.closedAt ? new Date(d.closedAt) : null, firstSeenAt: new Date(event.time) },
    (current) => ({ firstSeenAt: current.firstSeenAt }),
  );
}

export function createFunnelConsumer(factory: ReadModelConsumerFactory, models: FunnelModels): EventConsumer {
  return factory.create('funnel', ['lead', 'opportunity'], FUNNEL_EVENT_TYPES, (event) => applyFunnelEvent(models, event));
}
